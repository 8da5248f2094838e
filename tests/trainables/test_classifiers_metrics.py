import pytest
import torch

from trainables.classifiers import load_classifiers
from trainables.metrics import class_coverage, sync_rate


def test_classifiers_learn_the_tiny_corpus_and_are_cached(tiny_corpus, tiny_classifiers):
    img, aud, acc = load_classifiers(tiny_classifiers)
    assert acc["image"] > 0.8 and acc["audio"] > 0.8
    mtime = tiny_classifiers.stat().st_mtime_ns
    from trainables.classifiers import ensure_classifiers

    assert ensure_classifiers(tiny_corpus) == tiny_classifiers
    assert tiny_classifiers.stat().st_mtime_ns == mtime


def test_sync_rate_of_synchronous_and_independent_predictions():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 10, (5000,), generator=g)
    assert sync_rate(a, a.clone()) == 1.0
    b = torch.randint(0, 10, (5000,), generator=g)
    assert abs(sync_rate(a, b) - 0.1) < 0.02
    assert class_coverage(torch.zeros(10, dtype=torch.long), 10) == 0.1
    with pytest.raises(ValueError):
        sync_rate(a, b[:10])

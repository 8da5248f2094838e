import json

import pytest
import torch

from trainables.classifiers import load_classifiers
from trainables.metrics import class_coverage, sync_kappa, sync_rate


def test_classifiers_learn_the_tiny_corpus_and_are_cached(tiny_corpus, tiny_classifiers):
    img, aud, acc = load_classifiers(tiny_classifiers)
    assert acc["image"] > 0.8 and acc["audio"] > 0.8
    mtime = tiny_classifiers.stat().st_mtime_ns
    from trainables.classifiers import ensure_classifiers

    assert ensure_classifiers(tiny_corpus, epochs_image=25, epochs_audio=25) == tiny_classifiers
    assert tiny_classifiers.stat().st_mtime_ns == mtime
    # judges trained otherwise are cached apart: a 1-epoch pair never stands in for the 25-epoch one
    quick = ensure_classifiers(tiny_corpus, epochs_image=1, epochs_audio=1)
    assert quick != tiny_classifiers and tiny_classifiers.stat().st_mtime_ns == mtime
    assert json.loads(quick.with_suffix(".json").read_text())["settings"] == {"epochs_image": 1, "epochs_audio": 1, "seed": 0}
    assert load_classifiers(tiny_classifiers)[2] == acc


def test_sync_rate_of_synchronous_and_independent_predictions():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 10, (5000,), generator=g)
    assert sync_rate(a, a.clone()) == 1.0
    b = torch.randint(0, 10, (5000,), generator=g)
    assert abs(sync_rate(a, b) - 0.1) < 0.02
    assert class_coverage(torch.zeros(10, dtype=torch.long), 10) == 0.1
    with pytest.raises(ValueError):
        sync_rate(a, b[:10])


def test_sync_kappa_discounts_agreement_by_chance_and_by_collapse():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 10, (5000,), generator=g)
    b = torch.randint(0, 10, (5000,), generator=g)
    assert sync_kappa(a, a.clone(), 10) == pytest.approx(1.0)
    assert abs(sync_kappa(a, b, 10)) < 0.02
    same = torch.full((300,), 3)
    assert sync_rate(same, same.clone()) == 1.0 and sync_kappa(same, same.clone(), 10) == 0.0  # both collapsed
    half = torch.where(torch.arange(5000) % 2 == 0, a, b)  # every other pair synchronous
    assert sync_kappa(a, half, 10) == pytest.approx((sync_rate(a, half) - 0.1) / 0.9, abs=0.02)
    with pytest.raises(ValueError):
        sync_kappa(a, b[:10], 10)


def test_sync_kappa_is_exactly_zero_when_no_pair_agrees_and_no_agreement_was_expected():
    """Generators collapsed onto disjoint class sets: p_o = p_e = 0, kappa 0 exactly. torchmetrics' float32
    gave +-1.2e-7 here, and ASHA (strict ``<`` cutoff) then stopped one such trial and kept another by that noise."""
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        a = torch.randint(0, 3, (300,), generator=g)
        b = torch.randint(3, 6, (300,), generator=g)
        assert sync_kappa(a, b, 10) == 0.0

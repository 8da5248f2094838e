import json

import pytest
import torch
import torch.nn.functional as F

from trainables.classifiers import load_classifiers
from trainables.metrics import class_coverage, soft_sync_kappa, sync_kappa, sync_rate


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


def test_soft_sync_kappa_equals_sync_kappa_for_certain_judges_and_follows_their_confidence():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 10, (2000,), generator=g)
    b = torch.where(torch.arange(2000) % 2 == 0, a, torch.randint(0, 10, (2000,), generator=g))
    one_hot = lambda x: F.one_hot(x, 10).float()  # noqa: E731
    assert soft_sync_kappa(one_hot(a), one_hot(b)) == pytest.approx(sync_kappa(a, b, 10), abs=1e-5)
    assert soft_sync_kappa(one_hot(a), one_hot(a)) == pytest.approx(1.0)
    # the same labels, judged less surely: lower, never equal
    unsure = 0.6 * one_hot(b) + 0.4 / 10
    assert 0 < soft_sync_kappa(one_hot(a), unsure) < soft_sync_kappa(one_hot(a), one_hot(b))
    same = one_hot(torch.full((300,), 3))
    assert soft_sync_kappa(same, same) == 0.0  # collapsed onto one class: all agreement is chance
    with pytest.raises(ValueError):
        soft_sync_kappa(one_hot(a), one_hot(b)[:10])


def test_soft_sync_kappa_ranks_trials_whose_label_kappa_ties_at_zero():
    """Two pairs of generators collapsed onto different classes (image 0, audio 5): label kappa 0 for both, a
    tie Ray's ASHA (strict cutoff) cannot break. In one, the judges' runner-up classes agree pair by pair (the
    code already carries the class); in the other they are independent. The soft kappa tells them apart."""
    g = torch.Generator().manual_seed(0)
    n, others = 500, torch.tensor([1, 2, 3, 4, 6, 7, 8, 9])

    def collapsed(top: int, runner_up: torch.Tensor) -> torch.Tensor:
        p = torch.zeros(n, 10)
        p[:, top] = 0.7
        p[torch.arange(n), runner_up] = 0.3
        return p

    c = others[torch.randint(0, 8, (n,), generator=g)]
    d = others[torch.randint(0, 8, (n,), generator=g)]
    image, audio_near, audio_far = collapsed(0, c), collapsed(5, c), collapsed(5, d)
    assert sync_kappa(image.argmax(1), audio_near.argmax(1), 10) == sync_kappa(image.argmax(1), audio_far.argmax(1), 10) == 0.0
    near, far = soft_sync_kappa(image, audio_near), soft_sync_kappa(image, audio_far)
    assert abs(far) < 0.01 < near

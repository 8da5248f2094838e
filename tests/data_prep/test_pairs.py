import numpy as np
import pytest

from data_prep.pairs import labelled_mask, pair_clips, select_per_class, split_by_class


def test_split_by_class_is_seeded_and_disjoint():
    ids = [f"{k}_{i}" for k in range(3) for i in range(10)]
    labels = [k for k in range(3) for _ in range(10)]
    a = split_by_class(ids, labels, 0.2, seed=0)
    assert len(a["test"]) == 6 and len(a["train"]) == 24 and not set(a["test"]) & set(a["train"])
    assert a == split_by_class(ids, labels, 0.2, seed=0)
    assert a != split_by_class(ids, labels, 0.2, seed=1)
    shuffled = np.random.default_rng(0).permutation(30)  # input order does not matter, only the ids
    b = split_by_class([ids[i] for i in shuffled], [labels[i] for i in shuffled], 0.2, seed=0)
    assert sorted(ids[shuffled[i]] for i in b["test"]) == sorted(ids[i] for i in a["test"])
    with pytest.raises(ValueError, match="class 2 has 1 clip"):
        split_by_class(["a", "b", "c"], [1, 1, 2], 0.5, seed=0)


def test_pairing_keeps_classes_and_balances():
    img = np.repeat(np.arange(4), 6)
    clips = np.repeat(np.arange(4), 3)
    for balanced in (False, True):
        c = pair_clips(img, clips, np.random.default_rng(0), balanced=balanced)
        assert np.array_equal(clips[c], img)
    c = pair_clips(img, clips, np.random.default_rng(0), balanced=True)
    assert all(np.bincount(c, minlength=12) == 2)  # every clip used exactly twice
    with pytest.raises(ValueError, match="no clip of class 3"):
        pair_clips(img, np.repeat(np.arange(3), 3), np.random.default_rng(0))


def test_select_per_class():
    labels = np.array([0, 1, 0, 1, 0, 2])
    assert list(select_per_class(labels, 2)) == [0, 1, 2, 3, 5]
    assert list(select_per_class(labels, None)) == list(range(6))


def test_labelled_subsets_are_deterministic_nested_and_sized():
    ids = np.arange(20000)
    m2, m4 = labelled_mask(ids, 0.2, seed=3), labelled_mask(ids, 0.4, seed=3)
    assert not (m2 & ~m4).any()  # 0.2 inside 0.4
    assert abs(m2.mean() - 0.2) < 0.02 and abs(m4.mean() - 0.4) < 0.02
    assert np.array_equal(m2, labelled_mask(ids, 0.2, seed=3))
    assert (m2 != labelled_mask(ids, 0.2, seed=4)).any()
    assert not labelled_mask(ids, 0.0).any() and labelled_mask(ids, 1.0).all()
    from trainables.data import labelled_mask as trainer_rule  # the trainers apply the same rule

    assert np.array_equal(trainer_rule(ids, 0.3, 7), labelled_mask(ids, 0.3, 7))

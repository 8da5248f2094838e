"""Splitting units per class, pairing images with same-class units, and labelled subsets.

Pairs carry stable ids (``pair_id``) and class labels, so any semi-supervised rate or pair ratio
is applied at training time from one prep: ``labelled_mask(pair_ids, rate, seed)`` is
deterministic for a seed and nested in the rate (the 0.2 subset lies inside the 0.4 subset).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def split_by_class(ids: Sequence[str], labels: Sequence[int], test_fraction: float, seed: int,
                   what: str = "clip") -> dict[str, list[int]]:
    """Per class, a seeded ``test_fraction`` (at least one, at most all but one) of the items for
    test, the rest for train. Items of a class are ordered by id first, so the split depends only on
    the set of ids. Returns positions into ``ids`` per split. A class with < 2 items is an error."""
    ids, labels = list(ids), np.asarray(labels)
    out: dict[str, list[int]] = {"train": [], "test": []}
    for k in sorted(set(labels.tolist())):
        pool = sorted(np.flatnonzero(labels == k).tolist(), key=lambda i: ids[i])
        if len(pool) < 2:
            raise ValueError(f"class {k} has {len(pool)} {what}(s); need at least 2 to split train/test")
        n_test = min(len(pool) - 1, max(1, round(test_fraction * len(pool))))
        perm = np.random.default_rng([seed, int(k)]).permutation(len(pool))
        out["test"] += [pool[i] for i in sorted(perm[:n_test])]
        out["train"] += [pool[i] for i in sorted(perm[n_test:])]
    return out


def pair_clips(image_labels: np.ndarray, clip_labels: np.ndarray, rng: np.random.Generator,
               balanced: bool = False) -> np.ndarray:
    """For each image, the index of a same-label clip: drawn uniformly (``balanced=False``), or
    (``balanced=True``) from a shuffled cycle through the class's clips, so each clip is used
    once before any is used twice (1-to-1 when the class has enough clips)."""
    image_labels, clip_labels = np.asarray(image_labels), np.asarray(clip_labels)
    choice = np.empty(len(image_labels), np.int64)
    for k in np.unique(image_labels):
        pool = np.flatnonzero(clip_labels == k)
        if pool.size == 0:
            raise ValueError(f"no clip of class {k} to pair with")
        where = np.flatnonzero(image_labels == k)
        if balanced:
            reps = -(-where.size // pool.size)
            choice[where] = np.concatenate([rng.permutation(pool) for _ in range(reps)])[:where.size]
        else:
            choice[where] = pool[rng.integers(0, pool.size, size=where.size)]
    return choice


def select_per_class(labels: np.ndarray, n: int | None) -> np.ndarray:
    """Positions of the first ``n`` items of each class in order (all if None)."""
    labels = np.asarray(labels)
    pos = np.arange(len(labels))
    if n is None:
        return pos
    rank = np.zeros(len(labels), np.int64)
    for k in np.unique(labels):
        rank[labels == k] = np.arange((labels == k).sum())
    return pos[rank < n]


def labelled_mask(pair_ids: np.ndarray, semi_rate: float, seed: int = 0) -> np.ndarray:
    """Which pairs count as labelled (paired) at rate ``semi_rate``: a deterministic, nested subset.

    Each pair id is hashed (splitmix64, salted with the seed) to u in [0, 1); a pair is labelled
    when u < semi_rate. The same rule as trainables.data.labelled_mask."""
    with np.errstate(over="ignore"):
        x = np.asarray(pair_ids).astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    u = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return u < semi_rate


LABELLED_RULE = ("labelled(pair_id, rate, seed) = u < rate, u = splitmix64(pair_id + seed * 0x9E3779B97F4A7C15) "
                 ">> 11 / 2**53 (data_prep.pairs.labelled_mask): deterministic per seed, nested in rate")

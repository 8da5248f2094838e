"""scikit-learn's 1797 real 8x8 handwritten digits (ship with scikit-learn: offline), as an MNIST twin.

Pixel values 0..16 become 0..255 and the images are resized (bicubic) to ``size`` x ``size``
(28 by default, MNIST's size). scikit-learn has no train/test split: a seeded stratified
``test_fraction`` per class (1/7 by default, MNIST's 10k of 70k) is the test split.
"""
from __future__ import annotations

import numpy as np

SKLEARN_DIGITS = "sklearn-digits"  # the source name accepted wherever an MNIST IDX directory is


def load_sklearn_digits(split: str, size: int | None = 28, test_fraction: float = 1 / 7,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 [N, size, size], labels int64 [N], ids int64 [N] = rows of ``load_digits``)."""
    from sklearn.datasets import load_digits

    from data_prep.features import resize_images

    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    d = load_digits()
    images = np.clip(np.rint(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    labels = d.target.astype(np.int64)
    test = np.zeros(len(labels), bool)
    for k in range(10):
        where = np.flatnonzero(labels == k)
        n_test = max(1, round(test_fraction * where.size))
        test[np.random.default_rng([seed, k]).permutation(where)[:n_test]] = True
    ids = np.flatnonzero(test if split == "test" else ~test)
    out = images[ids]
    if size is not None and size != out.shape[1]:
        out = resize_images(out, size)
    return out, labels[ids], ids.astype(np.int64)


def sklearn_version() -> str:
    import sklearn

    return sklearn.__version__

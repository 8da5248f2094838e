"""Tiny IDX datasets written locally in the real MNIST/Fashion-MNIST format (test helpers)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    a = np.asarray(array)
    header = bytes([0, 0, codes[a.dtype], a.ndim]) + np.array(a.shape, ">u4").tobytes()
    payload = header + a.astype(a.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_fake_fashion(directory: Path, per_class: int = 3, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The four standard IDX files with ``per_class`` random 28x28 images per class and split."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        labels = rng.permutation(np.repeat(np.arange(10), per_class)).astype(np.uint8)
        images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
        write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", labels)
        out[split] = (images, labels.astype(np.int64))
    return out

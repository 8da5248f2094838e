"""IDX files (MNIST / Fashion-MNIST format), gzipped or not.

Layout: magic ``00 00 <dtype> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the data
(big-endian, row-major).
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_PREFIX = {"train": "train", "test": "t10k"}
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
HOW_TO_GET = (
    "For Fashion-MNIST: `apt-get install dataset-fashion-mnist` (files under "
    f"{FASHION_MNIST_DIR}); for MNIST put its four IDX files (train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in one directory."
)


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip detected by its magic bytes) into a native-endian array."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: corrupt gzip stream ({e})") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES or raw[3] == 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim, dtype = raw[3], np.dtype(_DTYPES[raw[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX size mismatch: shape {shape} needs {expected} bytes, found {len(raw) - header}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def idx_split_files(directory: str | Path, split: str) -> tuple[Path, Path]:
    """Paths of the (images, labels) IDX files of ``split`` ("train" or "test"), ``.gz`` or plain."""
    if split not in _PREFIX:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(_PREFIX)}")
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"IDX directory {directory} does not exist. {HOW_TO_GET}")
    found = []
    for kind, nd in (("images", 3), ("labels", 1)):
        stem = f"{_PREFIX[split]}-{kind}-idx{nd}-ubyte"
        cands = [directory / (stem + ext) for ext in (".gz", "")]
        hit = next((c for c in cands if c.is_file()), None)
        if hit is None:
            raise FileNotFoundError(f"{directory}: missing {stem}.gz (or {stem}). {HOW_TO_GET}")
        found.append(hit)
    return found[0], found[1]


def load_idx_split(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, H, W] and labels int64 [N] of a standard MNIST/Fashion-MNIST split."""
    img_path, lab_path = idx_split_files(directory, split)
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{img_path}: expected uint8 [N, H, W], got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{lab_path}: {labels.shape} labels for {len(images)} images in {img_path}")
    return images, labels.astype(np.int64)

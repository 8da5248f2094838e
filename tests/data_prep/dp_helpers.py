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


def tone(freq: float, seconds: float = 0.4, sr: int = 8000, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    noise = 0.01 * np.random.default_rng(seed).standard_normal(t.size)
    return (0.4 * np.sin(2 * np.pi * freq * t) * np.hanning(t.size) + noise).astype(np.float32)


def write_fsdd(directory: Path, per_class: int = 4, sr: int = 8000) -> list[Path]:
    """A folder in FSDD layout: ``{digit}_{speaker}_{index}.wav``, a class-specific tone per clip."""
    import soundfile as sf

    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for d in range(10):
        for i in range(per_class):
            p = directory / f"{d}_spk{i % 2}_{i}.wav"
            sf.write(p, tone(300 + 150 * d + 10 * i, sr=sr, seed=d * 100 + i), sr, subtype="PCM_16")
            out.append(p)
    return out


def write_png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def write_class_folder(root: Path, classes=("violin", "tuba", "sax"), per_class: int = 4,
                       modalities=("image", "audio"), second_kind: str = "audio", sr: int = 16000) -> dict:
    """``<root>/<modality>/<class>/`` with RGB PNGs (class-specific brightness) and wavs (class tones)."""
    import soundfile as sf

    rng = np.random.default_rng(1)
    files: dict = {m: [] for m in modalities}
    for ci, c in enumerate(classes):
        for i in range(per_class):
            img = (rng.integers(0, 60, (40, 50, 3)) + 60 * ci).astype(np.uint8)
            files[modalities[0]].append(write_png(root / modalities[0] / c / f"{c}{i}.png", img))
            if second_kind == "image":
                files[modalities[1]].append(write_png(root / modalities[1] / c / f"{c}{i}.png", 255 - img))
            else:
                p = root / modalities[1] / c / f"{c}{i}.wav"
                p.parent.mkdir(parents=True, exist_ok=True)
                sf.write(p, tone(220 * (ci + 1) + 5 * i, seconds=0.3, sr=sr, seed=ci * 10 + i), sr, subtype="PCM_16")
                files[modalities[1]].append(p)
    return files

"""A tiny corpus in the data_prep Parquet contract, written directly (trainables know no data_prep)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def _class_pattern(label: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Noise plus a bright band whose position encodes the class: learnable in a few steps."""
    n, (h, w) = len(label), shape
    x = rng.uniform(-1, -0.6, size=(n, h, w))
    band = h // 10
    for i, k in enumerate(label):
        x[i, k * band:(k + 1) * band, :] = 0.9
    return x


def write_tiny_corpus(root: Path, n_train: int = 200, n_test: int = 60, seed: int = 0,
                      image_shape: tuple[int, int] = (28, 28)) -> Path:
    rng = np.random.default_rng(seed)
    out = root / "tiny-corpus"
    files: dict[str, dict] = {}
    for split, n, offset in (("train", n_train, 0), ("test", n_test, 10_000_000)):
        label = np.arange(n) % 10
        img = ((_class_pattern(label, image_shape, rng) + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
        aud = _class_pattern(label, (48, 48), rng).astype("<f2")
        table = pa.table({
            "pair_id": pa.array(np.arange(n) + offset, pa.int64()),
            "label": pa.array(label, pa.int64()),
            "image": pa.array([r.tobytes() for r in img], pa.binary()),
            "audio": pa.array([r.tobytes() for r in aud], pa.binary()),
            "image_id": pa.array(np.arange(n), pa.int64()),
            "audio_id": pa.array([f"{k}_{split}_{i % 7}" for i, k in enumerate(label)], pa.string()),
        })
        (out / split).mkdir(parents=True)
        half = n // 2
        names = []
        for j, part in enumerate((table.slice(0, half), table.slice(half))):
            pq.write_table(part, out / split / f"part-{j}.parquet")
            names.append(f"{split}/part-{j}.parquet")
        files[split] = {"rows": n, "files": names, "per_class": {str(k): int((label == k).sum()) for k in range(10)}}
    manifest = {
        "corpus": "tiny", "config_hash": f"tiny{seed}", "config": {},
        "classes": {"image": [str(k) for k in range(10)], "audio": [str(k) for k in range(10)]},
        "image": {"shape": list(image_shape), "dtype": "uint8"},
        "audio": {"shape": [48, 48], "dtype": "float16", "features": {
            "sample_rate": 8000, "n_fft": 256, "hop_length": 160, "n_mels": 48, "fmin": 0.0, "fmax": 4000.0, "top_db": 80.0}},
        "splits": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture(autouse=True)
def one_thread():
    """2 shared cores: one torch thread per test process is far faster than two fighting."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def corpus_writer():
    """``write_tiny_corpus``, for tests that need a corpus of another size."""
    return write_tiny_corpus


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_classifiers(tiny_corpus) -> Path:
    from trainables.classifiers import ensure_classifiers

    return ensure_classifiers(tiny_corpus, epochs_image=25, epochs_audio=25)

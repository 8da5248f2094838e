"""Reads the Parquet pairs written by ``data_prep`` (the manifest is the contract).

Rows: pair_id int64, label int64, image binary (uint8 HxW), audio binary (float16 HxW in [-1, 1]).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

COLUMNS = ["pair_id", "label", "image", "audio", "audio_id"]


def read_manifest(corpus_dir: str | Path) -> dict:
    path = Path(corpus_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest; build the corpus first (python -m data_prep build ...)")
    return json.loads(path.read_text())


def shapes(manifest: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """(image shape, audio shape) as (H, W) tuples."""
    return tuple(manifest["image"]["shape"]), tuple(manifest["audio"]["shape"])  # type: ignore[return-value]


def labelled_mask(pair_ids: np.ndarray, semi_rate: float, seed: int = 0) -> np.ndarray:
    """Which pairs the synchronizer may learn from: a deterministic, nested subset.

    Each pair id is hashed (splitmix64) to a number in [0, 1); a pair is labelled when that number
    is below ``semi_rate``, so the 0.2 subset lies inside the 0.4 subset for the same seed.
    """
    with np.errstate(over="ignore"):
        x = pair_ids.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    u = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return u < semi_rate


@dataclass
class PairArrays:
    """A split of the corpus in memory, compact: images uint8 and audio float16, (N, 1, H, W).

    ``images(i)`` / ``audios(i)`` give float32 tensors in [-1, 1] for the rows ``i``.
    """

    pair_id: np.ndarray
    label: np.ndarray
    image: np.ndarray
    audio: np.ndarray
    audio_id: np.ndarray

    def __len__(self) -> int:
        return len(self.label)

    def images(self, rows=slice(None)) -> torch.Tensor:
        return torch.from_numpy(self.image[rows]).float().div_(127.5).sub_(1.0)

    def audios(self, rows=slice(None)) -> torch.Tensor:
        return torch.from_numpy(self.audio[rows]).float()

    def shard(self, rank: int, world: int) -> "PairArrays":
        """Rows rank, rank + world, ... (data parallel)."""
        s = slice(rank, None, world)
        return PairArrays(self.pair_id[s], self.label[s], self.image[s], self.audio[s], self.audio_id[s])


def _fixed_width_bytes(column, row_bytes: int, name: str) -> np.ndarray:
    """The concatenated bytes of a binary column whose rows all hold ``row_bytes`` bytes (no copies per row)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else pa.array(column)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    offset_type = np.int64 if pa.types.is_large_binary(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=offset_type)[arr.offset:arr.offset + len(arr) + 1]
    if len(arr) and not (np.diff(offsets) == row_bytes).all():
        raise ValueError(f"column {name!r}: every row must hold {row_bytes} bytes (shape in the manifest)")
    return np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]] if len(arr) else np.zeros(0, np.uint8)


def decode(table: pa.Table, image_shape: tuple[int, int], audio_shape: tuple[int, int]) -> PairArrays:
    """Arrow table with the contract's columns -> PairArrays."""
    n_img, n_aud = image_shape[0] * image_shape[1], audio_shape[0] * audio_shape[1]
    img = _fixed_width_bytes(table.column("image"), n_img, "image").reshape(-1, 1, *image_shape)
    aud = _fixed_width_bytes(table.column("audio"), 2 * n_aud, "audio").view("<f2").reshape(-1, 1, *audio_shape)
    return PairArrays(
        pair_id=table.column("pair_id").to_numpy().astype(np.int64),
        label=table.column("label").to_numpy().astype(np.int64),
        image=img,
        audio=aud,
        audio_id=np.asarray(table.column("audio_id").to_pylist(), dtype=object),
    )


def load_split(corpus_dir: str | Path, split: str) -> PairArrays:
    """All rows of one split, read with pyarrow from the manifest's files."""
    manifest = read_manifest(corpus_dir)
    info = manifest["splits"].get(split)
    if info is None:
        raise KeyError(f"{corpus_dir}: no split {split!r}; splits: {sorted(manifest['splits'])}")
    files = [Path(corpus_dir) / f for f in info["files"]]
    table = pa.concat_tables([pq.read_table(f, columns=COLUMNS) for f in files]).sort_by("pair_id")
    return decode(table, *shapes(manifest))


def batches(
    data: PairArrays, batch_size: int, rng: np.random.Generator, semi_rate: float, seed: int,
    steps: int | None = None, device: torch.device | str = "cpu",
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Shuffled full batches (x_image, x_audio, label, labelled) for one epoch."""
    order = rng.permutation(len(data))
    n_batches = len(order) // batch_size
    if steps is not None:
        n_batches = min(n_batches, steps)
    mask = labelled_mask(data.pair_id, semi_rate, seed)
    for b in range(n_batches):
        i = order[b * batch_size:(b + 1) * batch_size]
        yield (
            data.images(i).to(device),
            data.audios(i).to(device),
            torch.from_numpy(data.label[i]).to(device),
            torch.from_numpy(mask[i]).to(device),
        )

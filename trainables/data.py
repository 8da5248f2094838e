"""Reads the Parquet pairs written by ``data_prep`` (the manifest is the contract).

Rows: pair_id int64, label int64, image binary (uint8 HxW), audio binary (float16 HxW in [-1, 1]).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from data_prep.manifest import load_manifest as read_manifest  # noqa: F401  (the contract's one reader, re-exported)
from data_prep.pairs import labelled_mask  # noqa: F401  (the corpus contract's rule, one copy, re-exported)

COLUMNS = ["pair_id", "label", "image", "audio", "audio_id"]


def shapes(manifest: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """(image shape, audio shape) as (H, W) tuples."""
    return tuple(manifest["image"]["shape"]), tuple(manifest["audio"]["shape"])  # type: ignore[return-value]


def class_count(manifest: dict) -> int:
    """The corpus's number of classes (its manifest's image class names)."""
    return len(manifest["classes"]["image"])


def evaluation_rows(labels: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` rows of a split that evaluation uses: the classes in turn (each class's rows in their
    stored order), so any ``n`` is as class-balanced as the split allows. ``data_prep`` stores a split
    sorted by class, so its first ``n`` rows would be its first few classes only."""
    labels = np.asarray(labels)
    rank = np.empty(len(labels), dtype=np.int64)  # a row's position within its class
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(len(where))
    return np.lexsort((labels, rank))[:max(0, int(n))]


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


def split_files(corpus_dir: str | Path, split: str, manifest: dict | None = None) -> list[str]:
    """The Parquet files of one split, as absolute paths."""
    manifest = manifest or read_manifest(corpus_dir)
    info = manifest["splits"].get(split)
    if info is None:
        raise KeyError(f"{corpus_dir}: no split {split!r}; splits: {sorted(manifest['splits'])}")
    return [str((Path(corpus_dir) / f).resolve()) for f in info["files"]]


def load_split(corpus_dir: str | Path, split: str) -> PairArrays:
    """All rows of one split, read with pyarrow from the manifest's files (evaluation, bare runs)."""
    manifest = read_manifest(corpus_dir)
    files = split_files(corpus_dir, split, manifest)
    table = pa.concat_tables([pq.read_table(f, columns=COLUMNS) for f in files]).sort_by("pair_id")
    return decode(table, *shapes(manifest))


def ray_dataset(corpus_dir: str | Path, split: str, blocks: int = 16):
    """The split as a Ray Dataset for ``TorchTrainer(datasets=...)``, in pair-id order.

    The Parquet files are read here with pyarrow and handed to Ray as blocks
    (``ray.data.from_blocks``), which starts no Ray task: Ray Data's own readers (file listing,
    metadata) ask for a whole CPU per task, which a machine or cluster whose CPUs are held by trials
    and Train workers in fractions never frees, and the trial would wait forever.
    """
    import ray.data

    manifest = read_manifest(corpus_dir)
    files = split_files(corpus_dir, split, manifest)
    table = pa.concat_tables([pq.read_table(f, columns=COLUMNS) for f in files]).sort_by("pair_id")
    n = table.num_rows
    k = max(1, min(blocks, n))
    ds = ray.data.from_blocks([table.slice(i * n // k, (i + 1) * n // k - i * n // k) for i in range(k)])
    # its progress bar lives as long as the workers hold the iterator and reprints on every log line
    ds.context.enable_progress_bars = False
    return ds


def arrays_from_shard(shard, manifest: dict, rank: int = 0, world: int = 1) -> PairArrays:
    """This worker's rows of the Ray Dataset it was given (``ray.train.get_dataset_shard``).

    Every worker iterates the whole (unsplit) dataset once and keeps rows rank, rank + world, ...
    of the pair-id order: the same rows for a rank on every run, and no Ray Data split task (see
    ``ray_dataset``). The corpora fit in memory (uint8 images, float16 spectrograms: ~5 KB a pair);
    the worker shuffles its rows locally every epoch.
    """
    blocks = [b for b in shard.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=2) if b.num_rows]
    if not blocks:
        raise ValueError("the worker's dataset is empty")
    table = pa.concat_tables([b.select(COLUMNS) for b in blocks]).sort_by("pair_id")
    return decode(table, *shapes(manifest)).shard(rank, world)


def batches(
    data: PairArrays, batch_size: int, rng: np.random.Generator, semi_rate: float, seed: int,
    steps: int | None = None, device: torch.device | str = "cpu", start: int = 0,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Shuffled full batches (x_image, x_audio, label, labelled) for one epoch: one pass over ``data``,
    or ``steps`` batches (passes repeat, each shuffled anew, where ``steps`` is more than one pass holds).

    ``start`` skips the epoch's first batches (resuming mid-epoch): the order is the same.
    """
    total = num_batches(len(data), batch_size, steps)
    per_pass = len(data) // batch_size
    passes = -(-total // per_pass) if per_pass else 0
    order = np.concatenate([rng.permutation(len(data))[:per_pass * batch_size] for _ in range(passes)] or [np.zeros(0, int)])
    mask = labelled_mask(data.pair_id, semi_rate, seed)
    for b in range(start, total):
        i = order[b * batch_size:(b + 1) * batch_size]
        yield (
            data.images(i).to(device),
            data.audios(i).to(device),
            torch.from_numpy(data.label[i]).to(device),
            torch.from_numpy(mask[i]).to(device),
        )


def num_batches(rows: int, batch_size: int, steps: int | None = None) -> int:
    """Full batches in one epoch over ``rows`` rows: one pass, or ``steps`` (0 where a pass holds no full batch)."""
    n = rows // batch_size
    return n if steps is None or n == 0 else steps

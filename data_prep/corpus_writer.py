"""A builder's ``Prepared`` sides -> the corpus on disk: pairs (each image with a same-class unit of
its split), Parquet shards written by Ray Data, and ``manifest.json`` (``data_prep.manifest``).

Row schema (the contract trainers read):
    pair_id int64 (train 0..N-1, test TEST_PAIR_OFFSET + 0..M-1), label int64, image binary
    (uint8 H*W row-major), audio binary (float16 little-endian H*W row-major, in [-1, 1]),
    image_id int64 (the image's row in its source; see manifest["image"]["ids"]), audio_id string.
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.arrow_rows import binary_rows
from data_prep.corpora import config_to_dict
from data_prep.corpora.common import SPLITS, Prepared
from data_prep.features import IMAGE_SCALE, image_to_unit
from data_prep.manifest import file_checksums, write_manifest
from data_prep.pairs import LABELLED_RULE, pair_clips
from data_prep.ray_featurize import data_context

log = logging.getLogger("data_prep")

TEST_PAIR_OFFSET = 10_000_000

SCHEMA = pa.schema([
    ("pair_id", pa.int64()), ("label", pa.int64()), ("image", pa.binary()),
    ("audio", pa.binary()), ("image_id", pa.int64()), ("audio_id", pa.string()),
])

ROW_GROUP_ROWS = 4096  # ~4096 * (image + decoded audio) bytes: a few MB per row group for Ray Data reads


def write_corpus(name: str, cfg: Any, chash: str, p: Prepared, tmp: Path, t0: float) -> None:
    import ray

    n_classes = len(p.classes["image"])
    splits: dict[str, dict] = {}
    image_shape = list(p.images["train"].data.shape[1:])
    audio_shape = list(p.units["train"].data.shape[1:])
    for si, split in enumerate(SPLITS):
        img, units = p.images[split], p.units[split]
        if len(img.labels) == 0:
            raise ValueError(f"{name}: the {split} split has no images")
        if p.choice is not None:
            choice = p.choice[split]
        else:
            choice = pair_clips(img.labels, units.labels, np.random.default_rng([cfg.seed, si]), balanced=p.balanced)
        if not np.array_equal(units.labels[choice], img.labels):
            raise RuntimeError(f"{name}/{split}: pairing mixed classes")  # guards explicit choices
        offset = TEST_PAIR_OFFSET if split == "test" else 0
        ids = [units.ids[j] for j in choice]
        shards = pair_tables(offset + np.arange(len(img.labels)), img.labels, img.data,
                              units.data.reshape(len(units.ids), -1).astype("<f2"), choice, ids,
                              np.asarray(img.ids, np.int64), cfg.num_shards)
        files = write_split(shards, tmp / split, math.ceil(len(img.labels) / cfg.num_shards))
        rows = sum(pq.read_metadata(tmp / f).num_rows for f in files)
        if rows != len(img.labels):
            raise RuntimeError(f"{tmp / split}: wrote {rows} rows, expected {len(img.labels)}")
        splits[split] = {
            "rows": rows,
            "per_class": {str(k): int((img.labels == k).sum()) for k in range(n_classes)},
            "files": files,
            "checksums": file_checksums(tmp, files),
            "clips": len(units.ids),
            "clips_per_class": {str(k): int((units.labels == k).sum()) for k in range(n_classes)},
            "source_files": p.units_per_source.get(split, len(units.ids)),
            "unique_clips_paired": int(len(np.unique(choice))),
            "pair_id_offset": offset,
            "stats": {"image": feature_stats(image_to_unit(img.data)), "audio": feature_stats(units.data)},
        }
        log.info("%s: %d pairs (%d units) -> %d files", split, rows, len(units.ids), len(files))

    versions = {"python": sys.version.split()[0], "numpy": np.__version__, "pyarrow": pa.__version__,
                "ray": ray.__version__}
    try:
        import soundfile

        versions["soundfile"] = soundfile.__version__
    except ImportError:  # a corpus without audio files, built where no audio library is installed
        pass
    if p.audio.get("representation") == "log_mel":
        import librosa
        import scipy

        versions.update(librosa=librosa.__version__, scipy=scipy.__version__)
    versions.update(p.versions)
    write_manifest(tmp, {
        "corpus": name,
        "config": config_to_dict(cfg),
        "config_hash": chash,
        "classes": p.classes,
        "image": {"shape": image_shape, "dtype": "uint8", "scale": IMAGE_SCALE,
                  "stats": splits["train"]["stats"]["image"], **p.image},
        "audio": {"shape": audio_shape, "dtype": "float16", **p.audio, "stats": splits["train"]["stats"]["audio"]},
        "splits": splits,
        "pairing": ("each image with a same-class unit of the same split, "
                    + ("given explicitly (its own transform)" if p.choice is not None else
                       "cycling through the class's units in seeded shuffles" if p.balanced else
                       "drawn uniformly (seeded)")),
        "semi_supervised": LABELLED_RULE,
        **({"judge_data": p.judge_data} if p.judge_data else {}),
        "quarantine": p.quarantine,
        "resampled": p.resampled,
        "sources": p.sources,
        **({"source_listing": {"files": p.source_listing}} if p.source_listing is not None else {}),
        "versions": versions,
        "build_seconds": round(time.time() - t0, 1),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })


def feature_stats(x: np.ndarray) -> dict:
    """Scalar mean/std/min/max and per-row (frequency / image row) mean and std, in the [-1, 1] scale."""
    x = np.asarray(x, np.float32)
    if x.size == 0:
        return {}
    return {"mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max()),
            "row_mean": [round(float(v), 5) for v in x.mean(axis=(0, 2))],
            "row_std": [round(float(v), 5) for v in x.std(axis=(0, 2))]}


def pair_tables(pair_ids: np.ndarray, labels: np.ndarray, images: np.ndarray, unit_rows: np.ndarray,
                 choice: np.ndarray, audio_ids: list[str], image_ids: np.ndarray, num_shards: int) -> list[pa.Table]:
    """The split's rows as ``num_shards`` contiguous Arrow tables in the contract schema."""
    bounds = np.linspace(0, len(labels), min(num_shards, max(len(labels), 1)) + 1).astype(int)
    tables = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        tables.append(pa.table({
            "pair_id": pa.array(pair_ids[a:b], pa.int64()), "label": pa.array(labels[a:b], pa.int64()),
            "image": binary_rows(images[a:b].astype(np.uint8)), "audio": binary_rows(unit_rows[choice[a:b]]),
            "image_id": pa.array(image_ids[a:b], pa.int64()), "audio_id": pa.array(audio_ids[a:b], pa.string()),
        }, schema=SCHEMA))
    return tables


def parquet_args() -> dict:
    # Each split holds few distinct clips: a dictionary page big enough for all of them shrinks the
    # audio column ~50x; readers decode it back to plain binary.
    return {"compression": "zstd", "use_dictionary": ["audio", "audio_id"], "dictionary_pagesize_limit": 64 << 20,
            "row_group_size": ROW_GROUP_ROWS}


def write_split(shards: list[pa.Table], out_dir: Path, rows_per_file: int) -> list[str]:
    """Write one split with Ray Data; returns the files relative to the corpus directory."""
    import ray

    with data_context():
        ds = ray.data.from_arrow(shards)
        ds.write_parquet(str(out_dir), min_rows_per_file=rows_per_file, arrow_parquet_args_fn=parquet_args)
    written = sorted(out_dir.glob("*.parquet"))  # <uuid>_<task:06>-<i>.parquet, in task order
    if not written:
        raise RuntimeError(f"{out_dir}: Ray Data wrote no Parquet file")
    files = []
    for i, path in enumerate(written):  # stable names: part-00000.parquet, ...
        path.rename(out_dir / f"part-{i:05d}.parquet")
        files.append(f"{out_dir.name}/part-{i:05d}.parquet")
    return files

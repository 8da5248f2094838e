"""Build a registered corpus into ``<out_root>/<name>-<hash8>/``: sharded Parquet + ``manifest.json``.

Steps (fashion_spoken): read the IDX images, synthesize the spoken digits into a shared cache,
featurize every clip with Ray Data (batch-level ``map_batches``), split the clips per class into
train/test, pair each image with a random same-class clip of the same split, write each split
with Ray Data ``write_parquet``. Everything is written under a temporary sibling directory that
replaces the final one only when complete, so a half-written corpus never appears.

Row schema (the contract trainers read):
    pair_id int64 (train 0..N-1, test TEST_PAIR_OFFSET + 0..M-1), label int64, image binary
    (uint8 H*W row-major), audio binary (float16 little-endian n_mels*frames row-major, in [-1, 1]),
    image_id int64 (row in the IDX split), audio_id string (the clip's wav stem).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.corpora import CORPORA, FashionSpokenConfig, config_from_dict, config_hash, config_to_dict
from data_prep.features import featurize_batch
from data_prep.manifest import load_manifest, write_manifest
from data_prep.sources.espeak import TRIM_TOP_DB, WORDS, espeak_version, synthesize_digits
from data_prep.sources.fsdd import Clip, parse_clip
from data_prep.sources.idx import idx_split_files, load_idx_split

log = logging.getLogger("data_prep")

TEST_PAIR_OFFSET = 10_000_000
SCHEMA = pa.schema([
    ("pair_id", pa.int64()), ("label", pa.int64()), ("image", pa.binary()),
    ("audio", pa.binary()), ("image_id", pa.int64()), ("audio_id", pa.string()),
])
NORMALIZATION = (
    "x = 1 + 2*dB/top_db with dB = 10*log10(max(P/max(P), 10**(-top_db/10))), P = librosa mel power "
    "spectrogram (power 2, center=True, hann); so P/max(P) = 10**((x-1)*top_db/20). Relative to each "
    "clip's peak. Time axis right-padded with -1 (silence) or center-cropped to `frames`."
)
_BINARY_CHUNK = 65_536  # rows per Arrow chunk: keeps int32 binary offsets far from overflow


# --------------------------------------------------------------------------- public entry point
def build(name: str, out_root: str | Path = "data", overrides: dict | None = None, force: bool = False) -> Path:
    """Build corpus ``name`` (config defaults + ``overrides``) and return its directory.

    Up to date (manifest with the same config hash) and not ``force``: nothing is done.
    """
    cfg = config_from_dict(name, overrides)
    chash = config_hash(cfg)
    out_root = Path(out_root)
    final = out_root / f"{name}-{chash[:8]}"
    if final.exists() and not force:
        try:
            if load_manifest(final).get("config_hash") == chash:
                log.info("%s is up to date (config %s); rebuild with force=True (--force)", final, chash)
                return final
        except (FileNotFoundError, ValueError) as e:
            log.warning("%s exists but is unusable (%s); rebuilding", final, e)
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = out_root / f".{name}-{chash}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        _BUILDERS[name](cfg, chash, tmp, out_root)
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("built %s", final)
    return final


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp``; an old ``final`` is moved aside first, then removed."""
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)  # put the previous corpus back
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


# --------------------------------------------------------------------------- fashion_spoken
def _build_fashion_spoken(cfg: FashionSpokenConfig, chash: str, tmp: Path, out_root: Path) -> None:
    images = {s: _select_per_class(*load_idx_split(cfg.fashion_dir, s), n)
              for s, n in (("train", cfg.train_per_class), ("test", cfg.test_per_class))}
    sources = [p for s in ("train", "test") for p in idx_split_files(cfg.fashion_dir, s)]

    espeak = espeak_version()
    synth_key = hashlib.sha256(json.dumps(
        [cfg.speeds, cfg.pitches, cfg.logmel.sample_rate, TRIM_TOP_DB, espeak]).encode()).hexdigest()[:12]
    paths = synthesize_digits(out_root / "_cache" / "espeak" / synth_key, cfg.voices, cfg.speeds,
                              cfg.pitches, sample_rate=cfg.logmel.sample_rate)
    clips = [parse_clip(p) for p in paths]
    clip_split = split_clips(clips, cfg.audio_test_fraction, cfg.seed)

    with _ray_session():
        feats = _featurize(clips, cfg)
        splits: dict[str, dict] = {}
        for si, split in enumerate(("train", "test")):
            (imgs, labels, image_ids), pool = images[split], clip_split[split]
            choice = pair_clips(labels, np.array([c.label for c in pool]), np.random.default_rng([cfg.seed, si]))
            ids = [pool[j].stem for j in choice]
            offset = TEST_PAIR_OFFSET if split == "test" else 0
            shards = _pair_tables(offset + np.arange(len(labels)), labels, imgs, feats, ids, image_ids, cfg.num_shards)
            files = _write_split(shards, tmp / split, math.ceil(len(labels) / cfg.num_shards))
            rows = sum(pq.read_metadata(tmp / f).num_rows for f in files)
            if rows != len(labels):
                raise RuntimeError(f"{tmp / split}: wrote {rows} rows, expected {len(labels)}")
            splits[split] = {
                "rows": rows,
                "per_class": {str(k): int((labels == k).sum()) for k in range(10)},
                "files": files,
                "clips": len(pool),
                "pair_id_offset": offset,
            }

    import librosa
    import ray

    write_manifest(tmp, {
        "corpus": "fashion_spoken",
        "config": config_to_dict(cfg),
        "config_hash": chash,
        "classes": {"image": list(FashionSpokenConfig.image_classes), "audio": list(WORDS)},
        "image": {"shape": list(images["train"][0].shape[1:]), "dtype": "uint8", "scale": "x/127.5-1"},
        "audio": {"shape": [cfg.logmel.n_mels, cfg.logmel.frames], "dtype": "float16",
                  "features": cfg.logmel.to_dict(), "normalization": NORMALIZATION},
        "splits": splits,
        "sources": {str(p.resolve()): _sha256(p) for p in sources},
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "librosa": librosa.__version__,
                     "pyarrow": pa.__version__, "ray": ray.__version__, "espeak-ng": espeak},
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })


_BUILDERS: dict[str, Any] = {"fashion_spoken": _build_fashion_spoken}
assert set(_BUILDERS) == set(CORPORA)


# --------------------------------------------------------------------------- steps (pure helpers)
def _select_per_class(images: np.ndarray, labels: np.ndarray, n: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` images of each class in file order (all if None): (images, labels, ids)."""
    ids = np.arange(len(labels))
    if n is not None:
        rank = np.zeros(len(labels), np.int64)
        for k in np.unique(labels):
            rank[labels == k] = np.arange((labels == k).sum())
        ids = ids[rank < n]
    return images[ids], labels[ids], ids


def split_clips(clips: list[Clip], test_fraction: float, seed: int) -> dict[str, list[Clip]]:
    """Per class, a seeded ``test_fraction`` of the clips (at least one) for test, the rest train."""
    out: dict[str, list[Clip]] = {"train": [], "test": []}
    for k in sorted({c.label for c in clips}):
        pool = sorted((c for c in clips if c.label == k), key=lambda c: c.stem)
        if len(pool) < 2:
            raise ValueError(f"class {k} has {len(pool)} clip(s); need at least 2 to split train/test")
        n_test = min(len(pool) - 1, max(1, round(test_fraction * len(pool))))
        perm = np.random.default_rng([seed, k]).permutation(len(pool))
        out["test"] += [pool[i] for i in sorted(perm[:n_test])]
        out["train"] += [pool[i] for i in sorted(perm[n_test:])]
    return out


def pair_clips(image_labels: np.ndarray, clip_labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each image, the index of a uniformly drawn clip with the same label."""
    choice = np.empty(len(image_labels), np.int64)
    for k in np.unique(image_labels):
        pool = np.flatnonzero(clip_labels == k)
        if pool.size == 0:
            raise ValueError(f"no clip of class {k} to pair with")
        where = np.flatnonzero(image_labels == k)
        choice[where] = pool[rng.integers(0, pool.size, size=where.size)]
    return choice


def _featurize(clips: list[Clip], cfg: FashionSpokenConfig) -> dict[str, np.ndarray]:
    """audio_id -> float16 [n_mels*frames], computed by Ray Data batch tasks."""
    import ray

    n_cpu = max(1, int(ray.cluster_resources().get("CPU", 1)))
    batch = max(1, min(128, math.ceil(len(clips) / (2 * n_cpu))))
    ds = ray.data.from_items([{"path": str(c.path), "audio_id": c.stem} for c in clips],
                             override_num_blocks=max(1, math.ceil(len(clips) / batch)))
    ds = ds.map_batches(featurize_batch, fn_kwargs={"cfg": cfg.logmel}, batch_size=batch, batch_format="numpy")
    feats: dict[str, np.ndarray] = {}
    for b in ds.iter_batches(batch_size=None, batch_format="numpy"):
        feats.update(zip((str(a) for a in b["audio_id"]), np.asarray(b["audio"], np.float16)))
    missing = [c.stem for c in clips if c.stem not in feats]
    if missing:
        raise RuntimeError(f"featurization lost {len(missing)} clips, e.g. {missing[:3]}")
    return feats


def _binary(rows: np.ndarray) -> pa.ChunkedArray:
    """Each row of a 2-D+ array as one ``binary`` value (its row-major bytes), without copies per row."""
    rows = np.ascontiguousarray(rows).reshape(len(rows), -1)
    width = rows.shape[1] * rows.itemsize
    chunks = []
    for s in range(0, max(len(rows), 1), _BINARY_CHUNK):
        part = rows[s:s + _BINARY_CHUNK]
        offsets = (np.arange(len(part) + 1, dtype=np.int32) * width).astype(np.int32)
        chunks.append(pa.Array.from_buffers(pa.binary(), len(part), [None, pa.py_buffer(offsets), pa.py_buffer(part.tobytes())]))
    return pa.chunked_array(chunks, pa.binary())


def _pair_tables(pair_ids: np.ndarray, labels: np.ndarray, images: np.ndarray, feats: dict[str, np.ndarray],
                 audio_ids: list[str], image_ids: np.ndarray, num_shards: int) -> list[pa.Table]:
    """The split's rows as ``num_shards`` contiguous Arrow tables in the contract schema."""
    bounds = np.linspace(0, len(labels), min(num_shards, max(len(labels), 1)) + 1).astype(int)
    tables = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        audio = np.stack([feats[i] for i in audio_ids[a:b]]).astype("<f2") if b > a else np.zeros((0, 1), "<f2")
        tables.append(pa.table({
            "pair_id": pa.array(pair_ids[a:b], pa.int64()), "label": pa.array(labels[a:b], pa.int64()),
            "image": _binary(images[a:b].astype(np.uint8)), "audio": _binary(audio),
            "image_id": pa.array(image_ids[a:b], pa.int64()), "audio_id": pa.array(audio_ids[a:b], pa.string()),
        }, schema=SCHEMA))
    return tables


def _parquet_args() -> dict:
    # Each split holds few distinct clips: a dictionary page big enough for all of them shrinks the
    # audio column ~50x; readers decode it back to plain binary.
    return {"compression": "zstd", "use_dictionary": ["audio", "audio_id"], "dictionary_pagesize_limit": 64 << 20}


def _write_split(shards: list[pa.Table], out_dir: Path, rows_per_file: int) -> list[str]:
    """Write one split with Ray Data; returns the files relative to the corpus directory."""
    import ray

    ds = ray.data.from_arrow(shards)
    ds.write_parquet(str(out_dir), min_rows_per_file=rows_per_file, arrow_parquet_args_fn=_parquet_args)
    written = sorted(out_dir.glob("*.parquet"))  # <uuid>_<task:06>-<i>.parquet, in task order
    if not written:
        raise RuntimeError(f"{out_dir}: Ray Data wrote no Parquet file")
    files = []
    for i, path in enumerate(written):  # stable names: part-00000.parquet, ...
        path.rename(out_dir / f"part-{i:05d}.parquet")
        files.append(f"{out_dir.name}/part-{i:05d}.parquet")
    return files


class _ray_session:
    """Use the running Ray instance, or start a local one for the build and shut it down after."""

    def __enter__(self) -> None:
        import ray

        self.own = not ray.is_initialized()
        if self.own:
            ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)

    def __exit__(self, *exc: object) -> None:
        if self.own:
            import ray

            ray.shutdown()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

"""Files -> features with Ray Data batch tasks (``data_prep.features.featurize_batch`` per batch):
into a builder's arrays with bad files quarantined (``featurize_files``), or straight into Parquet
(``featurize_to_parquet``)."""
from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.arrow_rows import binary_rows
from data_prep.features import FoldedWaveConfig, LogMelConfig, featurize_batch
from data_prep.sources.class_folder import printable

log = logging.getLogger("data_prep")


def featurize_files(inputs: list[tuple[str, str, int]], spec: LogMelConfig | FoldedWaveConfig | int, seed: int,
               prepared: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Featurize files ``(path, id, label)`` with Ray Data batch tasks.

    Returns (unit id -> flattened feature row, unit id -> source id); bad files go to
    ``prepared.quarantine`` and files at another sample rate to ``prepared.resampled``."""
    import ray

    if not inputs:
        return {}, {}
    what = {LogMelConfig: "log-mel", FoldedWaveConfig: "folded waveform"}.get(type(spec), "image")
    n_cpu = max(1, int(ray.cluster_resources().get("CPU", 1)))
    batch = max(8, min(1000, math.ceil(len(inputs) / (2 * n_cpu))))  # >= 2 blocks per CPU, <= 1000 clips
    t0 = time.time()
    feats: dict[str, np.ndarray] = {}
    src: dict[str, str] = {}
    path_of = {i: p for p, i, _ in inputs}
    seen = set()
    want_rate = getattr(spec, "sample_rate", None)
    with data_context():
        ds = ray.data.from_items([{"path": p, "audio_id": i} for p, i, _ in inputs],
                                 override_num_blocks=max(1, math.ceil(len(inputs) / batch)))
        ds = ds.map_batches(featurize_batch, fn_kwargs={"cfg": spec, "seed": seed}, batch_size=batch,
                            batch_format="numpy", num_cpus=1)
        batches = list(ds.iter_batches(batch_size=None, batch_format="numpy"))
    for b in batches:
        for uid, sid, err, rate, row in zip(b["audio_id"], b["source_id"], b["error"], b["sample_rate"], b["audio"]):
            sid = str(sid)
            if err:
                reason = str(err).removeprefix(path_of[sid] + ": ")
                prepared.quarantine.append({"path": printable(path_of[sid]), "reason": printable(reason)})
                seen.add(sid)
                continue
            feats[str(uid)], src[str(uid)] = row, sid
            if want_rate and rate != want_rate and sid not in seen:
                prepared.resampled.append({"path": printable(path_of[sid]), "sample_rate": int(rate), "to": int(want_rate)})
            seen.add(sid)
    lost = [i for _, i, _ in inputs if i not in seen]
    if lost:
        raise RuntimeError(f"featurization lost {len(lost)} files, e.g. {lost[:3]}")
    paths = {printable(p) for p in path_of.values()}
    bad = [q for q in prepared.quarantine if q["path"] in paths]
    log.info("%s: %d files -> %d units in %.1f s (%d quarantined)", what, len(inputs), len(feats),
             time.time() - t0, len(bad))
    for q in bad[:5]:
        log.warning("quarantined %s: %s", q["path"], q["reason"])
    return feats, src

CLIP_SCHEMA = pa.schema([("audio_id", pa.string()), ("source_id", pa.string()), ("audio", pa.binary()),
                         ("error", pa.string()), ("sample_rate", pa.int64())])


def clip_table(batch: dict[str, np.ndarray], cfg: LogMelConfig | FoldedWaveConfig, seed: int = 0) -> pa.Table:
    """``featurize_batch`` with Arrow output: features as binary float16 rows (the Parquet layout)."""
    out = featurize_batch(batch, cfg, seed)
    return pa.table({"audio_id": pa.array(out["audio_id"].tolist(), pa.string()),
                     "source_id": pa.array(out["source_id"].tolist(), pa.string()),
                     "audio": binary_rows(np.asarray(out["audio"]).astype("<f2")),
                     "error": pa.array(out["error"].tolist(), pa.string()),
                     "sample_rate": pa.array(out["sample_rate"], pa.int64())}, schema=CLIP_SCHEMA)


def featurize_to_parquet(paths: list[str], out_dir: str | Path, cfg: LogMelConfig | FoldedWaveConfig,
                         batch_size: int = 512, use_ray: bool = True, seed: int = 0) -> int:
    """Clips -> features -> Parquet (columns of ``CLIP_SCHEMA``), with Ray Data or in this process.

    Ray Data: one block per ``batch_size`` clips, one ``map_batches`` task per block (1 CPU each,
    as many at once as the cluster has CPUs), fused with the Parquet write of its output, so
    features never travel back to the driver. In-process: the same ``clip_table`` per batch, then
    ``pyarrow.parquet.write_table``. Returns the number of rows written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = [Path(p).stem for p in paths]
    if not use_ray:
        rows = 0
        for i in range(0, len(paths), batch_size):
            t = clip_table({"path": np.array(paths[i:i + batch_size]), "audio_id": np.array(ids[i:i + batch_size])}, cfg, seed)
            pq.write_table(t, out_dir / f"part-{i // batch_size:05d}.parquet", compression="zstd")
            rows += t.num_rows
        return rows
    import ray

    with data_context():  # one Arrow block of paths per batch, built without per-row Python objects
        ds = ray.data.from_arrow([pa.table({"path": paths[i:i + batch_size], "audio_id": ids[i:i + batch_size]})
                                  for i in range(0, len(paths), batch_size)])
        ds = ds.map_batches(clip_table, fn_kwargs={"cfg": cfg, "seed": seed}, batch_size=batch_size,
                            batch_format="numpy", num_cpus=1, zero_copy_batch=True)
        ds.write_parquet(str(out_dir), arrow_parquet_args_fn=_zstd)  # fused with the map: one task per block
    return sum(pq.read_metadata(f).num_rows for f in out_dir.glob("*.parquet"))


def _zstd() -> dict:
    return {"compression": "zstd"}


class data_context:
    """Ray Data settings for these pipelines, restored afterwards.

    ``op_resource_reservation_enabled=False``: by default Ray Data reserves a share of the
    cluster's CPUs for every operator of a pipeline; on a 2-CPU machine that left the featurizing
    operator one CPU, so its tasks ran one after the other (measured: busy time == wall time).
    Without the reservation both CPUs run featurizing tasks at once. Progress bars stay on for the
    CLI but off in library calls unless ``DATA_PREP_PROGRESS=1``."""

    def __init__(self, **overrides: Any) -> None:
        self.overrides = {"op_resource_reservation_enabled": False,
                          "enable_progress_bars": os.environ.get("DATA_PREP_PROGRESS", "0") == "1", **overrides}

    def __enter__(self) -> None:
        import ray

        ctx = ray.data.DataContext.get_current()
        self.saved = {k: getattr(ctx, k) for k in self.overrides}
        for k, v in self.overrides.items():
            setattr(ctx, k, v)

    def __exit__(self, *exc: object) -> None:
        import ray

        ctx = ray.data.DataContext.get_current()
        for k, v in self.saved.items():
            setattr(ctx, k, v)

"""The SyncGAN training loop: runs steps, evaluates, logs, checkpoints. Works with or without Ray.

``fit`` takes a ``report(metrics, checkpoint_dir)`` callable: Ray Train passes one that calls
``ray.train.report``; a plain run passes a logger. Checkpoints: ``trainables.checkpoint``.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from trainables.checkpoint import Progress, load_checkpoint, save_checkpoint
from trainables.classifiers import load_classifiers
from trainables.config import to_dict
from trainables.data import PairArrays, batches, load_split, num_batches, read_manifest, shapes
from trainables.metrics import evaluate_pairs
from trainables.precision import Precision
from trainables.syncgan.config import SyncGANConfig
from trainables.syncgan.model import SyncGAN
from trainables.tensorboard_log import TrialWriter

Report = Callable[[dict, Optional[str]], None]


def fit(
    cfg: SyncGANConfig,
    report: Report,
    *,
    rank: int = 0,
    world: int = 1,
    device: torch.device | str = "cpu",
    grad_hook: Optional[Callable[[torch.nn.Module], None]] = None,
    resume_dir: Optional[str] = None,
    train: Optional[PairArrays] = None,
) -> dict[str, float]:
    """Train for ``cfg.epochs`` epochs; returns the last metrics.

    Every rank calls ``report(metrics, checkpoint_dir)`` at the end of each epoch and, with
    ``cfg.checkpoint_every_steps``, every N steps; rank 0's metrics carry the evaluation. ``train``
    is this rank's rows (a Ray Data shard); without it the rank reads its stride of the split.
    ``resume_dir`` continues from a checkpoint, mid-epoch included, on the same batch order.
    """
    manifest = read_manifest(cfg.corpus_dir)
    shape_a, shape_b = shapes(manifest)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    model = SyncGAN(cfg, shape_a, shape_b).to(device)
    model.precision = Precision(cfg.amp, device)
    if train is None:
        train = load_split(cfg.corpus_dir, "train").shard(rank, world)
    steps_per_epoch = num_batches(len(train), cfg.batch_size, cfg.steps_per_epoch)
    if steps_per_epoch == 0:
        raise ValueError(f"{cfg.corpus_dir}: rank {rank} holds {len(train)} pairs, fewer than batch_size {cfg.batch_size}")
    clf_a, clf_b, clf_acc = load_classifiers(cfg.classifier_path, device)
    n_classes = len(manifest.get("classes", {}).get("image", [])) or int(train.label.max() + 1)
    writer = TrialWriter(cfg.tb_dir, rank)
    z_grid = torch.randn(cfg.image_grid_size, cfg.z_dim, generator=torch.Generator().manual_seed(cfg.seed)).to(device)
    config = to_dict(cfg)
    torch.manual_seed(cfg.seed * 1000 + rank + 1)  # distinct noise per rank
    # last, so that nothing built above (the classifiers' init) draws from the restored RNG
    progress = load_checkpoint(model, resume_dir, rank) if resume_dir else Progress()

    def checkpoint_and_report(metrics: dict[str, float]) -> None:
        if rank == 0:
            metrics.update(_evaluate(model, cfg, clf_a, clf_b, n_classes, device))
            metrics.update(classifier_acc_image=clf_acc["image"], classifier_acc_audio=clf_acc["audio"])
        with tempfile.TemporaryDirectory() as tmp:
            save_checkpoint(model, progress, config, tmp, rank)
            report(metrics, tmp)

    metrics: dict[str, float] = {}
    try:
        for epoch in range(progress.epoch, cfg.epochs):
            t0 = time.time()
            rng = np.random.default_rng([cfg.seed, rank, epoch])
            sums: dict[str, float] = defaultdict(float)
            steps = 0
            for x_a, x_b, y, labelled in batches(train, cfg.batch_size, rng, cfg.semi_rate, cfg.seed,
                                                 cfg.steps_per_epoch, device, start=progress.step_in_epoch):
                for k, v in model.train_step(x_a, x_b, y, labelled, grad_hook).items():
                    sums[k] += v
                steps += 1
                progress.step_in_epoch += 1
                progress.global_step += 1
                every = cfg.checkpoint_every_steps
                if every and progress.global_step % every == 0 and progress.step_in_epoch < steps_per_epoch:
                    metrics = {k: v / steps for k, v in sums.items()}
                    metrics.update(epoch=epoch + progress.step_in_epoch / steps_per_epoch, step=progress.global_step)
                    checkpoint_and_report(metrics)
            progress.epoch, progress.step_in_epoch = epoch + 1, 0
            metrics = {k: v / max(steps, 1) for k, v in sums.items()}
            metrics.update(epoch=epoch + 1, step=progress.global_step, steps=steps, epoch_seconds=time.time() - t0)
            checkpoint_and_report(metrics)
            if rank == 0:
                writer.scalars({f"train/{k}": v for k, v in metrics.items() if k.startswith("loss")}, epoch + 1)
                writer.scalars({f"eval/{k}": metrics[k] for k in ("sync_rate", "class_coverage_image", "class_coverage_audio")}, epoch + 1)
                img, spec = model.generate(z_grid)
                writer.pairs("samples/pairs", img, spec, epoch + 1)
                writer.audio("samples/audio", spec, manifest["audio"].get("features", {}), epoch + 1)
                log_progress(cfg, metrics)
        if rank == 0 and metrics:
            writer.hparams(config, {k: metrics[k] for k in ("sync_rate", "class_coverage_image")})
    finally:
        writer.close()
    return metrics


def log_progress(cfg: SyncGANConfig, metrics: dict[str, float]) -> None:
    """One console line per epoch, and the same as a JSON line in ``<tb_dir>/progress.jsonl``."""
    print(f"epoch {metrics['epoch']}/{cfg.epochs}: sync_rate={metrics['sync_rate']:.3f} "
          f"loss_d_image={metrics['loss_d_image']:.3f} loss_d_audio={metrics['loss_d_audio']:.3f} "
          f"loss_g_sync={metrics['loss_g_sync']:.3f} ({metrics['epoch_seconds']:.1f} s)", flush=True)
    if cfg.tb_dir:
        Path(cfg.tb_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(cfg.tb_dir) / "progress.jsonl", "a") as f:
            f.write(json.dumps({**metrics, "pid": os.getpid(), "time": time.time()}) + "\n")


@torch.no_grad()
def _evaluate(model: SyncGAN, cfg: SyncGANConfig, clf_a, clf_b, n_classes: int, device) -> dict[str, float]:
    gen = torch.Generator().manual_seed(cfg.seed + 12345)
    z = torch.randn(cfg.eval_samples, cfg.z_dim, generator=gen).to(device)
    x_a, x_b = model.generate(z)
    out = evaluate_pairs(x_a, x_b, clf_a, clf_b, n_classes)
    if any(math.isnan(v) for v in out.values()):  # pragma: no cover - defensive
        raise FloatingPointError(f"evaluation produced NaN: {out}")
    return out

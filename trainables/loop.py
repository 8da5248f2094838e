"""The training loop of every trainable: runs steps, evaluates, logs, checkpoints. Works with or without Ray.

``fit`` takes a ``report(metrics, checkpoint_dir)`` callable: Ray Train passes one that calls
``ray.train.report``; a plain run passes a logger. Checkpoints: ``trainables.checkpoint``.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from trainables.checkpoint import Progress, load_checkpoint, save_checkpoint
from trainables.config import LoopConfig, to_dict
from trainables.data import PairArrays, batches, labelled_mask, load_split, num_batches, read_manifest
from trainables.grad_sync import agreed_min, distributed, replica_divergence
from trainables.precision import Precision
from trainables.registry import Trainable, build_model, get_trainable
from trainables.step import AverageGrads
from trainables.tensorboard_log import TrialWriter

Report = Callable[[dict, Optional[str]], None]


def fit(
    trainable: Trainable | str,
    cfg: LoopConfig,
    report: Report,
    *,
    rank: int = 0,
    world: int = 1,
    device: torch.device | str = "cpu",
    grad_hook: AverageGrads = None,
    resume_dir: Optional[str] = None,
    train: Optional[PairArrays] = None,
    hparams: bool = True,
) -> dict[str, float]:
    """Train ``trainable`` (a registry name or entry) for ``cfg.epochs`` epochs; returns the last metrics.

    Every rank calls ``report(metrics, checkpoint_dir)`` at the end of each epoch and, with
    ``cfg.checkpoint_every_steps``, every N steps; rank 0's metrics carry the evaluation. ``train``
    is this rank's rows (a Ray Data shard); without it the rank reads its stride of the split.
    ``resume_dir`` continues from a checkpoint, mid-epoch included, on the same batch order.
    Every report carries the epoch's mean training losses, each optimizer's learning rate
    (``lr_opt_g``...), ``label_budget``, the share of the training pairs whose pairing the model may use
    (the corpus's labelled mask at ``cfg.semi_rate``: the cost a label-budget study minimizes), and
    ``labelled_share``, the mean share of a batch's pairs that are labelled (about the same).
    ``hparams``: rank 0 writes TensorBoard's HParams record of the run when it starts (the config, and the
    ``eval/*`` scalars as its metrics) and marks it finished after the last epoch; off where another
    writer (Tune's logger) owns the directory's record.

    Data parallel (``world`` > 1 in a process group): every rank takes the steps per epoch of the
    smallest shard (unequal counts would leave a rank waiting in a collective forever), ``grad_hook``
    averages the gradients, and each epoch's report adds ``replica_divergence`` (the largest weight
    difference to rank 0: 0.0 when averaging works) and, where the hook counts its collectives
    (``trainables.grad_sync.GradAverager``), ``grad_sync_seconds``, ``grad_sync_share`` (of the
    epoch's training time), ``grad_sync_bytes_per_step`` and ``grad_sync_collectives_per_step``.
    """
    spec = get_trainable(trainable) if isinstance(trainable, str) else trainable
    manifest = read_manifest(cfg.corpus_dir)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    model = build_model(spec, cfg, manifest).to(device)
    model.precision = Precision(cfg.amp, device)
    if train is None:
        train = load_split(cfg.corpus_dir, "train").shard(rank, world)
    labelled = labelled_mask(train.pair_id, cfg.semi_rate, cfg.seed)
    label_budget = float(labelled.mean()) if len(labelled) else 0.0
    bind = getattr(model, "bind_train_data", None)  # models that sample from the labelled rows themselves
    if bind is not None:
        bind(train.image, train.audio, train.label, labelled, device)
    steps_per_epoch = num_batches(len(train), cfg.batch_size, cfg.steps_per_epoch)
    if steps_per_epoch == 0:
        raise ValueError(f"{cfg.corpus_dir}: rank {rank} holds {len(train)} pairs, fewer than batch_size {cfg.batch_size}")
    parallel = world > 1 and distributed()
    if parallel:
        steps_per_epoch = agreed_min(steps_per_epoch, device)
    grad_stats = getattr(grad_hook, "take_stats", None)
    evaluator = spec.evaluator_cls(model, cfg, manifest, device) if rank == 0 else None
    writer = TrialWriter(cfg.tb_dir, rank)
    config = to_dict(cfg)
    if evaluator is not None and hparams:
        writer.hparams_start(config, [f"eval/{k}" for k in (*evaluator.scalars, *evaluator.final_scalars)])
    torch.manual_seed(cfg.seed * 1000 + rank + 1)  # distinct noise per rank
    # last, so that nothing built above (the classifiers' init) draws from the restored RNG
    progress = load_checkpoint(model, resume_dir, rank) if resume_dir else Progress()

    def checkpoint_and_report(metrics: dict[str, float], final: bool = False, log_epoch: int | None = None) -> None:
        metrics.update(learning_rates(model), label_budget=label_budget)
        if evaluator is not None:
            metrics.update(evaluator.metrics(final))
            if log_epoch is not None:
                # before the report: Tune may stop the trial on it (ASHA) and kill this worker at once
                writer.scalars({f"train/{k}": v for k, v in metrics.items() if k.startswith(("loss", "lr_"))}, log_epoch)
                names = [*evaluator.scalars, *evaluator.final_scalars]
                writer.scalars({f"eval/{k}": metrics[k] for k in names if k in metrics}, log_epoch)
                evaluator.samples(writer, log_epoch)
                writer.flush()
                log_progress(cfg, metrics, evaluator.declared.progress_line(metrics))
        with tempfile.TemporaryDirectory() as tmp:
            save_checkpoint(model, progress, config, tmp, rank, trainable=spec.name)
            report(metrics, tmp)

    metrics: dict[str, float] = {}
    try:
        for epoch in range(progress.epoch, cfg.epochs):
            t0 = time.time()
            rng = np.random.default_rng([cfg.seed, rank, epoch])
            sums: dict[str, float] = defaultdict(float)
            steps = 0
            for x_image, x_audio, y, labelled in batches(train, cfg.batch_size, rng, cfg.semi_rate, cfg.seed,
                                                         steps_per_epoch, device, start=progress.step_in_epoch):
                for k, v in model.train_step(x_image, x_audio, y, labelled, grad_hook).items():
                    sums[k] += v
                sums["labelled_share"] += float(labelled.float().mean())
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
            if grad_stats is not None:
                metrics.update(grad_sync_metrics(grad_stats(), metrics["epoch_seconds"], steps))
            if parallel:
                metrics["replica_divergence"] = replica_divergence(model.parameters())
            checkpoint_and_report(metrics, final=epoch + 1 == cfg.epochs, log_epoch=epoch + 1)
        if not metrics and resume_dir and progress.epoch >= cfg.epochs and progress.step_in_epoch == 0:
            # resumed from the last epoch's checkpoint (the driver died before it recorded the end): the
            # run's final report again, so whoever waits on it (Tune, a searcher) gets the trial's result
            metrics = {"epoch": progress.epoch, "step": progress.global_step}
            checkpoint_and_report(metrics, final=True)
        if metrics and hparams:
            writer.hparams_end()
    finally:
        writer.close()
    return metrics


LOOP_METRICS = ("label_budget", "labelled_share")
"""Reported with every epoch by every trainable (besides its losses, learning rates and evaluation)."""


def grad_sync_metrics(stats: dict[str, float], seconds: float, steps: int) -> dict[str, float]:
    """An epoch's gradient-averaging cost (``GradAverager.take_stats``) as reported metrics."""
    return {"grad_sync_seconds": stats["seconds"], "grad_sync_share": stats["seconds"] / max(seconds, 1e-9),
            "grad_sync_bytes_per_step": stats["bytes"] / max(steps, 1),
            "grad_sync_collectives_per_step": stats["collectives"] / max(steps, 1)}


def learning_rates(model) -> dict[str, float]:
    """Each optimizer's learning rate as it trains, ``lr_<optimizer>`` (``lr_opt_g``): what a
    population-based training's mutations change, reported and logged every epoch."""
    return {f"lr_{name}": float(opt.param_groups[0]["lr"]) for name, opt in model.optimizers().items()}


def epoch_line(metrics: dict[str, Any], epochs: int, line: str) -> str:
    """The console line of one epoch: ``epoch 3/12: <line> (4.6 s)``, the line being the evaluator's
    ``declared.progress_line`` (its headline and watched metrics, then its losses)."""
    return f"epoch {metrics.get('epoch', '?')}/{epochs}: {line} ({metrics.get('epoch_seconds', 0.0):.1f} s)"


def log_progress(cfg: LoopConfig, metrics: dict[str, float], line: str) -> None:
    """One console line per epoch, and the metrics as a JSON line in ``<tb_dir>/progress.jsonl``."""
    print(epoch_line(metrics, cfg.epochs, line), flush=True)
    if cfg.tb_dir:
        Path(cfg.tb_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(cfg.tb_dir) / "progress.jsonl", "a") as f:
            f.write(json.dumps({**metrics, "pid": os.getpid(), "time": time.time()}) + "\n")

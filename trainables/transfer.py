"""Cross-modal transfer by latent recovery (SyncGAN paper, Sec. 2.3; Lipton & Tripathi 2017).

Given x of modality a, find z = argmin_z mean((G_a(z) - x) ** 2) by gradient descent (Adam) from
``restarts`` random starts, keep per sample the start with the lowest reconstruction error, and
output G_b(z). Components of z that leave [-clip, clip] are redrawn from the prior after each step
(Lipton & Tripathi's stochastic clipping, here for a Gaussian prior).

BatchNorm (the generators are trained, and ``SyncGAN.generate`` samples, with batch statistics):
- "calibrate" (default): both generators are copied with their running statistics replaced by the
  population statistics of their batches of prior codes, then used in eval mode. Samples no longer
  interact, so every sample and restart is optimized independently in one batch, and G_b(z) is what
  batch-statistics generation gives for a prior batch, up to sampling noise.
- "eval": the generators' own running statistics, in eval mode.
- "batch": batch statistics, as in training; the targets form one batch that is optimized jointly
  (their outputs are coupled), one restart after another; G_b runs on the whole batch of chosen codes.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Optional, Protocol

import torch
from torch import nn

from trainables.batchnorm import batch_statistics, calibrated, evaluating

BATCHNORM_MODES = ("calibrate", "eval", "batch")
DIRECTIONS = ("a_to_b", "b_to_a")


@dataclass
class TransferConfig:
    steps: int = 300
    """Adam steps on z per restart."""
    lr: float = 0.05
    restarts: int = 4
    """Random starts per sample; the one with the lowest reconstruction error wins."""
    clip: Optional[float] = 4.0
    """Stochastic clipping bound on |z_i| (None: no clipping)."""
    batchnorm: str = "calibrate"
    """'calibrate', 'eval' or 'batch' (see the module docstring)."""
    calibration_samples: int = 2048
    """Prior codes whose batch statistics calibrate the generators ('calibrate' only)."""
    seed: int = 0

    def validate(self) -> None:
        if self.batchnorm not in BATCHNORM_MODES:
            raise ValueError(f"batchnorm must be one of {BATCHNORM_MODES}, got {self.batchnorm!r}")
        for name in ("steps", "restarts", "calibration_samples"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip!r}")


@dataclass
class LatentRecovery:
    z: torch.Tensor
    """(N, z_dim): the best code found for each target."""
    loss: torch.Tensor
    """(N,): its reconstruction error, mean squared error per sample."""


class TwoGenerators(Protocol):
    """What transfer needs of a model (SyncGAN has it): two generators of one latent space."""

    g_a: nn.Module
    g_b: nn.Module


def recover_latent(
    generator: nn.Module, target: torch.Tensor, z_dim: int, cfg: Optional[TransferConfig] = None,
) -> LatentRecovery:
    """Codes z with generator(z) ≈ target, the generator used in the BatchNorm mode it is in:
    BatchNorm layers in training mode mean batch statistics (the targets are optimized as one batch).
    Weights and running statistics are left unchanged."""
    cfg = cfg or TransferConfig()
    cfg.validate()
    target = target.detach()
    n, dev = target.shape[0], target.device
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    joint = any(m.training for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
    if joint:  # batch statistics couple the samples: one batch of the N targets per restart
        with batch_statistics(generator):
            runs = [_descend(generator, target, _prior(n, z_dim, gen, dev), cfg, gen) for _ in range(cfg.restarts)]
        z = torch.stack([r[0] for r in runs])          # (R, N, z_dim)
        loss = torch.stack([r[1] for r in runs])       # (R, N)
    else:  # independent samples: all N * R starts in one batch
        z0 = _prior(cfg.restarts * n, z_dim, gen, dev)
        zr, lr_ = _descend(generator, target.repeat(cfg.restarts, *[1] * (target.dim() - 1)), z0, cfg, gen)
        z, loss = zr.view(cfg.restarts, n, z_dim), lr_.view(cfg.restarts, n)
    best = loss.argmin(0)
    rows = torch.arange(n, device=dev)
    return LatentRecovery(z=z[best, rows], loss=loss[best, rows])


def transfer(
    model: TwoGenerators, x: torch.Tensor, direction: str = "a_to_b",
    cfg: Optional[TransferConfig] = None, z_dim: Optional[int] = None,
) -> tuple[torch.Tensor, LatentRecovery]:
    """Samples x of the source modality -> (G_target(z), recovery), z recovered with G_source.

    ``direction`` "a_to_b" recovers z with ``model.g_a`` and generates with ``model.g_b``; "b_to_a"
    the other way. ``z_dim`` defaults to ``model.cfg.z_dim``. The model is left unchanged (weights,
    running statistics, train/eval modes).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    cfg = cfg or TransferConfig()
    cfg.validate()
    z_dim = z_dim if z_dim is not None else model.cfg.z_dim
    src, dst = (model.g_a, model.g_b) if direction == "a_to_b" else (model.g_b, model.g_a)
    if cfg.batchnorm == "calibrate":
        prior = getattr(model, "sample_z", None)  # the model's own prior where it has one (categorical part)
        src, dst = (calibrated(g, _calibration_batches(z_dim, cfg, x.device, prior)) for g in (src, dst))
        contexts = (nullcontext(), nullcontext())
    else:
        mode = batch_statistics if cfg.batchnorm == "batch" else evaluating
        contexts = (mode(src), mode(dst))
    with contexts[0], contexts[1]:
        rec = recover_latent(src, x, z_dim, cfg)
        with torch.no_grad():
            out = dst(rec.z)
    return out, rec


def _calibration_batches(z_dim: int, cfg: TransferConfig, device: torch.device, prior=None, batch: int = 512):
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    left = cfg.calibration_samples
    while left > 0:
        k = min(batch, left)
        yield prior(k, device, generator=gen) if prior is not None else torch.randn(k, z_dim, generator=gen).to(device)
        left -= k


def _prior(n: int, z_dim: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(n, z_dim, generator=gen).to(device)


def _descend(
    generator: nn.Module, target: torch.Tensor, z0: torch.Tensor, cfg: TransferConfig, gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Adam on z from z0; returns (z, per-sample MSE of generator(z) against target)."""
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=cfg.lr)
    for _ in range(cfg.steps):
        opt.zero_grad(set_to_none=True)
        per_sample = (generator(z) - target).pow(2).flatten(1).mean(1)
        per_sample.sum().backward(inputs=[z])  # a sum: each code gets the gradient of its own error
        opt.step()
        if cfg.clip is not None:
            with torch.no_grad():
                out = z.abs() > cfg.clip
                if out.any():
                    z[out] = _prior(int(out.sum()), 1, gen, z.device).squeeze(1)
    with torch.no_grad():
        loss = (generator(z) - target).pow(2).flatten(1).mean(1)
    return z.detach(), loss

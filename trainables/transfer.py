"""Cross-modal transfer by latent recovery (SyncGAN paper, Sec. 2.3; Lipton & Tripathi 2017).

Given x of modality a, find z = argmin_z mean((G_a(z) - x) ** 2) by gradient descent (Adam) from
``restarts`` random starts, keep per sample the start with the lowest reconstruction error, and
output G_b(z). Components of z that leave [-clip, clip] are redrawn from the prior after each step
(Lipton & Tripathi's stochastic clipping, here for a Gaussian prior). That is ``starts: prior,
select: reconstruction``, the paper's method.

A code with a categorical part (``SyncGAN.latent_classes``) is a poor fit for it: descent moves the
one-hot into in-between codes no generator was trained on, and which category a spectrogram of an
unheard speaker reconstructs best in pixels is mostly luck (audio -> image landed on the right class
12-30 % of the time). Two levers (measured in docs/models.md):
- ``starts: categories``: the starts cover every category (``restarts`` Gaussian draws each) and the
  category stays fixed while the Gaussian part descends.
- ``select: synchronizer``: the synchronizer, trained on real pairs to tell a synchronous pair, picks the
  category: each category's outputs G_b(z) (a few shared draws) are scored against the source x by
  S(x, G_b(z)), and the best category's starts alone are descended (the lowest reconstruction error
  among them wins). The synchronous concept is chosen by the network that learned it; recovery keeps
  the rest of the code close to the source.
- ``select: codes``: as ``classes`` (S's class heads read the source and the outputs), but per code
  instead of per category: of every category's ``category_draws`` shared draws, the ``restarts`` codes
  whose outputs S's heads most likely read as the source's class are each sample's starts (their
  category fixed). Where two categories of a trained model settle on one class and a class has no
  category of its own, some draws of another category still show it; a per-category verdict cannot
  reach them.

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
import math
from dataclasses import dataclass
from typing import Optional, Protocol

import torch
from torch import nn

from trainables.batchnorm import batch_statistics, calibrated, evaluating

BATCHNORM_MODES = ("calibrate", "eval", "batch")
DIRECTIONS = ("a_to_b", "b_to_a")


STARTS = ("prior", "categories")
SELECTIONS = ("reconstruction", "synchronizer", "classes", "codes")


@dataclass
class TransferConfig:
    steps: int = 300
    """Adam steps on z per restart (0: no descent, the starts as they are)."""
    lr: float = 0.05
    restarts: int = 4
    """Random starts per sample (``starts: categories``: per category)."""
    clip: Optional[float] = 4.0
    """Stochastic clipping bound on |z_i| of the Gaussian part (None: no clipping)."""
    batchnorm: str = "calibrate"
    """'calibrate', 'eval' or 'batch' (see the module docstring)."""
    calibration_samples: int = 2048
    """Prior codes whose batch statistics calibrate the generators ('calibrate' only)."""
    starts: str = "prior"
    """'prior' (the paper: draws of the whole code) or 'categories' (every category, its one-hot fixed)."""
    select: str = "reconstruction"
    """'reconstruction' (the paper: the lowest reconstruction error wins), 'synchronizer' (S's verdict
    picks the category first) or 'classes' (S's class heads pick it: the category whose outputs they
    read as the source's class) or 'codes' (the same per code: each sample's starts are the draws whose
    outputs they read as its class). All but the first need a synchronizer and a categorical code."""
    category_draws: int = 8
    """Shared Gaussian draws per category that S scores against each source (every ``select`` but
    'reconstruction')."""
    seed: int = 0

    def validate(self) -> None:
        for name, allowed in (("batchnorm", BATCHNORM_MODES), ("starts", STARTS), ("select", SELECTIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("restarts", "calibration_samples", "category_draws"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if int(self.steps) < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps!r}")
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
    """What transfer needs of a model (SyncGAN has it): two generators of one latent space. Optional:
    ``generators()`` (the pair samples come from, e.g. weight averages, instead of ``g_a``, ``g_b``),
    ``view_a``/``view_b`` (what the generators make, against the corpus's representation:
    ``trainables.representation``), ``latent_classes`` and ``sample_z`` (a categorical code and the
    prior), ``sync`` (a synchronizer: ``select: synchronizer``)."""

    g_a: nn.Module
    g_b: nn.Module


def recover_latent(
    generator: nn.Module, target: torch.Tensor, z_dim: int, cfg: Optional[TransferConfig] = None,
    starts: Optional[torch.Tensor] = None, fixed: int = 0,
) -> LatentRecovery:
    """Codes z with generator(z) ≈ target, the generator used in the BatchNorm mode it is in:
    BatchNorm layers in training mode mean batch statistics (the targets are optimized as one batch).
    ``starts`` (R, N, z_dim): the starts per target (default: ``cfg.restarts`` prior draws); the first
    ``fixed`` dims of every start stay as they are (a categorical part). Weights and running statistics
    are left unchanged."""
    cfg = cfg or TransferConfig()
    cfg.validate()
    target = target.detach()
    n, dev = target.shape[0], target.device
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    if starts is None:
        starts = torch.stack([_prior(n, z_dim, gen, dev) for _ in range(cfg.restarts)])
    r = starts.shape[0]
    joint = any(m.training for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
    if joint:  # batch statistics couple the samples: one batch of the N targets per restart
        with batch_statistics(generator):
            runs = [_descend(generator, target, starts[i], cfg, gen, fixed) for i in range(r)]
        z = torch.stack([run[0] for run in runs])      # (R, N, z_dim)
        loss = torch.stack([run[1] for run in runs])   # (R, N)
    else:  # independent samples: all N * R starts in one batch
        zr, lr_ = _descend(generator, target.repeat(r, *[1] * (target.dim() - 1)), starts.reshape(r * n, z_dim),
                           cfg, gen, fixed)
        z, loss = zr.view(r, n, z_dim), lr_.view(r, n)
    best = loss.argmin(0)
    rows = torch.arange(n, device=dev)
    return LatentRecovery(z=z[best, rows], loss=loss[best, rows])


def transfer(
    model: TwoGenerators, x: torch.Tensor, direction: str = "a_to_b",
    cfg: Optional[TransferConfig] = None, z_dim: Optional[int] = None,
) -> tuple[torch.Tensor, LatentRecovery]:
    """Samples x of the source modality -> (the target modality's sample of the recovered code, recovery).

    ``direction`` "a_to_b" recovers z with ``model.g_a`` and generates with ``model.g_b``; "b_to_a"
    the other way. ``z_dim`` defaults to ``model.cfg.z_dim``. Samples are in the corpus's
    representations (the model's views translate). The model is left unchanged (weights, running
    statistics, train/eval modes).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    cfg = cfg or TransferConfig()
    cfg.validate()
    z_dim = z_dim if z_dim is not None else model.cfg.z_dim
    g_a, g_b = model.generators() if hasattr(model, "generators") else (model.g_a, model.g_b)
    src, dst = (g_a, g_b) if direction == "a_to_b" else (g_b, g_a)
    view_src, view_dst = (getattr(model, f"view_{s}", None) or _SAME for s in (("a", "b") if direction == "a_to_b" else ("b", "a")))
    prior = getattr(model, "sample_z", None)  # the model's own prior where it has one (categorical part)
    k = int(getattr(model, "latent_classes", 0) or 0) if cfg.starts == "categories" or cfg.select != "reconstruction" else 0
    if cfg.select != "reconstruction" and (k == 0 or getattr(model, "sync", None) is None):
        raise ValueError(f"select: {cfg.select} needs a model with a synchronizer and a categorical code (latent_classes > 0)")
    if cfg.select in ("classes", "codes") and getattr(model.sync, "classes_a", None) is None:
        raise ValueError(f"select: {cfg.select} needs a synchronizer with class heads (sync_class_weight > 0)")
    if cfg.batchnorm == "calibrate":
        src, dst = (calibrated(g, _calibration_batches(z_dim, cfg, x.device, prior)) for g in (src, dst))
        contexts = (nullcontext(), nullcontext())
    else:
        mode = batch_statistics if cfg.batchnorm == "batch" else evaluating
        contexts = (mode(src), mode(dst))
    target = view_src.to_net(x)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    with contexts[0], contexts[1]:
        starts, fixed = None, 0
        if k and cfg.select == "codes":
            starts, fixed = _synchronous_codes(model, dst, target, direction, k, z_dim, cfg, gen), k
        elif k:
            categories = (_synchronous_category(model, dst, target, direction, k, z_dim, cfg, gen)
                          if cfg.select != "reconstruction" else None)
            starts, fixed = _category_starts(x.shape[0], k, z_dim, cfg.restarts, categories, gen, x.device), k
        rec = recover_latent(src, target, z_dim, cfg, starts=starts, fixed=fixed)
        with torch.no_grad():
            out = view_dst.from_net(dst(rec.z))
    return out, rec


class _Same:
    """The identity view (a model without representation views)."""

    @staticmethod
    def to_net(x: torch.Tensor) -> torch.Tensor:
        return x

    @staticmethod
    def from_net(y: torch.Tensor) -> torch.Tensor:
        return y


_SAME = _Same()


def _one_hot_codes(categories: torch.Tensor, k: int, z_dim: int, gen: torch.Generator, device) -> torch.Tensor:
    """Codes of the prior with the given categories: the one-hot (scaled like ``SyncGAN.sample_z``), then Gaussian dims."""
    z = torch.randn(categories.numel(), z_dim, generator=gen).to(device)
    z[:, :k] = torch.nn.functional.one_hot(categories.reshape(-1).to(device), k).to(z.dtype) * math.sqrt(k)
    return z


def _category_starts(n: int, k: int, z_dim: int, restarts: int, categories: Optional[torch.Tensor],
                     gen: torch.Generator, device) -> torch.Tensor:
    """(R, n, z_dim) starts: ``restarts`` draws of each sample's category (``categories``), or of every
    category (R = k * restarts) where it is None."""
    if categories is None:
        cats = torch.arange(k).repeat_interleave(restarts)[:, None].expand(k * restarts, n)
    else:
        cats = categories.cpu()[None].expand(restarts, n)
    return _one_hot_codes(cats.reshape(-1), k, z_dim, gen, device).view(cats.shape[0], n, z_dim)


@torch.no_grad()
def _synchronous_category(model, dst: nn.Module, target: torch.Tensor, direction: str, k: int, z_dim: int,
                          cfg: TransferConfig, gen: torch.Generator) -> torch.Tensor:
    """Per source sample, the category whose outputs S finds most synchronous with it: every category's
    ``category_draws`` shared outputs G_dst(z) scored against every source by S's pair head (mean logit
    per category) or, with ``select: classes``, by its class heads."""
    sync = model.sync
    training = sync.training
    sync.eval()
    cats = torch.arange(k).repeat_interleave(cfg.category_draws)
    made = dst(_one_hot_codes(cats, k, z_dim, gen, target.device))
    x_a, x_b = (target, made) if direction == "a_to_b" else (made, target)
    f_a, f_b = sync.features(x_a, x_b)
    if cfg.select == "classes":  # log sum_c p_src(c | x) * mean over draws of p_dst(c | G_dst(z_k))
        p_src, p_made = _class_probabilities(sync, f_a, f_b, direction)
        score = (p_src @ p_made.view(k, cfg.category_draws, -1).mean(1).T).clamp_min(1e-12).log()
    else:  # the pair head's mean logit over each category's draws
        h_a, h_b = sync.project(f_a, f_b)
        logits = sync.score(h_a[:, None], h_b[None]) if direction == "a_to_b" else sync.score(h_a[None], h_b[:, None])
        score = logits.view(-1, k, cfg.category_draws).mean(2)
    sync.train(training)
    return score.argmax(1)


@torch.no_grad()
def _synchronous_codes(model, dst: nn.Module, target: torch.Tensor, direction: str, k: int, z_dim: int,
                       cfg: TransferConfig, gen: torch.Generator) -> torch.Tensor:
    """(R, N, z_dim) starts, R = ``cfg.restarts``: per source sample, the codes among every category's
    ``category_draws`` shared draws whose outputs G_dst(z) S's class heads most likely read as the
    source's class, by sum_c p_src(c | x) * p_dst(c | G_dst(z))."""
    sync = model.sync
    training = sync.training
    sync.eval()
    codes = _one_hot_codes(torch.arange(k).repeat_interleave(cfg.category_draws), k, z_dim, gen, target.device)
    made = dst(codes)
    x_a, x_b = (target, made) if direction == "a_to_b" else (made, target)
    p_src, p_made = _class_probabilities(sync, *sync.features(x_a, x_b), direction)
    best = (p_src @ p_made.T).topk(min(cfg.restarts, len(codes)), dim=1).indices  # (N, R)
    sync.train(training)
    return codes[best.T]


def _class_probabilities(sync, f_a: torch.Tensor, f_b: torch.Tensor, direction: str) -> tuple[torch.Tensor, torch.Tensor]:
    """S's class heads on features of the two modalities -> (p(c | source), p(c | made output))."""
    p_a, p_b = (logits.softmax(1) for logits in sync.classify(f_a, f_b))
    return (p_a, p_b) if direction == "a_to_b" else (p_b, p_a)


def _calibration_batches(z_dim: int, cfg: TransferConfig, device: torch.device, prior=None, batch: int = 512):
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    left = cfg.calibration_samples
    while left > 0:
        b = min(batch, left)
        yield prior(b, device, generator=gen) if prior is not None else torch.randn(b, z_dim, generator=gen).to(device)
        left -= b


def _prior(n: int, z_dim: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(n, z_dim, generator=gen).to(device)


def _descend(
    generator: nn.Module, target: torch.Tensor, z0: torch.Tensor, cfg: TransferConfig, gen: torch.Generator,
    fixed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Adam on z from z0, its first ``fixed`` dims held; returns (z, per-sample MSE of generator(z) against target)."""
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=cfg.lr)
    for _ in range(cfg.steps):
        opt.zero_grad(set_to_none=True)
        per_sample = (generator(z) - target).pow(2).flatten(1).mean(1)
        per_sample.sum().backward(inputs=[z])  # a sum: each code gets the gradient of its own error
        if fixed:
            z.grad[:, :fixed] = 0.0
        opt.step()
        if cfg.clip is not None:
            with torch.no_grad():
                out = z.abs() > cfg.clip
                out[:, :fixed] = False
                if out.any():
                    z[out] = _prior(int(out.sum()), 1, gen, z.device).squeeze(1)
    with torch.no_grad():
        loss = (generator(z) - target).pow(2).flatten(1).mean(1)
    return z.detach(), loss

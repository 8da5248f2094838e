"""What every model's training step shares: the data-parallel gradient hook's type, the GAN
losses against a constant target, and the check that stops a run on its first NaN loss."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

AverageGrads = Optional[Callable[[torch.optim.Optimizer], None]]
"""Averages an optimizer's gradients across data-parallel workers after its backward pass and before it
steps (``trainables.grad_sync.GradAverager``); None on one worker."""


def bce_to(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of ``logits`` against the constant ``target`` (1 real/synchronous, 0 not)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def finite_losses(model: str, **losses: torch.Tensor) -> dict[str, float]:
    """The losses as floats; FloatingPointError naming ``model`` and the first NaN or infinite loss,
    raised before the optimizer that loss drives steps."""
    out = {name: float(v.detach()) for name, v in losses.items()}
    for name, value in out.items():
        if value != value or value in (float("inf"), float("-inf")):
            raise FloatingPointError(f"{model} diverged: {name} = {value} (lower the learning rate?)")
    return out

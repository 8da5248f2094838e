"""Mixed precision for a model with several losses and optimizers: autocast plus one grad scaler.

``amp`` modes: ``off`` (float32), ``bf16`` (autocast to bfloat16, no scaling), ``fp16`` (autocast
to float16 with a dynamic ``torch.amp.GradScaler``), ``auto`` (``fp16`` on CUDA, ``off`` elsewhere).
One scaler serves every optimizer of a step, as PyTorch's AMP recipe for multiple optimizers
does: ``backward`` and ``step`` per loss and optimizer, then ``update`` once per training step.
Gradient hooks (the all-reduce of data-parallel training) see scaled gradients; every rank uses
the same scale and an inf on one rank becomes an inf on all after the sum, so all ranks skip together.
"""
from __future__ import annotations

import contextlib
from typing import Any

import torch

AMP_MODES = ("off", "bf16", "fp16", "auto")
_DTYPES = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """Autocast context and loss scaling for one device."""

    def __init__(self, mode: str = "off", device: torch.device | str = "cpu") -> None:
        if mode not in AMP_MODES:
            raise ValueError(f"amp must be one of {', '.join(AMP_MODES)}, got {mode!r}")
        self.device_type = torch.device(device).type
        if mode == "auto":
            mode = "fp16" if self.device_type == "cuda" else "off"
        self.mode = mode
        self.dtype = _DTYPES[mode]
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=mode == "fp16")

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, inputs: list[torch.Tensor] | None = None) -> None:
        self.scaler.scale(loss).backward(inputs=inputs)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``, skipped by the scaler when the scaled gradients hold inf/NaN."""
        self.scaler.step(optimizer)

    def update(self) -> None:
        """Once per training step, after every optimizer stepped."""
        self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(state["scaler"])

"""SyncGAN training config: every knob with its default. Names match YAML keys and TensorBoard tags."""
from __future__ import annotations

from dataclasses import dataclass

from trainables.config import LoopConfig


@dataclass
class SyncGANConfig(LoopConfig):
    """SyncGAN's knobs; data, loop and evaluation knobs come from ``LoopConfig``."""

    z_dim: int = 64
    width: int = 32
    """Base channel count of every network."""
    spectral_norm: bool = True
    """Spectral norm in every layer of the discriminators and of the synchronizer."""
    lr_g: float = 2e-4
    lr_d: float = 1e-4
    lr_s: float = 2e-4
    beta1: float = 0.5
    pair_ratio: float = 0.5
    """Share of identical latent codes (z1 == z2) in each generator batch; the rest are distinct."""
    sync_weight: float = 1.0
    """Weight of the synchronizer loss in the generators' objective."""
    sync_fake_weight: float = 0.0
    """Weight of generated pairs (one code through both generators), as asynchronous, in the
    synchronizer's loss. 0 is the paper: S sees real pairs only, and the generators learn to
    satisfy it with pairs it was never shown (its verdict on them agreed with the judge
    classifiers' 30 % of the time). > 0 makes S also tell real synchronous pairs from generated
    ones, so only pairs that look like real synchronous pairs satisfy it."""
    transfer_samples: int = 200
    """Test pairs translated by latent recovery in the last epoch's evaluation (0: skip)."""
    transfer_steps: int = 200
    """Gradient steps of latent recovery per restart (``trainables.transfer``)."""

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.pair_ratio <= 1.0:
            raise ValueError(f"pair_ratio must lie in [0, 1], got {self.pair_ratio!r}")
        for name in ("lr_g", "lr_d", "lr_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("z_dim", "width", "transfer_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.sync_fake_weight < 0:
            raise ValueError(f"sync_fake_weight must be >= 0, got {self.sync_fake_weight!r}")
        if self.transfer_samples < 0:
            raise ValueError(f"transfer_samples must be >= 0, got {self.transfer_samples!r}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (the synchronizer needs asynchronous pairs)")

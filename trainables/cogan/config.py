"""CoGAN training config: every knob with its default. Names match YAML keys and TensorBoard tags."""
from __future__ import annotations

from dataclasses import dataclass

from trainables.config import LoopConfig, in_range


@dataclass
class CoGANConfig(LoopConfig):
    """CoGAN's knobs; data, loop and evaluation knobs come from ``LoopConfig``. CoGAN learns from each
    modality's own samples, never from pairs: ``semi_rate`` changes nothing it trains on (the baseline
    a semi-supervised SyncGAN is measured against)."""

    z_dim: int = 64
    """Latent code size; >= 1."""
    width: int = 16
    """Base channel count of every generator head and discriminator body; >= 1."""
    shared_width: int = 128
    """Units of the generators' shared first layer and of the discriminators' shared last hidden layer; >= 1."""
    lr_g: float = 2e-4
    """Adam learning rate of the generators; > 0."""
    lr_d: float = 2e-4
    """Adam learning rate of the discriminators; > 0."""
    beta1: float = 0.5
    """Adam's first-moment decay; in [0, 1)."""
    spectral_norm: bool = True
    """Spectral norm in every layer of the discriminators."""
    transfer_samples: int = 200
    """Test pairs translated each way at the last epoch (``transfer_acc_*``); 0 skips it; >= 0."""
    transfer_steps: int = 30
    """Latent-recovery steps per restart of a translation (``trainables.transfer``); >= 0."""
    transfer_restarts: int = 2
    """Latent-recovery starts per sample; >= 1."""

    def validate(self) -> None:
        super().validate()
        for name in ("z_dim", "width", "shared_width", "transfer_restarts"):
            in_range(self, name, 1)
        for name in ("lr_g", "lr_d"):
            in_range(self, name, 0.0, low_open=True)
        in_range(self, "beta1", 0.0, 1.0, high_open=True)
        for name in ("transfer_samples", "transfer_steps"):
            in_range(self, name, 0)

"""SyncGAN training config: every knob with its default. Names match YAML keys and TensorBoard tags."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from trainables.precision import AMP_MODES


@dataclass
class SyncGANConfig:
    corpus_dir: str = ""
    """Directory written by ``python -m data_prep build`` (manifest.json + train/ + test/)."""
    classifier_path: str = ""
    """Per-modality classifiers used for the sync rate (``trainables.classifiers``)."""
    z_dim: int = 64
    width: int = 32
    """Base channel count of every network."""
    spectral_norm: bool = True
    """Spectral norm in the discriminators (and the synchronizer's convolutions)."""
    lr_g: float = 2e-4
    lr_d: float = 1e-4
    lr_s: float = 2e-4
    beta1: float = 0.5
    pair_ratio: float = 0.5
    """Share of identical latent codes (z1 == z2) in each generator batch; the rest are distinct."""
    semi_rate: float = 1.0
    """Share of training pairs whose synchronous/asynchronous information the synchronizer may use."""
    sync_weight: float = 1.0
    """Weight of the synchronizer loss in the generators' objective."""
    batch_size: int = 64
    epochs: int = 5
    steps_per_epoch: Optional[int] = None
    """Cap on steps per epoch (None: one pass over the worker's shard)."""
    checkpoint_every_steps: Optional[int] = None
    """Also checkpoint (and evaluate and report) every N training steps, not only at epoch ends."""
    amp: str = "auto"
    """Mixed precision: off, bf16, fp16 (with a grad scaler) or auto (fp16 on CUDA, off on CPU)."""
    eval_samples: int = 1000
    seed: int = 0
    tb_dir: str = ""
    """Where rank 0 writes TensorBoard events (the trial directory under Tune)."""
    image_grid_size: int = 8

    def validate(self) -> None:
        for name in ("pair_ratio", "semi_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {v!r}")
        for name in ("lr_g", "lr_d", "lr_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("z_dim", "width", "batch_size", "epochs", "eval_samples"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {', '.join(AMP_MODES)}, got {self.amp!r}")
        if self.checkpoint_every_steps is not None and self.checkpoint_every_steps < 1:
            raise ValueError(f"checkpoint_every_steps must be null or >= 1, got {self.checkpoint_every_steps!r}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (the synchronizer needs asynchronous pairs)")

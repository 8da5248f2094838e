"""One config schema per trainable: dataclasses with every default, unknown keys rejected."""
from __future__ import annotations

import dataclasses
from typing import Optional

from data_prep.schema import from_dict, to_dict  # noqa: F401  (the one config builder, re-exported)


@dataclasses.dataclass
class LoopConfig:
    """The knobs every trainable's training loop shares (``trainables.loop.fit``)."""

    corpus_dir: str = ""
    """Directory written by ``python -m data_prep build`` (manifest.json + train/ + test/)."""
    classifier_path: str = ""
    """Per-modality classifiers that judge generated samples (``trainables.classifiers``)."""
    semi_rate: float = 1.0
    """Share of training pairs whose pairing the model may use (nested subsets per seed)."""
    batch_size: int = 64
    epochs: int = 5
    steps_per_epoch: Optional[int] = None
    """Cap on steps per epoch (None: one pass over the worker's shard)."""
    checkpoint_every_steps: Optional[int] = None
    """Also checkpoint (and evaluate and report) every N training steps, not only at epoch ends."""
    amp: str = "auto"
    """Mixed precision: off, bf16, fp16 (with a grad scaler) or auto (fp16 on CUDA, off on CPU)."""
    eval_samples: int = 1000
    """Samples generated (or test clips translated) per evaluation."""
    seed: int = 0
    tb_dir: str = ""
    """Where rank 0 writes TensorBoard events (the trial directory under Tune)."""
    image_grid_size: int = 8

    def validate(self) -> None:
        from trainables.precision import AMP_MODES

        if not 0.0 <= self.semi_rate <= 1.0:
            raise ValueError(f"semi_rate must lie in [0, 1], got {self.semi_rate!r}")
        for name in ("batch_size", "epochs", "eval_samples", "image_grid_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {', '.join(AMP_MODES)}, got {self.amp!r}")
        for name in ("steps_per_epoch", "checkpoint_every_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be null or >= 1, got {getattr(self, name)!r}")

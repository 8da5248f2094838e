"""One config schema per trainable: dataclasses with every default, unknown keys rejected."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

from data_prep.schema import from_dict, to_dict  # noqa: F401  (the one config builder, re-exported)


@dataclasses.dataclass
class LoopConfig:
    """The knobs every trainable's training loop shares (``trainables.loop.fit``)."""

    corpus_dir: str = ""
    """Directory written by ``python -m data_prep build`` (manifest.json + train/ + test/)."""
    classifier_path: str = ""
    """Per-modality classifiers that judge generated samples (``trainables.classifiers``)."""
    semi_rate: float = 1.0
    """Share of training pairs whose pairing the model may use (nested subsets per seed); in [0, 1]."""
    batch_size: int = 64
    """Pairs per step and worker; >= 1."""
    epochs: int = 5
    """>= 1."""
    steps_per_epoch: Optional[int] = None
    """Steps per epoch (None: one pass over the worker's shard; more than a pass holds repeats it, each
    pass reshuffled, so evaluations come every N steps whatever the corpus's size); null or >= 1."""
    checkpoint_every_steps: Optional[int] = None
    """Also checkpoint (and evaluate and report) every N training steps, not only at epoch ends; null or >= 1."""
    amp: str = "auto"
    """Mixed precision: off, bf16, fp16 (with a grad scaler) or auto (fp16 on CUDA, off on CPU)."""
    eval_samples: int = 1000
    """Samples generated (or test clips translated) per evaluation; >= 1."""
    seed: int = 0
    """>= 0 (NumPy's generators take no negative seed)."""
    tb_dir: str = ""
    """Where rank 0 writes TensorBoard events (the trial directory under Tune)."""
    image_grid_size: int = 8
    """Pairs per side of the TensorBoard sample grid; >= 1."""

    def validate(self) -> None:
        from trainables.precision import AMP_MODES

        in_range(self, "semi_rate", 0.0, 1.0)
        for name in ("batch_size", "epochs", "eval_samples", "image_grid_size"):
            in_range(self, name, 1)
        in_range(self, "seed", 0)
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {', '.join(AMP_MODES)}, got {self.amp!r}")
        for name in ("steps_per_epoch", "checkpoint_every_steps"):
            in_range(self, name, 1, none_ok=True)


def in_range(cfg: Any, name: str, low: float | None = None, high: float | None = None, *,
             low_open: bool = False, high_open: bool = False, none_ok: bool = False) -> None:
    """ValueError naming ``name`` unless ``cfg.<name>`` is a finite number within the range (bounds
    inclusive unless ``low_open``/``high_open``; ``none_ok``: null allowed too). NaN and infinities fail."""
    value = getattr(cfg, name)
    if value is None and none_ok:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return
    if low is not None and high is not None:
        rule = f"lie in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        rule = f"be {'>' if low_open else '>='} {low:g}"
    else:
        rule = f"be {'<' if high_open else '<='} {high:g}"
    if none_ok:
        rule = rule.replace("be ", "be null or ", 1) if rule.startswith("be ") else f"be null or {rule}"
    raise ValueError(f"{name} must {rule}, got {value!r}")

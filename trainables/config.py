"""One config schema per trainable: dataclasses with every default, unknown keys rejected."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], values: Mapping[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from ``values``; an unknown key is a ValueError naming it."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {unknown} for {cls.__name__}; valid keys: {sorted(fields)}"
        )
    values = {k: _coerce(k, v, fields[k].type, where) for k, v in values.items()}
    obj = cls(**values)
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate()
    return obj


def to_dict(obj: Any) -> dict[str, Any]:
    """The resolved config as a plain dict (all defaults included)."""
    return dataclasses.asdict(obj)


def _coerce(key: str, value: Any, annotation: Any, where: str) -> Any:
    """Numbers given as text (YAML reads ``1e-3`` as a string) become numbers; wrong types are errors."""
    kind = str(annotation)
    if value is None or kind not in ("float", "int", "bool", "Optional[int]", "Optional[float]"):
        return value
    if "bool" in kind:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {key} must be true or false, got {value!r}")
        return value
    target = float if "float" in kind else int
    if isinstance(value, bool):
        raise ValueError(f"{where}: {key} must be a number, got {value!r}")
    try:
        number = float(value) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(f"{where}: {key} must be a number, got {value!r}") from None
    if not isinstance(number, (int, float)):
        raise ValueError(f"{where}: {key} must be a number, got {value!r}")
    if target is int:
        if float(number) != int(number):
            raise ValueError(f"{where}: {key} must be a whole number, got {value!r}")
        return int(number)
    return float(number)


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

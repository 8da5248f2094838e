"""One config schema per trainable: dataclasses with every default, unknown keys rejected."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], values: Mapping[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from ``values``; an unknown key is a ValueError naming it."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {unknown} for {cls.__name__}; valid keys: {sorted(fields)}"
        )
    obj = cls(**dict(values))
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate()
    return obj


def to_dict(obj: Any) -> dict[str, Any]:
    """The resolved config as a plain dict (all defaults included)."""
    return dataclasses.asdict(obj)

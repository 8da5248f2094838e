"""One way to build a config: a dataclass per schema with every default, built from a mapping by
``from_dict`` (unknown keys rejected, numbers written as text coerced, its ``validate()`` run).
Corpus configs (``data_prep.corpora``), model and loop configs (``trainables``) and the study's typed
parts (``platform.study``) all use it."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], values: Mapping[str, Any], where: str = "config", prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``values`` and run its ``validate()`` if it has one: an unknown key or
    a value of the wrong type is a ValueError that starts with ``where`` and names the key (``prefix``
    before key names: the path of a nested config, e.g. ``logmel.``)."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: {prefix.rstrip('.') or cls.__name__} must be a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {[prefix + k for k in unknown]} for {cls.__name__}; "
                         f"valid keys: {[prefix + k for k in sorted(fields)]}")
    values = {k: _coerce(prefix + k, v, fields[k].type, where) for k, v in values.items()}
    obj = cls(**values)
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate()
    return obj


def to_dict(obj: Any) -> dict[str, Any]:
    """The resolved config as a plain dict (all defaults included)."""
    return dataclasses.asdict(obj)


_NUMBERS = {"float": float, "Optional[float]": float, "float | None": float,
            "int": int, "Optional[int]": int, "int | None": int}
_NUMBER_LISTS = {"list[float]", "list[int]"}


def _coerce(key: str, value: Any, annotation: Any, where: str) -> Any:
    """Numbers given as text (YAML reads ``1e-3`` as a string) become numbers; wrong types are errors, and
    so is a number that is not finite (``inf``, ``1e400``, ``nan``) in any numeric field or list."""
    kind = str(annotation)
    if value is None:
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {key} must be true or false, got {value!r}")
        return value
    if kind in _NUMBER_LISTS and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"{where}: {key}[{i}] must be a finite number, got {item!r}")
        return value
    if kind not in _NUMBERS:
        return value
    target = _NUMBERS[kind]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: {key} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value_n: float | int = float(value)
        except ValueError:
            raise ValueError(f"{where}: {key} must be a number, got {value!r}") from None
    else:
        value_n = value
    if isinstance(value_n, float) and not math.isfinite(value_n):
        raise ValueError(f"{where}: {key} must be a finite number, got {value!r}")
    if target is int:
        if isinstance(value_n, float) and not value_n.is_integer():
            raise ValueError(f"{where}: {key} must be a whole number, got {value!r}")
        return int(value_n)
    try:
        return float(value_n)
    except OverflowError:  # an int beyond float's range
        raise ValueError(f"{where}: {key} must be a finite number, got {value!r}") from None

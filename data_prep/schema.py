"""One way to build a config: a dataclass per schema with every default, built from a mapping by
``from_dict`` (unknown keys rejected, numbers written as text coerced, its ``validate()`` run).
Corpus configs (``data_prep.corpora``), model and loop configs (``trainables``) and the study's typed
parts (``platform.study``) all use it."""
from __future__ import annotations

import dataclasses
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

"""Every numeric knob of every model config is checked when the config is built (``from_dict``)."""
from __future__ import annotations

import dataclasses

import pytest

from trainables.config import from_dict
from trainables.registry import TRAINABLES

NUMERIC = {"int", "float", "Optional[int]", "Optional[float]"}
CASES = [(name, f.name) for name, t in sorted(TRAINABLES.items()) for f in dataclasses.fields(t.config_cls)
         if str(f.type) in NUMERIC]


@pytest.mark.parametrize("trainable, key", CASES)
@pytest.mark.parametrize("value", ["nan", "-inf", "1e400"])
def test_a_non_finite_value_of_any_numeric_knob_is_one_error_naming_it(trainable, key, value):
    with pytest.raises(ValueError, match=rf"^config: {key} must be a finite number, got '{value}'$"):
        from_dict(TRAINABLES[trainable].config_cls, {key: value})


@pytest.mark.parametrize("trainable, key, value, message", [
    ("syncgan", "beta1", 1.0, r"beta1 must lie in \[0, 1\), got 1.0"),
    ("syncgan", "beta1", -0.1, r"beta1 must lie in \[0, 1\)"),
    ("syncgan", "sync_weight", -1.0, "sync_weight must be >= 0, got -1.0"),
    ("syncgan", "seed", -1, "seed must be >= 0"),
    ("vae", "seed", -3, "seed must be >= 0"),
])
def test_a_value_outside_its_documented_range_is_refused(trainable, key, value, message):
    with pytest.raises(ValueError, match=message):
        from_dict(TRAINABLES[trainable].config_cls, {key: value})

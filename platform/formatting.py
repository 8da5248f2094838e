"""How the console and the reports print a number and a set of settings, the one place that decides it.

Four significant digits: a learning rate of 2e-4 prints as ``0.0002`` (never ``0.000``), a sync rate as
``0.8734``, an FID as ``1088``; very small or large values switch to exponent form (``1e-07``), as
Python's ``g`` format does. Integers and strings print as they are.
"""
from __future__ import annotations

from typing import Any, Mapping


def number(v: Any) -> str:
    """``v`` readably: floats with four significant digits, anything else as ``str``."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def settings(items: Mapping[str, Any]) -> str:
    """``lr_g=0.0002, semi_rate=0.4, optimizer=adam``: a trial's settings (or any mapping) on one line."""
    return ", ".join(f"{k}={number(v)}" for k, v in items.items())

"""Orchestration package of the platform (CLIs, studies, search wiring).

The name ``platform`` clashes with Python's standard-library module, which torch, ray,
pyarrow, optuna and pandas import. This package therefore first loads the standard
library's ``platform.py`` by its path and re-exports every public name, so
``import platform; platform.system()`` keeps working for everyone, while
``platform.tune`` and the other submodules are this project's.
"""
from __future__ import annotations

import importlib.util as _ilu
import os as _os
import sysconfig as _sysconfig

_STDLIB_PLATFORM_PATH = _os.path.join(_sysconfig.get_paths()["stdlib"], "platform.py")
_spec = _ilu.spec_from_file_location("_stdlib_platform", _STDLIB_PLATFORM_PATH)
if _spec is None or _spec.loader is None:  # pragma: no cover - broken Python install
    raise ImportError(f"cannot load the standard-library platform module from {_STDLIB_PLATFORM_PATH}")
_stdlib_platform = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_stdlib_platform)

for _name in dir(_stdlib_platform):
    if not _name.startswith("__"):
        globals()[_name] = getattr(_stdlib_platform, _name)

stdlib = _stdlib_platform
"""The standard-library ``platform`` module itself."""

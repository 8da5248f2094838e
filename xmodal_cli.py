"""Console-script entry points (``xmodal-tune``, ``xmodal-train``, ``xmodal-prep``, ``xmodal-report``,
``xmodal-generate``).

An installed package named ``platform`` loses to the standard library's module on ``sys.path``,
so these entry points load this project's ``platform`` package by its path first. Its
``__init__`` re-exports the whole standard-library ``platform`` API, so nothing else breaks.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def load_platform_package() -> None:
    """Make `import platform` mean this project's package (benchmarks and scripts call it before importing from it)."""
    current = sys.modules.get("platform")
    if current is not None and hasattr(current, "__path__"):
        return  # already this project's package
    pkg = Path(__file__).resolve().parent / "platform"
    spec = importlib.util.spec_from_file_location("platform", pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the platform package from {pkg}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["platform"] = module
    spec.loader.exec_module(module)


def tune() -> None:
    load_platform_package()
    from platform.tune import main

    raise SystemExit(main())


def train() -> None:
    load_platform_package()
    from platform.train import main

    raise SystemExit(main())


def report() -> None:
    load_platform_package()
    from platform.report import main

    raise SystemExit(main())


def generate() -> None:
    load_platform_package()
    from platform.generate import main

    raise SystemExit(main())


def prep() -> None:
    from data_prep.cli import main

    raise SystemExit(main())

"""The repo's `platform` package must not break the standard library's `platform` module."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_heavy_libraries_import_from_repo_root():
    code = "import torch, ray, pyarrow, optuna, pandas, platform.tune; print(platform.tune.__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "platform.tune"


def test_stdlib_platform_functions_still_work():
    import platform

    assert platform.__file__.startswith(str(ROOT))  # the project's package ...
    assert platform.system() == platform.stdlib.system()  # ... re-exporting the standard library's API
    assert platform.python_version() == sys.version.split()[0]
    assert platform.uname().machine == platform.machine()
    assert platform.python_implementation() == "CPython"
    assert callable(platform.platform) and platform.platform()


def test_console_script_loader_finds_the_project_package():
    code = (
        "import importlib, sys; import platform as std; assert not hasattr(std, '__path__');"
        "import xmodal_cli; xmodal_cli.load_platform_package();"
        "import platform.study, platform.study_files; print(platform.study_files.known_studies())"
    )
    # run from another directory with only the stdlib `platform` importable first
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.append({str(ROOT)!r}); {code}"],
                         cwd="/", capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "syncgan_semi" in out.stdout


def test_every_console_script_runs_its_cli_from_another_directory():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert {"xmodal-tune", "xmodal-train", "xmodal-prep", "xmodal-report", "xmodal-generate"} <= set(scripts)
    for name, target in scripts.items():
        module, func = target.split(":")
        code = (f"import sys; sys.path.append({str(ROOT)!r}); sys.argv = [{name!r}, '--help'];"
                f"import {module}; {module}.{func}()")
        out = subprocess.run([sys.executable, "-I", "-c", code], cwd="/", capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "usage:" in out.stdout, (name, out.stdout[-500:], out.stderr[-2000:])

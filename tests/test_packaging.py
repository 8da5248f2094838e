"""The wheel a non-editable ``pip install .`` would install holds every package, its data files and the
console scripts (the editable install of scripts/setup.sh finds packages the wheel may lack)."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("platform", "trainables", "data_prep")


def test_the_wheel_holds_every_package_data_file_and_console_script(tmp_path):
    src = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file() and name.split("/")[0] in (*PACKAGES, "pyproject.toml", "xmodal_cli.py", "README.md"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path / "dist"
    build = ("import sys; from setuptools import build_meta; "
             "print(build_meta.build_wheel(sys.argv[1]))")
    proc = subprocess.run([sys.executable, "-c", build, str(out)], cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = out / proc.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())

    sources = {p.relative_to(src).as_posix() for pkg in PACKAGES for p in (src / pkg).rglob("*.py")}
    assert sources - names == set(), "modules missing from the wheel"
    data = {p.relative_to(src).as_posix() for p in [*(src / "platform").glob("*.yaml"), *(src / "platform" / "studies").glob("*.yaml")]}
    assert data and data - names == set(), "study and preset files missing from the wheel"
    assert "xmodal_cli.py" in names

    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    parser = configparser.ConfigParser()
    parser.read_string(zipfile.ZipFile(wheel).read(entry_points).decode())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert dict(parser["console_scripts"]) == scripts

"""``benchmarks/gpu_check.sh --dry-run``: the GPU check's every step, tiny, on CPU, as it will run on a lent
GPU machine: from a packed corpus (``benchmarks/gpu_pack.py``), with the packages that machine lacks made
unimportable (librosa and soundfile: nothing may featurize there; the plotting and reporting extras)."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# imported first by every Python process of the check (PYTHONPATH): these packages cannot be imported,
# and their metadata is gone (torchmetrics asks for librosa's before importing it)
NO_AUDIO = '''
import importlib.metadata as _md
import sys

_BLOCKED = ("librosa", "soundfile", "matplotlib", "plotly", "psycopg", "optuna_dashboard", "mlxtend")


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: the GPU machine has none)", name=name)
        return None


def _hide(fn):
    def wrapped(name, *args, **kwargs):
        if name.lower() in _BLOCKED:
            raise _md.PackageNotFoundError(name)
        return fn(name, *args, **kwargs)
    return wrapped


sys.meta_path.insert(0, _Block())
_md.version, _md.distribution = _hide(_md.version), _hide(_md.distribution)
'''


def _tiny_corpus(root: Path) -> Path:
    """``write_tiny_corpus`` of tests/trainables/conftest.py (its fixtures are not visible here)."""
    spec = importlib.util.spec_from_file_location("_trainables_tests_conftest", ROOT / "tests" / "trainables" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_tiny_corpus(root)


def test_dry_run_walks_every_step_without_what_the_gpu_machine_lacks(tmp_path):
    from trainables.classifiers import ensure_classifiers

    corpus = _tiny_corpus(tmp_path)
    ensure_classifiers(corpus, epochs_image=1, epochs_audio=1)
    packed = tmp_path / "packed"
    pack = [sys.executable, "benchmarks/gpu_pack.py", "--corpus-dir", str(corpus), "--judge-epochs", "1", "1", "--out"]
    proc = subprocess.run([*pack, str(packed)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((packed / "gpu_data.json").read_text())["classifier"] == "classifiers-i1-a1-s0.pt"
    too_big = subprocess.run([*pack, str(tmp_path / "big"), "--budget-mib", "0.5"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert too_big.returncode == 1 and "exceeds" in too_big.stderr

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(NO_AUDIO)
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(tmp_path / "site")}
    blocked = subprocess.run([sys.executable, "-c", "import librosa"], env=env, capture_output=True, text=True)
    assert "blocked" in blocked.stderr

    report = tmp_path / "report.md"
    proc = subprocess.run(["bash", "benchmarks/gpu_check.sh", "--dry-run", "--data", str(packed), "--out", str(report)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = report.read_text()
    for step in ("speed", "gpu_tests", "time_to_quality", "slides_vae", "slides_vaegan"):
        assert f"| {step} | ok |" in text, text
    for section in ("## Tests marked gpu", "## Steps/s and achieved TFLOP/s", "**Per-card figure for docs/clusters.md**",
                    "## Time to quality", "| new | 1.0 |", "## The slides' VAE and VAE-GAN", "| vaegan | "):
        assert section in text, section
    assert "needs a CUDA GPU" in text  # the gpu tests ran, and skipped without CUDA

"""Failed trials in one line each: the summary of a search whose every trial failed (real Ray Tune
``Result`` objects and Tune's ``error.txt`` files on disk, no Tune run), and what it prints."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from ray.exceptions import RayTaskError
from ray.tune import Result
from tiny_study import TINY_STUDY

from platform.failures import failure_record
from platform.formatting import failure_line
from platform.study import Study
from platform.summary import summarize
from platform.tune import exit_code, print_summary

# Tune's error.txt of a trial whose SyncGAN diverged (Ray 2.60, Train V2): the worker's traceback inside
# Ray's wrappers, ~100 lines in a real run (shortened here)
FRAMES = "".join(f'  File "/work/main/.venv/lib/python3.11/site-packages/ray/frame{i}.py", line {i}, in f{i}\n    g()\n'
                 for i in range(40))
ERROR_TXT = f"""Failure # 1 (occurred at 2026-11-23_17-49-58)
\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=2357, ip=192.0.2.2, actor_id=b497da, repr=tune_trial)
Traceback (most recent call last):
{FRAMES}ray.train.WorkerGroupError: Training failed due to worker errors:
[Rank 0 Error Snippet]:
Traceback (most recent call last):
{FRAMES}  File "/work/main/trainables/syncgan/model.py", line 146, in _finite
    raise FloatingPointError(f"SyncGAN diverged: {{name}} = {{value}}")
FloatingPointError: SyncGAN diverged: loss_d_image = nan
"""


def failed_result(trial_dir: Path, trial_id: str, lr_g: float) -> Result:
    """A trial as Tune returns it after a failure: its error, its directory with error.txt, its config."""
    trial_dir.mkdir(parents=True)
    (trial_dir / "error.txt").write_text(ERROR_TXT)
    error = RayTaskError("ImplicitFunc.train", ERROR_TXT, FloatingPointError("SyncGAN diverged: loss_d_image = nan"))
    return Result(metrics={"trial_id": trial_id, "config": {"lr_g": lr_g, "semi_rate": 0.4}}, checkpoint=None,
                  error=error, path=str(trial_dir))


def test_a_failure_is_its_id_root_cause_and_traceback_file():
    f = failure_record("ab12_00001", ERROR_TXT, "/r/error.txt")
    assert f == {"trial_id": "ab12_00001", "error_type": "FloatingPointError",
                 "message": "SyncGAN diverged: loss_d_image = nan", "error_file": "/r/error.txt"}
    assert failure_line({**f, "config": {"lr_g": 3e-4}}) == (
        "trial ab12_00001 (lr_g=0.0003) failed: FloatingPointError: SyncGAN diverged: loss_d_image = nan "
        "(traceback: /r/error.txt)")
    assert failure_record("x", "", "f")["error_type"] == "Error"  # no error text: still one line


def test_a_search_whose_every_trial_failed_prints_one_line_per_trial(tmp_path, capsys):
    study = Study.from_dict(copy.deepcopy(TINY_STUDY), name="tiny_failing")
    grid = [failed_result(tmp_path / f"tune_trial_{i}", f"ab12_0000{i}", lr) for i, lr in enumerate((1e-4, 5e-4))]
    summary = summarize(study, grid, str(tmp_path), 12.0)  # raised with every traceback before
    summary.update(optuna_storage="sqlite:///x.db", interrupted=False, trial_states={"ERROR": 2})
    assert summary["best"] is None and summary["succeeded"] == 0 and summary["trials_failed"] == 2
    first = summary["failures"][0]
    assert first["trial_id"] == "ab12_00000" and first["error_type"] == "FloatingPointError"
    assert first["error_file"] == str(tmp_path / "tune_trial_0" / "error.txt")
    assert first["reason"] == "FloatingPointError: SyncGAN diverged: loss_d_image = nan"
    assert all("\n" not in e and "Traceback" not in e for e in summary["errors"])

    print_summary(summary)
    assert exit_code(summary, "tiny_failing") == 1
    out = capsys.readouterr()
    failed = [ln for ln in out.out.splitlines() if ln.startswith("failed:")]
    assert len(failed) == 2 and all("FloatingPointError: SyncGAN diverged" in ln and "error.txt" in ln for ln in failed)
    assert "Traceback" not in out.out + out.err and "File \"" not in out.out + out.err
    assert len(out.out.splitlines()) < 10 and out.err.count("\n") == 1 and "no trial of tiny_failing succeeded" in out.err


@pytest.mark.parametrize("summary, code", [
    ({"interrupted": False, "succeeded": 2, "study": "s"}, 0),
    ({"interrupted": True, "succeeded": 0, "study": "s", "trial_states": {}, "experiment_dir": "/r/e"}, 130),
    ({"interrupted": False, "succeeded": 2, "study": "s", "not_written": "cannot write the summary: /r/e: full"}, 1),
])
def test_exit_codes(summary, code, capsys):
    assert exit_code(summary, "s") == code

"""SIGINT stops a study cleanly; --resume finishes it, keeping the trials that had finished."""
from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _finished_trials(experiment: Path, epochs: int) -> list[Path]:
    done = []
    for result in experiment.glob("*/result.json"):
        rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        if rows and rows[-1].get("epoch") == epochs:
            done.append(result.parent)
    return done


def _complete(results: Path) -> int:
    """How many COMPLETE trials the running study's Optuna storage holds, read through a read-only
    SQLite connection: opening it through Optuna would create its schema, racing the study's own."""
    db = results / "tiny_study" / "optuna.db"
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:  # no tables yet, or the file busy: look again
        return 0


@pytest.mark.slow
def test_sigint_then_resume_finishes_the_study(tiny_study_yaml, shared_data_root, tmp_path):
    results = tmp_path / "results"
    base = [sys.executable, "-m", "platform.tune", "--study", str(tiny_study_yaml), "--results", str(results),
            "--data", str(shared_data_root), "--name", "r", "--set", "num_samples=3", "--set", "scheduler.type=fifo"]
    experiment = results / "tiny_study" / "r"
    proc = subprocess.Popen(base, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 400
    # the signal goes once Optuna holds a COMPLETE trial: a last epoch in result.json comes before the
    # trial ends (and is told to Optuna), so signalling then may catch it unfinished
    while time.time() < deadline and proc.poll() is None and not _complete(results):
        time.sleep(1)
    assert proc.poll() is None, f"the study ended before it could be interrupted: {proc.stdout.read()[-3000:]}"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 130, out[-3000:]
    assert "--resume --name r" in out

    storage = optuna.storages.RDBStorage(f"sqlite:///{results / 'tiny_study' / 'optuna.db'}")
    before = optuna.load_study(study_name="tiny_study", storage=storage).trials
    complete_before = [t for t in before if t.state == optuna.trial.TrialState.COMPLETE]
    finished = {d.name: d for d in _finished_trials(experiment, 2)}
    assert 1 <= len(complete_before) < 3 and len(finished) == len(complete_before)
    rows_before = {n: (d / "result.json").read_text() for n, d in finished.items()}

    resumed = subprocess.run([*base, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    after = optuna.load_study(study_name="tiny_study", storage=storage).trials
    complete_after = [t for t in after if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete_after) == 3, [t.state for t in after]
    assert {t.number for t in complete_before} <= {t.number for t in complete_after}
    for n, text in rows_before.items():  # the trials that had finished were not run again
        assert (experiment / n / "result.json").read_text() == text, n
    summary = json.loads((experiment / "summary.json").read_text())
    assert summary["resumed"] and not summary["interrupted"] and summary["trials"] == 3
    print(f"resume counts: optuna COMPLETE before={len(complete_before)} after={len(complete_after)}; "
          f"all trials before={len(before)} after={len(after)}")

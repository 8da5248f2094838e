"""Two platform.tune runs of one study, on one SQLite file, started together (real processes, real Ray)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_runs_of_one_study_draw_their_own_points_into_their_own_directories(tiny_study_yaml, tmp_path):
    results, data = tmp_path / "results", tmp_path / "data"  # a fresh data root: both runs find no corpus yet
    base = [sys.executable, "-m", "platform.tune", "--study", str(tiny_study_yaml), "--results", str(results),
            "--data", str(data), "--set", "num_samples=1", "--set", "config.epochs=1", "--set", "scheduler.type=fifo"]
    popen = dict(cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = subprocess.Popen([*base, "--name", "a"], **popen)
    second = subprocess.Popen(base, **popen)  # no --name: the default name, in the same second
    slots = results / "tiny_study" / ".workers"
    deadline = time.time() + 120
    while time.time() < deadline and len([p for p in slots.glob("slot-*.lock") if p.read_text()]) < 2:
        time.sleep(0.2)
    third = subprocess.run([*base, "--name", "a"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    outs = [p.communicate(timeout=900)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [o[-3000:] for o in outs]

    # a live run's experiment is refused to a third run, in one line, before it starts anything
    assert third.returncode == 2 and third.stderr.count("\n") == 1, third.stdout[-2000:] + third.stderr
    assert "experiment a is being run by another platform.tune (pid" in third.stderr

    experiments = sorted(p.parent.name for p in (results / "tiny_study").glob("*/summary.json"))
    assert len(experiments) == 2 and "a" in experiments, experiments
    for name in experiments:
        summary = json.loads((results / "tiny_study" / name / "summary.json").read_text())
        assert summary["trials"] == 1 and summary["trials_failed"] == 0, summary["errors"]

    storage = optuna.storages.RDBStorage(f"sqlite:///{results / 'tiny_study' / 'optuna.db'}")
    trials = optuna.load_study(study_name="tiny_study", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 2
    points = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(points)) == 2, points  # not the same point twice (both runs drew their first at once)

    # one corpus, its judges trained once and still there
    corpora = [p for p in data.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
    assert len(corpora) == 1 and len(list(corpora[0].glob("classifiers-*.pt"))) == 1
    print(f"experiments {experiments}; points {points}")

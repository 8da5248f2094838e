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


def _registered(experiment: Path) -> dict[str, float]:
    """Per trial directory, the epoch of the checkpoint a restart of the trial resumes from: a trial that trains
    in its own process, its newest intact ``checkpoint_*`` (``trainables.ray_train.start_checkpoint``); a
    TorchTrainer trial, the newest checkpoint Train has registered (its checkpoint manager's snapshot)."""
    from trainables.checkpoint import STATE_FILE, CheckpointDamaged, check_intact, read_state

    out = {}
    for trial in experiment.iterdir():
        for ckpt in sorted(trial.glob("checkpoint_*"), reverse=True) if trial.is_dir() else []:
            try:
                check_intact(ckpt)
                out[trial.name] = read_state(ckpt / STATE_FILE)["progress"]["epoch"]
                break
            except (CheckpointDamaged, OSError):  # being written
                continue
    for snapshot in experiment.glob("*/train/*/checkpoint_manager_snapshot.json"):
        try:
            latest = json.loads(snapshot.read_text())["latest_checkpoint_result"]
        except (OSError, ValueError):  # being written
            continue
        out[snapshot.parents[2].name] = latest["metrics"]["epoch"] if latest else 0
    return out


def _interrupt_mid_trial(proc, results: Path, experiment: Path, complete: int, skip: set, sig: int, epochs: int) -> str:
    """Send ``sig`` once Optuna holds ``complete`` COMPLETE trials and another trial (not in ``skip``) has a
    registered checkpoint before its last epoch; returns that trial's directory name."""
    deadline = time.time() + 500
    while time.time() < deadline and proc.poll() is None:
        if _complete(results) >= complete:
            mid = [n for n, e in _registered(experiment).items() if n not in skip and 1 <= e < epochs]
            if mid:
                proc.send_signal(sig)
                return mid[0]
        time.sleep(0.2)
    raise AssertionError(f"no trial to interrupt mid-run: {proc.stdout.read()[-3000:] if proc.stdout else ''}")


def _end_ray_session_of(pid: int) -> None:
    """A driver killed with SIGKILL leaves some of the Ray processes it started (agents, workers finishing
    an epoch): end those of its session (``/tmp/ray/session_*_<pid>``), by their ids, and wait for them."""
    import os

    marker = f"_{pid}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        left = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if any(marker in os.readlink(fd) for fd in (proc / "fd").iterdir()):
                    left.append(int(proc.name))
            except OSError:
                continue
        if not left:
            return
        for other in left:
            with contextlib.suppress(OSError):
                os.kill(other, signal.SIGKILL)
        time.sleep(1)


def _epochs_by_process(trial_dir: Path) -> list[tuple[int, float]]:
    rows = [json.loads(line) for line in (trial_dir / "progress.jsonl").read_text().splitlines() if line.strip()]
    return [(r["pid"], r["epoch"]) for r in rows]


def _continued(trial_dir: Path, registered: float, epochs: int) -> None:
    """The trial's epochs up to its registered checkpoint ran once, in its first process; the process that
    resumed it ran only the epochs after that checkpoint."""
    runs = _epochs_by_process(trial_dir)
    first = runs[0][0]
    before = [e for p, e in runs if p == first]
    after = [e for p, e in runs if p != first]
    assert sorted(e for e in before if e <= registered) == list(range(1, int(registered) + 1)), runs
    assert after == list(range(int(registered) + 1, epochs + 1)), (registered, runs)


@pytest.mark.slow
@pytest.mark.parametrize("in_process", [True, False], ids=["in_process", "torch_trainer"])
def test_sigint_and_sigkill_then_resume_continue_each_trial_from_its_checkpoint(tiny_study_yaml, shared_data_root,
                                                                                tmp_path, in_process):
    """SIGINT, then a SIGKILL of the driver (what a lost head node looks like), each while a trial is between
    checkpoints: ``--resume`` continues that trial from its last checkpoint (its finished epochs are not run
    again), keeps the finished trials, and leaves no Optuna trial RUNNING. Both ways a one-worker trial trains:
    in the trial's own process (Tune's checkpoints, the default) and through a TorchTrainer (Train's)."""
    import os

    epochs = 4
    results = tmp_path / "results"
    base = [sys.executable, "-m", "platform.tune", "--study", str(tiny_study_yaml), "--results", str(results),
            "--data", str(shared_data_root), "--name", "r", "--set", "num_samples=3", "--set", "scheduler.type=fifo",
            "--set", f"config.epochs={epochs}", "--set", f"presets.local-cpu.in_process={str(in_process).lower()}"]
    env = {**os.environ, "XMODAL_OPTUNA_HEARTBEAT": "1"}  # a killed driver's trials are stale after 2 s
    experiment = results / "tiny_study" / "r"
    popen = dict(cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    proc = subprocess.Popen(base, **popen)
    b = _interrupt_mid_trial(proc, results, experiment, 1, set(), signal.SIGINT, epochs)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 130, out[-3000:]
    assert "--resume --name r" in out
    registered_b = _registered(experiment)[b]
    storage = optuna.storages.RDBStorage(f"sqlite:///{results / 'tiny_study' / 'optuna.db'}")  # once it exists
    complete_before = {t.number for t in optuna.load_study(study_name="tiny_study", storage=storage).trials
                       if t.state == optuna.trial.TrialState.COMPLETE}
    finished = {d.name: d for d in _finished_trials(experiment, epochs)}
    assert len(complete_before) == len(finished) >= 1 and b not in finished
    rows_before = {n: (d / "result.json").read_text() for n, d in finished.items()}

    proc = subprocess.Popen([*base, "--resume"], **popen)
    c = _interrupt_mid_trial(proc, results, experiment, len(complete_before) + 1, {b, *finished}, signal.SIGKILL, epochs)
    proc.wait(timeout=60)
    _end_ray_session_of(proc.pid)
    registered_c = _registered(experiment)[c]
    running = [t.number for t in optuna.load_study(study_name="tiny_study", storage=storage).trials
               if t.state == optuna.trial.TrialState.RUNNING]
    assert running, "the killed driver's trial should still be RUNNING in Optuna until someone notices"

    # other settings are refused in one line naming each key, before Ray starts (nothing runs, nothing changes)
    refused = subprocess.run([*base, "--resume", "--set", "num_samples=4", "--set", "config.epochs=3"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stdout[-2000:] + refused.stderr
    assert "num_samples: 3 -> 4" in refused.stderr and "config.epochs: 4 -> 3" in refused.stderr, refused.stderr
    assert _registered(experiment)[c] == registered_c

    resumed = subprocess.run([*base, "--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    after = optuna.load_study(study_name="tiny_study", storage=storage).trials
    states = [t.state.name for t in after]
    assert "RUNNING" not in states and "WAITING" not in states and states.count("COMPLETE") == 3, states
    assert complete_before <= {t.number for t in after if t.state == optuna.trial.TrialState.COMPLETE}
    for n, text in rows_before.items():  # the trials that had finished were not run again
        assert (experiment / n / "result.json").read_text() == text, n
    _continued(experiment / b, registered_b, epochs)
    _continued(experiment / c, registered_c, epochs)
    summary = json.loads((experiment / "summary.json").read_text())
    assert summary["resumed"] and not summary["interrupted"] and summary["trials"] == 3
    # where the trials trained: their own Tune checkpoints, or Train's run under the trial's train/
    trials = [d for d in experiment.iterdir() if (d / "params.json").is_file()]
    assert all(any(d.glob("checkpoint_*")) == in_process and (d / "train").is_dir() != in_process for d in trials)
    print(f"interrupted {b} after epoch {registered_b} (SIGINT), {c} after epoch {registered_c} (SIGKILL); "
          f"optuna states {states}")

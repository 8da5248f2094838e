"""A tiny study end to end: data_prep -> classifiers -> Ray Tune + Optuna + ASHA -> TensorBoard."""
from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from platform.study import load_study
from platform.tune import run
from tensorboard_records import hparams_records

@pytest.mark.slow
def test_tiny_study_end_to_end(ray_local, tiny_study_yaml, shared_data_root, tmp_path):
    study = load_study(str(tiny_study_yaml))
    summary = run(study, tmp_path / "results", shared_data_root, name="e2e")

    assert summary["trials"] == 3 and summary["trials_failed"] == 0, summary["errors"]
    assert 0.0 <= summary["best"]["metrics"]["sync_rate"] <= 1.0
    assert Path(summary["best"]["checkpoint"]).is_dir()

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'results' / 'tiny_study' / 'optuna.db'}")
    trials = optuna.load_study(study_name="tiny_study", storage=storage).trials
    assert len(trials) == 3
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert {"lr_g", "semi_rate"} <= set(trials[0].params)

    experiment = tmp_path / "results" / "tiny_study" / "e2e"
    trial_dirs = [d for d in experiment.iterdir() if d.is_dir() and (d / "params.json").exists()]
    assert len(trial_dirs) == 3
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for d in trial_dirs:
        events = list(d.glob("events.out.tfevents.*"))
        assert events, f"no TensorBoard events in {d}"
        tags = EventAccumulator(str(d)).Reload().Tags()
        assert "eval/sync_rate" in tags["scalars"] and "samples/pairs" in tags["images"]
        # one HParams record, Tune's, whose metrics are its own ray/tune/* scalars
        [hp] = hparams_records(d)
        assert {"lr_g", "semi_rate"} <= set(hp["start"].hparams) and "ray/tune/sync_rate" in hp["metrics"]

    info = json.loads((experiment / "run_info.json").read_text())
    assert info["versions"]["ray"] == "2.60.0" and info["git_commit"]
    assert json.loads((experiment / "summary.json").read_text())["best"]["trial_dir"]


@pytest.mark.slow
def test_study_with_results_uri_and_postgresql_storage(ray_local, tiny_study_yaml, shared_data_root, tmp_path,
                                                       postgres, monkeypatch):
    """What a cluster does: results through a filesystem URI, the Optuna study in PostgreSQL."""
    monkeypatch.setenv("TEST_PG_PASSWORD", postgres["password"])
    url = postgres["url"].replace(postgres["password"], "${TEST_PG_PASSWORD}")
    study = load_study(str(tiny_study_yaml), ["num_samples=2", "config.epochs=2", "scheduler.grace_period=1"])
    summary = run(study, f"file://{tmp_path}/shared", shared_data_root, name="pg", storage_url=url)
    assert summary["trials"] == 2 and summary["trials_failed"] == 0, summary["errors"]
    assert postgres["password"] not in json.dumps(summary)

    pg = optuna.storages.RDBStorage(postgres["url"])
    trials = optuna.load_study(study_name="tiny_study", storage=pg).trials
    assert len(trials) == 2 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    experiment = tmp_path / "shared" / "tiny_study" / "pg"
    info = json.loads((experiment / "run_info.json").read_text())
    assert info["optuna_storage"].endswith(f"127.0.0.1:{postgres['port']}/optuna_test") and "***" in info["optuna_storage"]
    assert not (tmp_path / "shared" / "tiny_study" / "optuna.db").exists()
    assert len([d for d in experiment.iterdir() if (d / "params.json").exists()]) == 2

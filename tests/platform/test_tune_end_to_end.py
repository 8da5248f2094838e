"""A tiny study end to end: data_prep -> classifiers -> Ray Tune + Optuna + ASHA -> TensorBoard."""
from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

from platform.study import load_study
from platform.tune import run

TINY_STUDY = {
    "trainable": "syncgan",
    "corpus": {"name": "fashion_spoken", "overrides": {
        "train_per_class": 12, "test_per_class": 4, "voices": ["en"], "speeds": [160], "pitches": [30, 50, 70],
        "num_shards": 2,
    }},
    "config": {"epochs": 2, "batch_size": 16, "width": 8, "z_dim": 16, "eval_samples": 100, "steps_per_epoch": 3},
    "search": {"lr_g": {"loguniform": [1e-4, 1e-3]}, "semi_rate": {"choice": [0.4, 1.0]}},
    "objective": {"metric": "sync_rate", "mode": "max"},
    "num_samples": 3,
    "scheduler": {"type": "asha", "grace_period": 1, "reduction_factor": 2},
    "searcher": {"type": "optuna_tpe", "seed": 0, "n_startup_trials": 2},
    "classifiers": {"epochs_image": 1, "epochs_audio": 2},
    # one trial at a time, each worker taking most of the machine: a trial that ASHA stops must
    # hand its resources back, or the next one cannot start (fails after one 60 s attempt)
    "presets": {"local-cpu": {"trial_cpus": 0.01, "num_workers": 1, "cpus_per_worker": 1.5,
                              "max_concurrent_trials": 1, "startup_retries": 1}},
}


@pytest.mark.slow
def test_tiny_study_end_to_end(ray_local, tmp_path):
    path = tmp_path / "tiny_study.yaml"
    path.write_text(yaml.safe_dump(TINY_STUDY))
    study = load_study(str(path))
    summary = run(study, tmp_path / "results", tmp_path / "data", name="e2e")

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

    info = json.loads((experiment / "run_info.json").read_text())
    assert info["versions"]["ray"] == "2.60.0" and info["git_commit"]
    assert json.loads((experiment / "summary.json").read_text())["best"]["trial_dir"]

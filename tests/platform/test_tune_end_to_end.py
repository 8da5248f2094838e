"""A tiny study end to end: data_prep -> classifiers -> Ray Tune + Optuna + ASHA -> TensorBoard."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import optuna
import pytest

from platform.study import load_study
from platform.tune import run
from http_apis import tensorboard_server, wsgi_get
from optuna_dashboard import wsgi
from tensorboard_records import hparams_records

@pytest.mark.slow
def test_tiny_study_end_to_end(ray_local, tiny_study_yaml, shared_data_root, tmp_path, capsys):
    study = load_study(str(tiny_study_yaml))
    summary = run(study, tmp_path / "results", shared_data_root, name="e2e")

    # live progress: one line per trial report, the objective first; Tune's own tables quiet
    out = capsys.readouterr().out
    epochs = study.config["epochs"]
    for n in range(3):
        assert re.search(rf"^trial {n} epoch 1/{epochs}  sync_rate=[0-9.]+ \| sync_kappa=", out, re.M), out[-3000:]
        assert re.search(rf"^trial {n} (finished|stopped by the scheduler at) epoch", out, re.M), out[-3000:]
    assert "Trial status" not in out and "Result(" not in out

    assert summary["trials"] == 3 and summary["trials_failed"] == 0, summary["errors"]
    assert 0.0 <= summary["best"]["metrics"]["sync_rate"] <= 1.0
    # the model's headline metrics after the objective, and its sentence about them
    assert list(summary["best"]["metrics"])[:3] == ["sync_rate", "sync_kappa", "synchronizer_judge_agreement"]
    assert summary["best"]["meaning"].startswith(
        f"The judges put both halves of {summary['best']['metrics']['sync_rate']:.0%} of the generated pairs")
    assert Path(summary["best"]["checkpoint"]).is_dir()

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'results' / 'tiny_study' / 'optuna.db'}")
    ostudy = optuna.load_study(study_name="tiny_study", storage=storage)
    assert ostudy.metric_names == ["sync_rate"]  # the objective's name, recorded in the study
    trials = ostudy.trials
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

    # what a person's browser reads: a real TensorBoard server on the experiment, and optuna-dashboard's API
    # on the storage platform.tune wrote
    with tensorboard_server(experiment, runs=3) as tb:
        runs = {r for r in tb.get("/data/runs") if (experiment / r / "params.json").exists()}
        assert len(runs) == 3
        scalars, images, audio = (tb.get(f"/data/plugin/{p}/tags") for p in ("scalars", "images", "audio"))
        for run_name in runs:
            assert {"eval/sync_rate", "eval/sync_kappa", "eval/synchronizer_judge_agreement"} <= set(scalars[run_name])
            assert "samples/pairs" in images[run_name] and "samples/audio/0" in audio[run_name]
        some = next(iter(runs))
        values = tb.get(f"/data/plugin/scalars/scalars?run={quote(some)}&tag={quote('eval/sync_rate')}")
        reports = (experiment / some / "result.json").read_text().splitlines()
        assert len(values) == len(reports) >= 1 and all(0.0 <= v[2] <= 1.0 for v in values)
        experiment_info = tb.post("/data/plugin/hparams/experiment", {"experimentName": ""})
        assert {"lr_g", "semi_rate"} <= {h["name"] for h in experiment_info["hparamInfos"]}
        groups = tb.post("/data/plugin/hparams/session_groups", {
            "experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": [], "startIndex": 0, "sliceSize": 100})
        assert groups["totalSize"] == 3
    status, listing = wsgi_get(wsgi(f"sqlite:///{tmp_path / 'results' / 'tiny_study' / 'optuna.db'}"), "/api/studies")
    assert status.startswith("200")
    [listed] = [s for s in listing["study_summaries"] if s["study_name"] == "tiny_study"]
    status, detail = wsgi_get(wsgi(f"sqlite:///{tmp_path / 'results' / 'tiny_study' / 'optuna.db'}"),
                              f"/api/studies/{listed['study_id']}")
    assert [t["state"] for t in detail["trials"]] == ["Complete"] * 3


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
    # no file written there holds the password: Tune pickles the searcher (and its storage) into the
    # experiment (searcher-state-*.pkl, tuner.pkl), and the storage pickles its URL as written, ${...} in place
    written = [f for f in (tmp_path / "shared").rglob("*") if f.is_file()]
    assert any(f.name.startswith("searcher-state") for f in written) and any(f.name == "tuner.pkl" for f in written)
    holding = [str(f) for f in written if postgres["password"].encode() in f.read_bytes()]
    assert not holding, f"the PostgreSQL password is written in {holding}"
    # optuna-dashboard's API on the PostgreSQL study platform.tune wrote
    status, listing = wsgi_get(wsgi(postgres["url"]), "/api/studies")
    [listed] = [s for s in listing["study_summaries"] if s["study_name"] == "tiny_study"]
    status, detail = wsgi_get(wsgi(postgres["url"]), f"/api/studies/{listed['study_id']}")
    assert status.startswith("200") and [t["state"] for t in detail["trials"]] == ["Complete"] * 2

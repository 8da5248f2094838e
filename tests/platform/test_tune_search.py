"""Search features end to end on the tiny study (Ray Tune + OptunaSearch, a real SQLite Optuna storage):
grid search with a failing trial recorded as FAIL with its reason; a multi-objective study with a
conditional parameter and its Pareto front."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import optuna
import pytest
import yaml
from http_apis import wsgi_get
from optuna_dashboard import wsgi
from tiny_study import TINY_STUDY

from platform.study import Objective, load_study
from platform.tune import print_summary, run


def _study_file(tmp_path: Path, name: str, **changes) -> Path:
    raw = copy.deepcopy(TINY_STUDY)
    raw["config"].update(changes.pop("config", {}))
    raw.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))  # the search order is the sampling order
    return path


def _optuna_trials(results: Path, name: str):
    storage = optuna.storages.RDBStorage(f"sqlite:///{results / name / 'optuna.db'}")
    return optuna.load_study(study_name=name, storage=storage)


@pytest.mark.slow
def test_grid_search_records_a_failing_trial_as_failed_and_goes_on(ray_local, shared_data_root, tmp_path, capfd,
                                                                   caplog):
    """A batch of 4096 pairs is more than the tiny corpus's 120 training pairs: that trial raises ValueError
    as it starts. The grid (2 points, num_samples from the grid) finishes. (Until issue 33 this trial drew
    lr_g = inf and diverged; a non-finite value is now refused when the study loads.)"""
    path = _study_file(
        tmp_path, "tiny_grid_fail", config={"epochs": 1, "transfer_samples": 0},
        search={"batch_size": {"choice": [16, 4096]}}, searcher={"type": "grid", "seed": 0},
        scheduler={"type": "fifo"}, num_samples=None,
        presets={"local-cpu": {**TINY_STUDY["presets"]["local-cpu"], "max_failures": 0}},
    )
    raw = yaml.safe_load(path.read_text())
    del raw["config"]["batch_size"]  # searched instead
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    study = load_study(str(path))
    assert study.num_samples == 2  # the grid's size
    results = tmp_path / "results"
    capfd.readouterr()
    summary = run(study, results, shared_data_root, name="grid")
    log = capfd.readouterr()

    why = "ValueError: "
    assert summary["trials"] == 2 and summary["trials_failed"] == 1, summary
    (failure,) = summary["failures"]
    assert failure["config"]["batch_size"] == 4096 and "fewer than batch_size 4096" in failure["reason"], failure
    assert failure["reason"].startswith(why)
    assert failure["error_type"] == "ValueError" and Path(failure["error_file"]).is_file()
    # the log: one line for the failed trial, not Tune's traceback of it
    (line,) = [ln for ln in log.err.splitlines() if " failed: ValueError" in ln]
    assert line.startswith(f"trial {failure['trial_id']} (batch_size=4096) failed: {why}")
    assert line.endswith(f"(traceback: {failure['error_file']})")
    assert "Traceback (most recent call last)" not in log.out + log.err, log.err[-3000:]
    assert not [r.getMessage() for r in caplog.records if r.exc_info], "Tune logged a traceback"
    assert summary["best"]["config"] == {"batch_size": 16}
    on_disk = json.loads((results / "tiny_grid_fail" / "grid" / "summary.json").read_text())
    assert on_disk["errors"] and "fewer than batch_size" in on_disk["failures"][0]["reason"]

    trials = _optuna_trials(results, "tiny_grid_fail").trials
    states = {t.params["batch_size"]: t for t in trials}
    assert len(trials) == 2 and set(states) == {16, 4096}
    bad, good = states[4096], states[16]
    assert bad.state == optuna.trial.TrialState.FAIL and "fewer than batch_size" in bad.user_attrs["fail_reason"], \
        bad.user_attrs
    assert good.state == optuna.trial.TrialState.COMPLETE and "fail_reason" not in good.user_attrs
    assert {"grid_id"} <= set(good.system_attrs) and good.user_attrs["tune_trial_id"]
    # what optuna-dashboard shows of the storage platform.tune wrote: the failed trial and its reason
    app = wsgi(f"sqlite:///{results / 'tiny_grid_fail' / 'optuna.db'}")
    status, listing = wsgi_get(app, "/api/studies")
    [listed] = [s for s in listing["study_summaries"] if s["study_name"] == "tiny_grid_fail"]
    status, detail = wsgi_get(app, f"/api/studies/{listed['study_id']}")
    assert status.startswith("200") and sorted(t["state"] for t in detail["trials"]) == ["Complete", "Fail"]
    [shown] = [t for t in detail["trials"] if t["state"] == "Fail"]
    reason = {a["key"]: a["value"] for a in shown["user_attrs"]}["fail_reason"]
    assert reason == bad.user_attrs["fail_reason"] and reason.startswith(why)
    print_summary({**summary, "optuna_storage": "sqlite"})
    (line,) = [ln for ln in capfd.readouterr().out.splitlines() if ln.startswith("failed:")]
    assert "fewer than batch_size 4096" in line and failure["error_file"] in line


@pytest.mark.slow
def test_multi_objective_study_with_a_conditional_parameter(ray_local, shared_data_root, tmp_path, capsys):
    """Two objectives (sync rate up, FID down), TPE over lr_g, spectral_norm and lr_d only when
    spectral_norm is off (seed 0 draws both branches in its two random start-up trials)."""
    path = _study_file(
        tmp_path, "tiny_pareto", config={"epochs": 1, "transfer_samples": 0},
        search={"lr_g": {"loguniform": [1e-4, 1e-3]}, "spectral_norm": {"choice": [True, False]},
                "lr_d": {"loguniform": [1e-4, 5e-4], "when": {"spectral_norm": False}}},
        objective=[{"metric": "sync_rate", "mode": "max"}, {"metric": "fid_image", "mode": "min"}],
        searcher={"type": "optuna_tpe", "seed": 0, "n_startup_trials": 2}, scheduler={"type": "fifo"}, num_samples=2,
    )
    study = load_study(str(path))
    assert study.objectives == [Objective("sync_rate", "max"), Objective("fid_image", "min")] and study.metric == "sync_rate"
    results = tmp_path / "results"
    summary = run(study, results, shared_data_root, name="mo")
    assert summary["trials"] == 2 and summary["trials_failed"] == 0, summary["errors"]

    ostudy = _optuna_trials(results, "tiny_pareto")
    assert [d.name for d in ostudy.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert ostudy.metric_names == ["sync_rate", "fid_image"]
    trials = ostudy.trials
    assert all(t.state == optuna.trial.TrialState.COMPLETE and len(t.values) == 2 for t in trials)
    for t in trials:  # the conditional parameter exists exactly when its condition holds
        assert ("lr_d" in t.params) == (t.params["spectral_norm"] is False), t.params
    assert {t.params["spectral_norm"] for t in trials} == {True, False}
    experiment = results / "tiny_pareto" / "mo"
    for d in (d for d in experiment.iterdir() if (d / "params.json").exists()):
        params = json.loads((d / "params.json").read_text())
        assert ("lr_d" in params) == (params["spectral_norm"] is False), params

    front = summary["pareto_front"]
    assert summary["best"] is None and 1 <= len(front) <= 2
    assert {round(t.values[0], 9) for t in ostudy.best_trials} == {round(e["metrics"]["sync_rate"], 9) for e in front}
    assert all(Path(e["checkpoint"]).is_dir() for e in front)
    print_summary({**summary, "optuna_storage": "sqlite"})
    assert "Pareto front" in capsys.readouterr().out


@pytest.mark.slow
def test_target_ends_the_search_at_the_first_trial_that_reaches_it(ray_local, shared_data_root, tmp_path, capsys):
    """target: sync_rate >= 0 holds at the first report; with one trial at a time and 3 samples, the search
    stops there: one trial, stopped before its second epoch, COMPLETE in Optuna; not interrupted."""
    path = _study_file(
        tmp_path, "tiny_target", config={"epochs": 3, "transfer_samples": 0}, target=0.0,
        searcher={"type": "random", "seed": 0}, scheduler={"type": "fifo"}, num_samples=3,
        presets={"local-cpu": {**TINY_STUDY["presets"]["local-cpu"], "max_concurrent_trials": 1}},
    )
    study = load_study(str(path))
    results = tmp_path / "results"
    summary = run(study, results, shared_data_root, name="target")
    assert summary["target_reached"] is True and summary["interrupted"] is False, summary
    assert summary["trials"] == 1 and summary["trial_states"] == {"TERMINATED": 1}, summary
    # stopped on its first report: Tune takes one result at a time (TUNE_RESULT_BUFFER_LENGTH 1) and asks
    # the stopper before it asks for the next, so a later epoch the worker went on to is never recorded
    assert summary["best"]["metrics"]["epoch"] == 1
    trials = _optuna_trials(results, "tiny_target").trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE]
    print_summary({**summary, "optuna_storage": "sqlite"})
    assert "target sync_rate >= 0: reached, search stopped" in capsys.readouterr().out


@pytest.mark.slow
def test_a_label_budget_study_covers_every_budget_and_answers_the_trade_off(ray_local, shared_data_root, tmp_path, capsys):
    """Two objectives, sync_rate (max) and label_budget (min), the semi-supervised rate covered: the two
    trials take the rates 0.4 and 1.0 (in turn, whatever the sampler would draw), each reports its share of
    labelled training pairs as label_budget, and the summary holds the best trial at each budget and the
    smallest budget within the tolerance of the best sync_rate."""
    path = _study_file(
        tmp_path, "tiny_budget", config={"epochs": 1, "transfer_samples": 0},
        search={"lr_g": {"loguniform": [1e-4, 1e-3]}, "semi_rate": {"choice": [1.0, 0.4]}},
        objective=[{"metric": "sync_rate", "mode": "max"}, {"metric": "label_budget", "mode": "min"}],
        tolerance=1.0, searcher={"type": "optuna_tpe", "seed": 0, "cover": "semi_rate"},
        scheduler={"type": "fifo"}, num_samples=2,
    )
    results = tmp_path / "results"
    summary = run(load_study(str(path)), results, shared_data_root, name="budget")

    trials = sorted(_optuna_trials(results, "tiny_budget").trials, key=lambda t: t.number)
    assert [t.params["semi_rate"] for t in trials] == [1.0, 0.4]  # the covered values, in their order
    budgets = {t.params["semi_rate"]: t.values[1] for t in trials}
    assert budgets[1.0] == 1.0 and 0.3 < budgets[0.4] < 0.5  # the labelled mask's share of the tiny corpus's pairs
    answer = summary["trade_off"]
    assert [p["config"]["semi_rate"] for p in answer["per_cost"]] == [0.4, 1.0]
    assert answer["smallest_cost"] == pytest.approx(budgets[0.4])  # tolerance 1.0: the cheapest budget is close enough
    print_summary({**summary, "optuna_storage": "sqlite"})
    out = capsys.readouterr().out
    assert "best sync_rate at each label_budget:" in out and "answer: the smallest label_budget within 1 of the best" in out

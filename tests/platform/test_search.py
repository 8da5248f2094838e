"""platform.search without Ray running: define-by-run conditional spaces, the grid sampler, failed
trials' reasons on the Optuna trial, multi-objective bookkeeping and the Pareto front."""
from __future__ import annotations

import copy
import math

import optuna
import pytest
from tiny_study import TINY_STUDY

from platform.search import (
    FAIL_REASON, SearchSpace, StudySearch, TrialErrors, build_searcher, error_reason, make_sampler, pareto_front,
    tell_stopped_trials,
)
from platform.study import Study

optuna.logging.set_verbosity(optuna.logging.WARNING)

# Tune's error.txt of a trial whose SyncGAN diverged (Ray 2.60, Train V2), shortened
ERROR_TXT = """Failure # 1 (occurred at 2026-11-23_17-49-58)
\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=2357, ip=192.0.2.2, actor_id=b497da, repr=tune_trial)
  File "/work/main/trainables/ray_train.py", line 134, in tune_trial
    trainer.fit()
  File "/work/main/.venv/lib/python3.11/site-packages/ray/train/v2/api/data_parallel_trainer.py", line 195, in fit
    raise result.error
ray.train.WorkerGroupError: Training failed due to worker errors:
[Rank 0 Error Snippet]:
\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=2357, ip=192.0.2.2, actor_id=b497da, repr=tune_trial)
  File "/work/main/trainables/syncgan/model.py", line 146, in _finite
    raise FloatingPointError(f"SyncGAN diverged: {name} = {value}")
FloatingPointError: SyncGAN diverged: loss_d_image = nan
"""


def _study(name: str = "offline", **changes):
    raw = copy.deepcopy(TINY_STUDY)
    raw.update(changes)
    return Study.from_dict(raw, name=name)


CONDITIONAL = {
    "lr_g": {"loguniform": [1e-4, 1e-3]},
    "lr_s": {"loguniform": [1e-4, 1e-3], "when": {"pair_ratio": [0.25, 0.5]}},  # nested: pair_ratio is conditional
    "pair_ratio": {"choice": [0.25, 0.5, 0.75], "when": {"spectral_norm": False}},
    "spectral_norm": {"choice": [True, False]},
}


def test_conditional_space_samples_a_parameter_only_when_its_condition_holds():
    study = _study(search=CONDITIONAL, searcher={"type": "optuna_tpe", "seed": 1, "n_startup_trials": 4})
    assert [p.name for p in study.search] == ["lr_g", "spectral_norm", "pair_ratio", "lr_s"]  # parents first
    ostudy = optuna.create_study(direction="maximize", sampler=make_sampler(study))
    space = SearchSpace(study.search)
    for _ in range(24):  # random start-up, then TPE on the real distributions
        trial = ostudy.ask()
        assert space(trial) is None
        ostudy.tell(trial, trial.params["lr_g"] * 1000 + trial.params.get("pair_ratio", 0))
    seen = set()
    for t in ostudy.trials:
        p = t.params
        assert ("pair_ratio" in p) == (p["spectral_norm"] is False), p
        assert ("lr_s" in p) == (p.get("pair_ratio") in (0.25, 0.5)), p
        seen.add(("pair_ratio" in p, "lr_s" in p))
        assert t.distributions["lr_g"].log and isinstance(t.distributions["spectral_norm"],
                                                          optuna.distributions.CategoricalDistribution)
    assert seen == {(False, False), (True, False), (True, True)}


def test_grid_sampler_visits_every_point_once_and_tells_without_stopping_errors():
    study = _study(search={"semi_rate": {"choice": [0.4, 1.0]},
                           "lr_g": {"loguniform": [1e-4, 1e-3], "grid": [1e-4, 3e-4, 1e-3]}},
                   searcher={"type": "grid", "seed": 0}, num_samples=None)
    assert study.num_samples == 6
    ostudy = optuna.create_study(direction="maximize", sampler=make_sampler(study))
    space = SearchSpace(study.search, grid=True)
    for _ in range(study.num_samples):
        trial = ostudy.ask()
        space(trial)
        ostudy.tell(trial, 1.0)  # GridSampler's after_trial would call study.stop() here and raise
    points = {(t.params["semi_rate"], t.params["lr_g"]) for t in ostudy.trials}
    assert len(points) == 6 and {p for p, _ in points} == {0.4, 1.0}
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in ostudy.trials)


class _Trial:
    def __init__(self, trial_id, error_file=None):
        self.trial_id, self.error_file = trial_id, error_file


def test_failed_trial_is_told_fail_with_its_reason_and_the_others_complete(tmp_path):
    study = _study(name="offline_fail", scheduler={"type": "fifo"})
    errors = TrialErrors()
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}")
    searcher = build_searcher(study, storage, errors)
    assert isinstance(searcher, StudySearch) and isinstance(searcher._sampler, optuna.samplers.TPESampler)
    for tid in ("a", "b", "c"):
        assert set(searcher.suggest(tid)) == {"lr_g", "semi_rate"}
    (tmp_path / "error.txt").write_text(ERROR_TXT)
    errors.on_step_begin(0, [_Trial("a", str(tmp_path / "error.txt")), _Trial("b"), _Trial("c")])
    searcher.on_trial_complete("a", error=True)
    searcher.on_trial_complete("b", result={"sync_rate": 0.5, "epoch": 1})
    searcher.on_trial_complete("c", result={"sync_rate": float("nan"), "epoch": 1})  # NaN: FAIL, not RUNNING

    trials = optuna.load_study(study_name="offline_fail", storage=storage).trials
    by_id = {t.user_attrs["tune_trial_id"]: t for t in trials}
    assert by_id["a"].state.name == "FAIL"
    assert by_id["a"].user_attrs[FAIL_REASON] == "FloatingPointError: SyncGAN diverged: loss_d_image = nan"
    assert by_id["b"].state.name == "COMPLETE" and by_id["b"].value == 0.5 and FAIL_REASON not in by_id["b"].user_attrs
    assert by_id["c"].state.name == "FAIL" and "sync_rate" in by_id["c"].user_attrs[FAIL_REASON]

    # the searcher's state (saved by Tune for --resume) holds no live trials and keeps the callback on restore
    searcher.save(str(tmp_path / "searcher.pkl"))
    assert searcher._errors is errors
    searcher.restore(str(tmp_path / "searcher.pkl"))
    assert searcher._errors is errors
    import pickle

    assert pickle.loads(pickle.dumps(errors)).trials == []


def test_trials_stopped_at_the_target_are_told_with_their_last_value(tmp_path):
    """Tune's stop_all leaves the searcher's trials RUNNING: COMPLETE with the last value, PRUNED without
    one; a RUNNING trial of another run (no last result here) is left alone."""
    study = _study(name="offline_target", scheduler={"type": "fifo"}, target=0.2)
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}")
    searcher = build_searcher(study, storage)
    for tid in ("a", "b", "c", "d"):
        searcher.suggest(tid)
    searcher.on_trial_complete("d", result={"sync_rate": 0.1, "epoch": 2})
    told = tell_stopped_trials(storage, study, {"a": {"sync_rate": 0.25, "epoch": 1}, "b": {"epoch": 0.5},
                                                "d": {"sync_rate": 0.1}})
    by_id = {t.user_attrs["tune_trial_id"]: t for t in optuna.load_study(study_name="offline_target", storage=storage).trials}
    assert told == 2
    assert by_id["a"].state.name == "COMPLETE" and by_id["a"].value == 0.25
    assert by_id["b"].state.name == "PRUNED"
    assert by_id["c"].state.name == "RUNNING" and by_id["d"].state.name == "COMPLETE"


def test_multi_objective_searcher_tells_both_values_or_fails_with_the_missing_one(tmp_path):
    study = _study(name="offline_mo", objective=[{"metric": "sync_rate", "mode": "max"}, {"metric": "fid_image", "mode": "min"}],
                   searcher={"type": "nsga2", "seed": 0, "population_size": 4}, scheduler={"type": "fifo"})
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}")
    searcher = build_searcher(study, storage, TrialErrors())
    assert searcher.metric == ["sync_rate", "fid_image"] and isinstance(searcher._sampler, optuna.samplers.NSGAIISampler)
    for tid in ("a", "b", "c"):
        searcher.suggest(tid)
        searcher.on_trial_result(tid, {"sync_rate": 0.1, "fid_image": 9.0, "training_iteration": 1})  # ignored
    searcher.on_trial_complete("a", result={"sync_rate": 0.5, "fid_image": 3.0})
    searcher.on_trial_complete("b", result={"sync_rate": 0.4})
    searcher.on_trial_complete("c", result={})
    ostudy = optuna.load_study(study_name="offline_mo", storage=storage)
    assert [d.name for d in ostudy.directions] == ["MAXIMIZE", "MINIMIZE"]
    by_id = {t.user_attrs["tune_trial_id"]: t for t in ostudy.trials}
    assert by_id["a"].state.name == "COMPLETE" and by_id["a"].values == [0.5, 3.0]
    assert by_id["b"].state.name == "FAIL" and "fid_image" in by_id["b"].user_attrs[FAIL_REASON]
    assert by_id["c"].state.name == "PRUNED"


def test_error_reason_takes_the_last_failure_and_skips_rays_wrappers():
    assert error_reason(ERROR_TXT) == "FloatingPointError: SyncGAN diverged: loss_d_image = nan"
    two = "Failure # 1 (occurred at x)\nValueError: first\nFailure # 2 (occurred at y)\nray.exceptions.RayTaskError(KeyError): boom\n"
    assert error_reason(two) == "RayTaskError: boom"
    assert error_reason("something odd happened\n") == "something odd happened"
    assert error_reason("") == "" and len(error_reason("RuntimeError: " + "x" * 900)) == 500


def test_pareto_front_keeps_the_non_dominated_points_best_first():
    pts = [("a", [0.9, 5.0]), ("b", [0.5, 1.0]), ("c", [0.4, 2.0]), ("d", [0.9, 6.0]), ("e", [0.7, 3.0]),
           ("nan", [math.nan, 0.0])]
    front = pareto_front(pts, ["max", "min"])
    assert [item for item, _ in front] == ["a", "e", "b"]
    assert [item for item, _ in pareto_front(pts, ["min", "max"])] == ["c", "e", "d"]


def test_a_killed_drivers_running_trials_are_failed_and_retried_while_a_live_ones_and_resumed_ones_are_kept(
        tmp_path, monkeypatch):
    """Heartbeats (platform.study_storage): a driver records its running trials' heartbeats; when it dies its
    trials go stale, and the next run (build_searcher) fails each and queues a retry with the same
    parameters, which its next suggestion takes; a live searcher's and a resumed searcher's trials stay."""
    import pickle
    import time

    from platform.storage import connect

    monkeypatch.setenv("XMODAL_OPTUNA_HEARTBEAT", "1")  # stale after 2 s without a heartbeat
    study = _study(name="offline_stale", scheduler={"type": "fifo"})
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    killed = build_searcher(study, connect(url))
    tuner_pkl = pickle.dumps(killed)  # the searcher as Tune pickles it with the Tuner (tuner.pkl)
    killed_params = killed.suggest("k1")
    killed.save(str(tmp_path / "killed.pkl"))  # Tune's last save before the kill: it knows k1
    killed.suggest("k2")  # asked after that save: no resume will know it
    killed.stop_heartbeats()  # the driver is killed
    live = build_searcher(study, connect(url))
    live.suggest("l1")
    time.sleep(5)  # k1, k2 go stale; l1's driver goes on beating

    resumed = pickle.loads(tuner_pkl)  # --resume of the killed experiment (Tuner.restore): continues k1
    resumed.restore(str(tmp_path / "killed.pkl"))
    every = optuna.load_study(study_name="offline_stale", storage=connect(url)).trials
    trials = {t.user_attrs.get("tune_trial_id"): t for t in every if t.state.name != "WAITING"}
    assert trials["k1"].state.name == "RUNNING" and trials["l1"].state.name == "RUNNING"
    assert trials["k2"].state.name == "FAIL"
    retry = [t for t in every if t.state.name == "WAITING"]
    assert len(retry) == 1 and retry[0].system_attrs["retry_history"] == [trials["k2"].number]
    assert resumed.suggest("r1") == {k: trials["k2"].params[k] for k in killed_params}  # the retry runs first
    resumed.on_trial_complete("k1", result={"sync_rate": 0.3, "epoch": 2})
    assert optuna.load_study(study_name="offline_stale", storage=connect(url)).trials[trials["k1"].number].value == 0.3
    live.stop_heartbeats()
    resumed.stop_heartbeats()

"""The study's scheduler: the ASHA Tune gets (metric, mode, rungs) and trials it really stops."""
from __future__ import annotations

import copy
import json

import optuna
import pytest
import yaml
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from tiny_study import TINY_STUDY

from platform.study import Study, StudyError, load_study
from platform.strategies import strategy_for
from platform.tune import run


def _study(**changes):
    raw = copy.deepcopy(TINY_STUDY)
    raw.update(changes)
    return Study.from_dict(raw, "tiny_study")


def _scheduler(study: Study):
    return strategy_for(study).scheduler()


def _rungs(scheduler: ASHAScheduler) -> list[int]:
    return sorted(milestone for milestone, _ in scheduler._brackets[0]._rungs)  # noqa: SLF001


def test_asha_gets_the_studys_objective_epochs_and_rungs():
    asha = _scheduler(_study(scheduler={"type": "asha", "grace_period": 2, "reduction_factor": 3, "max_t": 7}))
    assert isinstance(asha, ASHAScheduler)
    assert (asha._metric, asha._mode, asha._time_attr) == ("sync_rate", "max", "epoch")  # noqa: SLF001
    assert asha._max_t == 7 and asha._reduction_factor == 3  # noqa: SLF001
    assert _rungs(asha) == [2, 6]  # grace 2, then x3 below max_t

    default = _scheduler(_study(config={**TINY_STUDY["config"], "epochs": 9}, scheduler={"type": "asha"}))
    assert default._max_t == 9 and default._reduction_factor == 2 and _rungs(default) == [1, 2, 4, 8]  # noqa: SLF001

    minimize = _scheduler(_study(objective={"metric": "fid_image", "mode": "min"}))
    assert (minimize._metric, minimize._mode) == ("fid_image", "min")  # noqa: SLF001

    multi = _scheduler(_study(objective=[{"metric": "sync_rate", "mode": "max"}, {"metric": "fid_image", "mode": "min"}],
                              scheduler={"type": "asha", "metric": "fid_image"}))
    assert (multi._metric, multi._mode) == ("fid_image", "min")  # noqa: SLF001

    assert isinstance(_scheduler(_study(scheduler={"type": "fifo"})), FIFOScheduler)


def test_a_study_without_epochs_gets_max_t_from_the_trainables_default_epochs():
    """vae_lr without config.epochs: its trials train the VAE config's default epochs, and ASHA's last
    rung, the progress lines and ``--dry-run`` say the same number (not a default of the study's own)."""
    from platform.study_files import read_study, study_path
    from trainables.vae.config import VAEConfig

    raw = read_study(study_path("vae_lr"))
    del raw["config"]["epochs"]
    study = Study.from_dict(raw, "vae_lr")
    assert study.epochs == VAEConfig().epochs == 100
    assert study.resolved()["scheduler"]["max_t"] == 100 and _scheduler(study)._max_t == 100  # noqa: SLF001
    with pytest.raises(StudyError, match=r"scheduler\.grace_period 101 exceeds max_t 100"):
        Study.from_dict({**raw, "scheduler": {"type": "asha", "grace_period": 101}}, "vae_lr")


@pytest.mark.slow
def test_asha_stops_the_trial_that_falls_behind_and_optuna_keeps_its_last_value(ray_local, shared_data_root, tmp_path):
    """Two grid trials, one at a time (grid seed 1 samples 2e-3 first): the discriminators' learning
    rate 2e-3 (good) and 1e-9 (they do not learn), minimizing the image discriminator's loss, ASHA rungs at epochs 1 and 2 of 4. The
    trial that reaches a rung behind the other is stopped there: its last epoch is below max_t, and
    Optuna holds its last reported value as a COMPLETE trial. (Run with scheduler.type fifo, both
    trials run to epoch 4 and the test fails.)"""
    raw = copy.deepcopy(TINY_STUDY)
    raw["config"].update(epochs=4, transfer_samples=0)
    raw.update(search={"lr_d": {"choice": [2e-3, 1e-9]}}, searcher={"type": "grid", "seed": 1}, num_samples=None,
               objective={"metric": "loss_d_image", "mode": "min"},
               scheduler={"type": "asha", "grace_period": 1, "reduction_factor": 2})
    path = tmp_path / "tiny_asha.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    results = tmp_path / "results"
    summary = run(load_study(str(path)), results, shared_data_root, name="asha")

    storage = optuna.storages.RDBStorage(f"sqlite:///{results / 'tiny_asha' / 'optuna.db'}")
    trials = sorted(optuna.load_study(study_name="tiny_asha", storage=storage).trials, key=lambda t: t.number)
    assert [t.params["lr_d"] for t in trials] == [2e-3, 1e-9], "the grid's order changed: the first trial must be the good one"
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    experiment = results / "tiny_asha" / "asha"
    last_rows = {}
    for params in experiment.glob("*/params.json"):
        rows = [json.loads(line) for line in (params.parent / "result.json").read_text().splitlines() if line.strip()]
        last_rows[json.loads(params.read_text())["lr_d"]] = rows[-1]
    good, bad = last_rows[2e-3], last_rows[1e-9]
    assert good["epoch"] == 4
    assert bad["epoch"] < 4, f"ASHA did not stop the trial whose discriminators do not learn: {bad['epoch']}"
    assert bad["loss_d_image"] > good["loss_d_image"]
    assert trials[1].value == pytest.approx(bad["loss_d_image"])  # the value it had when stopped
    assert summary["trial_states"] == {"TERMINATED": 2}
    assert summary["best"]["config"] == {"lr_d": 2e-3}


class _Trial:
    def __init__(self, trial_id: str):
        self.trial_id = trial_id


def _report(scheduler, trial: _Trial, epoch: int, value: float) -> str:
    return scheduler.on_trial_result(None, trial, {"epoch": epoch, "sync_rate": value})


def test_asha_alone_passes_the_first_trial_at_a_rung_and_the_threshold_stops_it():
    """Ray's ASHA has no cutoff for the first trial at a rung: a trial at chance (0) goes on. With
    ``threshold`` it stops there, from the grace period on; a trial above it goes on, and one that falls
    to the threshold later stops then."""
    plain = _scheduler(_study(scheduler={"type": "asha", "grace_period": 2, "max_t": 8}))
    thresholded = _scheduler(_study(scheduler={"type": "asha", "grace_period": 2, "max_t": 8, "threshold": 0.02}))
    for scheduler in (plain, thresholded):
        scheduler.on_trial_add(None, _Trial("dead"))
        scheduler.on_trial_add(None, _Trial("live"))
    dead, live = _Trial("dead"), _Trial("live")
    assert _report(plain, dead, 1, 0.0) == _report(thresholded, dead, 1, 0.0) == "CONTINUE"  # before the grace period
    assert _report(plain, dead, 2, 0.0) == "CONTINUE"
    assert _report(thresholded, dead, 2, 0.0) == "STOP"
    assert _report(thresholded, live, 2, 0.3) == "CONTINUE"
    assert _report(thresholded, live, 3, 0.02) == "STOP"  # at the threshold is not beyond it


def test_the_threshold_of_a_minimized_metric_stops_trials_at_or_above_it():
    asha = _scheduler(_study(objective={"metric": "fid_image", "mode": "min"},
                             scheduler={"type": "asha", "grace_period": 1, "threshold": 150}))
    assert asha.threshold == 150.0
    for name in ("bad", "good"):
        asha.on_trial_add(None, _Trial(name))
    assert asha.on_trial_result(None, _Trial("good"), {"epoch": 1, "fid_image": 90.0}) == "CONTINUE"
    assert asha.on_trial_result(None, _Trial("bad"), {"epoch": 1, "fid_image": 150.0}) == "STOP"


@pytest.mark.parametrize("scheduler, message", [
    ({"type": "fifo", "threshold": 0.02}, r"scheduler\.threshold: only ASHA .* this study's scheduler is fifo"),
    ({"type": "asha", "threshold": "low"}, r"^scheduler: threshold must be a number, got 'low'$"),
    ({"type": "asha", "threshold": float("nan")}, r"^scheduler: threshold must be a finite number, got nan$"),
])
def test_a_threshold_outside_asha_or_not_a_number_is_one_clear_error(scheduler, message):
    with pytest.raises(StudyError, match=message):
        _study(scheduler=scheduler)


def test_tune_ends_a_trial_at_the_threshold_after_the_grace_period(ray_local, tmp_path):
    """A real Tune run under the study's scheduler: the trial at chance (0) ends at the grace period
    (epoch 2), the one above the threshold runs all 6 epochs."""
    from ray import tune

    def _constant_trial(config: dict) -> None:  # defined here: pickled by value, the workers cannot import tests
        for epoch in range(1, 7):
            tune.report({"epoch": epoch, "sync_rate": config["value"]})

    scheduler = _scheduler(_study(config={**TINY_STUDY["config"], "epochs": 6},
                                  scheduler={"type": "asha", "grace_period": 2, "threshold": 0.02}))
    grid = tune.Tuner(_constant_trial, param_space={"value": tune.grid_search([0.0, 0.5])},
                      tune_config=tune.TuneConfig(scheduler=scheduler, max_concurrent_trials=1),
                      run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0)).fit()
    last = {r.config["value"]: r.metrics["epoch"] for r in grid}
    assert last == {0.0: 2, 0.5: 6}

"""--resume keeps the experiment's settings: a study changed since is refused in one line naming each key."""
from __future__ import annotations

import pytest

from platform.resume_check import MAY_CHANGE, check_resume, recorded_settings, settings
from platform.study import StudyError, load_study

WHERE = "results/tiny_study/r/run_info.json"


def _settings(study_yaml, *overrides, preset=None):
    return settings(load_study(str(study_yaml), list(overrides), preset), "sqlite:///results/tiny_study/optuna.db")


def test_changed_settings_are_refused_naming_each_key_with_both_values(tiny_study_yaml):
    before = _settings(tiny_study_yaml, "num_samples=3", "config.epochs=4")
    check_resume(before, _settings(tiny_study_yaml, "num_samples=3", "config.epochs=4.0"), WHERE)  # the same values
    with pytest.raises(StudyError) as e:
        check_resume(before, _settings(tiny_study_yaml, "num_samples=5", "config.epochs=3", "config.lr_d=1e-3",
                                       "search.lr_g={loguniform: [1e-5, 1e-3]}"), WHERE)
    line = str(e.value)
    assert "\n" not in line and line.startswith(f"--resume: the study's settings differ from those {WHERE} recorded: ")
    for diff in ("num_samples: 3 -> 5", "config.epochs: 4 -> 3", "config.lr_d: 0.0002 -> 0.001",
                 "search.lr_g.loguniform: [0.0001, 0.001] -> [1e-05, 0.001]"):
        assert diff in line, line
    assert f"only {', '.join(MAY_CHANGE)} may change" in line


def test_resources_that_only_place_work_and_the_description_may_change(tiny_study_yaml):
    before = _settings(tiny_study_yaml)
    check_resume(before, _settings(tiny_study_yaml, "description=longer runs", "presets.local-cpu.cpus_per_worker=1.0",
                                   "presets.local-cpu.max_failures=3", "presets.local-cpu.keep_checkpoints=4"), WHERE)
    with pytest.raises(StudyError, match=r"resources\.max_concurrent_trials: 1 -> 2"):
        check_resume(before, _settings(tiny_study_yaml, "presets.local-cpu.max_concurrent_trials=2"), WHERE)
    with pytest.raises(StudyError, match=r"resources\.num_workers: 1 -> 2"):
        check_resume(before, _settings(tiny_study_yaml, "presets.local-cpu.num_workers=2"), WHERE)
    with pytest.raises(StudyError, match=r"optuna_storage: .*optuna.db.* -> .*other.db"):
        check_resume(before, settings(load_study(str(tiny_study_yaml)), "sqlite:///elsewhere/other.db"), WHERE)


def test_an_experiment_recorded_before_settings_is_compared_through_its_study(tiny_study_yaml):
    import yaml

    raw = yaml.safe_load(tiny_study_yaml.read_text())
    info = {"study": {**raw, "num_samples": 3}, "preset": "local-cpu",
            "optuna_storage": "sqlite:///results/tiny_study/optuna.db"}
    torch_trainer = "presets.local-cpu.in_process=false"  # what its trials ran: resumed the same way
    check_resume(recorded_settings(info, WHERE), _settings(tiny_study_yaml, "num_samples=3", torch_trainer), WHERE)
    with pytest.raises(StudyError, match="num_samples: 3 -> 4"):
        check_resume(recorded_settings(info, WHERE), _settings(tiny_study_yaml, "num_samples=4", torch_trainer), WHERE)
    with pytest.raises(StudyError, match=f"--resume: {WHERE} does not hold the experiment's settings"):
        recorded_settings({"preset": "local-cpu"}, WHERE)


def test_an_experiment_of_torchtrainer_trials_resumes_only_as_such(tiny_study_yaml):
    """An experiment recorded before one-worker trials trained in their own process ran TorchTrainer trials
    (their checkpoints lie under the trial's train/): resuming it in-process is refused, saying how to resume."""
    now = _settings(tiny_study_yaml)
    info = {"settings": {k: v for k, v in now.items() if k != "resources.in_process"},
            "resources": {"num_workers": 1, "cpus_per_worker": 1.5}}
    with pytest.raises(StudyError) as e:
        check_resume(recorded_settings(info, WHERE), now, WHERE)
    assert "resources.in_process: false -> true" in str(e.value)
    assert "resume with --set presets.<preset>.in_process=false" in str(e.value) and "\n" not in str(e.value)
    check_resume(recorded_settings(info, WHERE), _settings(tiny_study_yaml, "presets.local-cpu.in_process=false"), WHERE)
    recorded_now = {"settings": now, "resources": {"in_process": True}}  # what platform.tune records today
    check_resume(recorded_settings(recorded_now, WHERE), now, WHERE)

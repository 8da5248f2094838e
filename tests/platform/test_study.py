import pytest

from platform.study import StudyError, known_studies, load_study
from platform.tune import main


def test_shipped_study_loads_with_search_space_and_local_preset():
    study = load_study("syncgan_semi")
    assert {p.name for p in study.search} == {"lr_g", "lr_d", "lr_s", "pair_ratio", "semi_rate"}
    assert study.metric == "sync_rate" and study.mode == "max"
    assert study.resources["trial_cpus"] < 0.1 and study.resources["max_concurrent_trials"] == 2
    dist = {p.name: p.to_optuna() for p in study.search}
    assert dist["lr_g"].log and dist["semi_rate"].choices == (0.1, 0.2, 0.4, 1.0)


def test_overrides_and_preset():
    study = load_study("syncgan_semi", ["config.epochs=2", "num_samples=3"], preset="gpu")
    assert study.config["epochs"] == 2 and study.num_samples == 3 and study.resources["use_gpu"] is True


@pytest.mark.parametrize("override, message", [
    ("config.lr_gen=0.1", "lr_gen"),
    ("search.pair_ratio={uniform: [0.9, 0.1]}", "search.pair_ratio"),
    ("search.lr_g={loguniform: [0, 0.1]}", "low must be > 0"),
    ("schedular=asha", "schedular"),
    ("config.semi_rate=2", "semi_rate"),
    ("scheduler.type=hyperband", "scheduler.type"),
    ("config.epochs=1", "grace_period 2 exceeds max_t 1"),
    ("config.corpus_dir=/x", "set by the platform"),
])
def test_bad_studies_are_rejected_naming_the_key(override, message):
    with pytest.raises(StudyError, match=message):
        load_study("syncgan_semi", [override])


def test_unknown_study_lists_known_ones(capsys):
    assert main(["--study", "no_such_study"]) == 2
    err = capsys.readouterr().err
    assert "no_such_study" in err and all(name in err for name in known_studies())


def test_study_from_yaml_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("trainable: syncgan\ncorpus: {name: fashion_spoken}\npresets: {local-cpu: {trial_cpus: 0.01}}\n")
    study = load_study(str(path))
    assert study.name == "mine" and study.search == [] and study.scheduler["type"] == "asha"


def test_numbers_written_without_a_dot_are_numbers():
    study = load_study("syncgan_semi", ["search.lr_g={loguniform: [1e-5, 1e-3]}", "config.sync_weight=2e-1"])
    assert study.search[0].to_optuna().low == 1e-5 and study.config["sync_weight"] == "2e-1"
    from trainables.config import from_dict
    from trainables.syncgan import SyncGANConfig

    assert from_dict(SyncGANConfig, study.config).sync_weight == 0.2

import pytest

from data_prep import CORPORA
from data_prep.cli import main, parse_sets
from data_prep.corpora import FashionSpokenConfig, config_from_dict, config_hash


def test_defaults_and_registry():
    cfg = config_from_dict("fashion_spoken", {})
    assert CORPORA["fashion_spoken"] is FashionSpokenConfig
    assert len(cfg.voices) * len(cfg.speeds) * len(cfg.pitches) == 72
    assert cfg.logmel.n_mels == 48 and cfg.logmel.frames == 48


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match="'voicez'.*valid keys:.*voices"):
        config_from_dict("fashion_spoken", {"voicez": ["en"]})
    with pytest.raises(ValueError, match="'logmel.n_mel'.*logmel.n_mels"):
        config_from_dict("fashion_spoken", {"logmel.n_mel": 40})
    with pytest.raises(ValueError, match="known corpora: fashion_spoken"):
        config_from_dict("mnist_spokn", {})


def test_hash_is_stable_and_sensitive():
    a = config_from_dict("fashion_spoken", {"seed": 1, "logmel": {"fmin": 0}})
    b = config_from_dict("fashion_spoken", {"logmel.fmin": 0.0, "seed": 1})
    assert config_hash(a) == config_hash(b) and len(config_hash(a)) == 12
    assert config_hash(a) != config_hash(config_from_dict("fashion_spoken", {"seed": 2}))
    assert config_hash(a) != config_hash(config_from_dict("fashion_spoken", {"seed": 1, "logmel.hop_length": 100}))


def test_bad_values_rejected():
    for bad in ({"audio_test_fraction": 1.0}, {"num_shards": 0}, {"train_per_class": -1}, {"speeds": ["x"]}):
        with pytest.raises(ValueError):
            config_from_dict("fashion_spoken", bad)


def test_cli_parsing_and_errors(capsys):
    assert parse_sets(["seed=3", "voices=[en, en-us]", "train_per_class=null", "logmel.top_db=60"]) == {
        "seed": 3, "voices": ["en", "en-us"], "train_per_class": None, "logmel.top_db": 60}
    assert main(["list"]) == 0 and "fashion_spoken" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["build", "nope"])
    assert "known corpora: fashion_spoken" in capsys.readouterr().err
    assert main(["build", "fashion_spoken", "--set", "bogus=1"]) == 2
    assert "'bogus'" in capsys.readouterr().err


@pytest.mark.parametrize("key, value", [("seed", "inf"), ("seed", "1e400"), ("num_shards", float("nan")),
                                        ("logmel.top_db", "nan"), ("logmel.fmax", float("inf"))])
def test_non_finite_numbers_are_one_error_naming_the_key(key, value):
    with pytest.raises(ValueError, match=rf"{key} must be a finite number"):
        config_from_dict("fashion_spoken", {key: value})

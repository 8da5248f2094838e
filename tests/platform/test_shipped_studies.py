"""Every study shipped in platform/studies/ loads and validates (schema, trainable's config keys, presets)."""
import pytest

from platform.study import known_studies, load_study
from trainables.registry import TRAINABLES


def test_the_documented_studies_are_shipped():
    assert {"syncgan_semi", "syncgan_pair_ratio", "vae_lr", "vaegan_alpha_beta"} <= set(known_studies())


@pytest.mark.parametrize("name", known_studies())
def test_shipped_study_validates_with_every_preset(name):
    study = load_study(name)
    assert study.trainable in TRAINABLES and study.search and study.mode in ("min", "max")
    evaluator = TRAINABLES[study.trainable].evaluator_cls
    assert study.metric in evaluator.scalars  # reported every epoch, so Tune and ASHA see it
    for preset in study.raw["presets"]:
        assert load_study(name, preset=preset).preset == preset
    for param in study.search:
        param.to_optuna()

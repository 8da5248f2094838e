"""Every study shipped in platform/studies/ loads and validates (schema, trainable's config keys, presets)."""
import pytest

from platform.study import Objective, load_study
from platform.study_files import known_studies, merged_presets
from trainables.loop import LOOP_METRICS
from trainables.registry import TRAINABLES


def test_the_documented_studies_are_shipped():
    assert {"syncgan_semi", "syncgan_pair_ratio", "vae_lr", "vaegan_alpha_beta", "syncgan_quality_sync",
            "syncgan_pbt"} <= set(known_studies())


@pytest.mark.parametrize("name", known_studies())
def test_shipped_study_validates_with_every_preset(name):
    study = load_study(name)
    assert study.trainable in TRAINABLES and study.search and study.mode in ("min", "max")
    evaluator = TRAINABLES[study.trainable].evaluator_cls
    for metric, mode in study.objectives:  # reported every epoch, so Tune, ASHA and Train's checkpoints see them
        assert metric in (*evaluator.scalars, *LOOP_METRICS) and mode in ("min", "max")
    for preset in merged_presets(study.raw.get("presets")):
        assert load_study(name, preset=preset).preset == preset
    for param in study.search:
        param.to_optuna()


def test_the_multi_objective_study_trades_image_quality_against_sync_rate():
    study = load_study("syncgan_quality_sync")
    assert study.multi_objective and study.objectives == [Objective("sync_rate", "max"), Objective("fid_image", "min")]
    assert study.scheduler.type == "fifo" and study.searcher.type in ("optuna_tpe", "nsga2")
    # the same study with ASHA needs the one metric ASHA stops on
    assert load_study("syncgan_quality_sync", ["scheduler.type=asha", "scheduler.metric=sync_rate"]).scheduler_objective() \
        == ("sync_rate", "max")

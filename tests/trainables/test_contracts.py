"""The registry checks every trainable against the model and evaluator Protocols (trainables.contracts),
and every evaluator reports exactly what it declares (trainables.declared_metrics)."""
from __future__ import annotations

import dataclasses

import pytest

from trainables.config import from_dict
from trainables.contracts import ContractError
from trainables.declared_metrics import DeclaredMetrics
from trainables.registry import TRAINABLES, Trainable, build_model


def _trainable(**changes) -> Trainable:
    return dataclasses.replace(TRAINABLES["vae"], name="probe", **changes)


def _without(cls: type, member: str) -> type:
    """A subclass of ``cls`` on which ``member`` is missing (as if never written)."""
    sub = type(f"No{member.title().replace('_', '')}", (cls,), {})

    class Hide:
        def __get__(self, obj, owner):
            raise AttributeError(member)

    setattr(sub, member, Hide())
    return sub


@pytest.mark.parametrize("member", ["train_step", "optimizers", "translate", "load_state_dict"])
def test_a_model_lacking_a_member_is_one_error_naming_it(member):
    with pytest.raises(ContractError, match=rf"^trainable 'probe': model No\w+ lacks '{member}' \(trainables.contracts.PairModel: "):
        _trainable(model_cls=_without(TRAINABLES["vae"].model_cls, member))


@pytest.mark.parametrize("member", ["declared", "headline", "metrics", "samples", "meaning"])
def test_an_evaluator_lacking_a_member_is_one_error_naming_it(member):
    with pytest.raises(ContractError, match=rf"lacks '{member}' \(trainables.contracts.Evaluator: "):
        _trainable(evaluator_cls=_without(TRAINABLES["vae"].evaluator_cls, member))


def test_a_model_built_otherwise_than_the_loop_builds_it_is_refused():
    def __init__(self, cfg, shape):
        pass

    model = type("TwoArgs", (TRAINABLES["vae"].model_cls,), {"__init__": __init__})
    with pytest.raises(ContractError, match=r"model TwoArgs is not built as TwoArgs\(cfg, image shape, audio shape"):
        _trainable(model_cls=model)


def test_an_objective_the_evaluator_does_not_report_every_epoch_is_refused():
    with pytest.raises(ContractError, match=r"objective 'transfer_acc_a_to_b' .* is not a metric SyncGANEvaluator reports every epoch"):
        dataclasses.replace(TRAINABLES["syncgan"], objective="transfer_acc_a_to_b")


def test_an_evaluator_whose_metric_lists_drift_from_its_declaration_is_refused():
    drifted = type("Drifted", (TRAINABLES["vae"].evaluator_cls,), {"headline": ("fid_image",)})
    with pytest.raises(ContractError, match=r"Drifted.headline is not read from its declared metrics"):
        _trainable(evaluator_cls=drifted)


def test_a_config_outside_the_loop_schema_is_refused():
    @dataclasses.dataclass
    class Bare:
        lr: float = 1e-3

    with pytest.raises(ContractError, match="is not a dataclass extending trainables.config.LoopConfig"):
        _trainable(config_cls=Bare)


def test_a_metric_declared_twice_is_one_error_naming_it():
    with pytest.raises(ValueError, match=r"declared more than once: \['fid_image'\]"):
        DeclaredMetrics(headline=("sync_rate", "fid_image"), others=("fid_image",))


def test_the_progress_line_is_the_declaration_in_order_with_what_was_reported():
    declared = DeclaredMetrics(headline=("sync_rate", "fid_image"), watched=("acc",), others=("kid_image",),
                               losses=("loss_d", "loss_g"))
    assert declared.scalars == ("sync_rate", "fid_image", "acc", "kid_image")
    line = declared.progress_line({"loss_g": 0.25, "kid_image": 0.5, "fid_image": 12.3456, "sync_rate": 0.75, "epoch": 2})
    assert line == "sync_rate=0.750 fid_image=12.346 loss_g=0.250"


@pytest.mark.parametrize("name", sorted(TRAINABLES))
def test_every_evaluator_reports_exactly_its_declared_metrics(name, tiny_corpus, tiny_classifiers):
    """What a study may name as objective (the declaration) is what the evaluator computes: every
    declared metric, the final ones at the last epoch, and nothing undeclared."""
    import json

    spec = TRAINABLES[name]
    small = {"width": 8, "z_dim": 16, "eval_samples": 32, "transfer_samples": 8, "transfer_steps": 2, "fc_width": 32}
    fields = {f.name for f in dataclasses.fields(spec.config_cls)}
    cfg = from_dict(spec.config_cls, {"corpus_dir": str(tiny_corpus), "classifier_path": str(tiny_classifiers),
                                      **{k: v for k, v in small.items() if k in fields}})
    manifest = json.loads((tiny_corpus / "manifest.json").read_text())
    evaluator = spec.evaluator_cls(build_model(spec, cfg, manifest), cfg, manifest, "cpu")
    declared = spec.evaluator_cls.declared
    every_epoch, last = evaluator.metrics(final=False), evaluator.metrics(final=True)
    details = set(declared.details)
    assert set(every_epoch) - details == set(declared.scalars)
    assert set(last) - details == {*declared.scalars, *declared.final}

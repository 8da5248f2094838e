"""What the platform needs of a model and of its evaluator, as ``typing.Protocol``s the registry checks.

A trainable's model is an ``nn.Module`` that owns its training step (the loop runs it, checkpoints it,
reports its losses); its evaluator judges it on rank 0 and declares what it reports
(``trainables.declared_metrics``). ``check_trainable`` names the first member a model or evaluator
class lacks, when the trainable is registered, instead of an AttributeError deep inside a Ray worker.
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Protocol

import torch

from trainables.config import LoopConfig
from trainables.declared_metrics import DeclaredMetrics
from trainables.precision import Precision
from trainables.step import AverageGrads

if TYPE_CHECKING:
    from trainables.tensorboard_log import TrialWriter


class PairModel(Protocol):
    """A model of (image, audio) pairs, built as ``model_cls(cfg, image shape, audio shape, n_classes=,
    audio_representation=)`` (``trainables.registry.build_model``). Optional:
    ``bind_train_data(images, audios, labels, labelled, device)``, for a model that samples its own
    batches from the training rows (SyncGAN's synchronizer pool)."""

    cfg: Any
    """The config it was built with (its trainable's ``config_cls``)."""
    precision: Precision
    """Autocast and loss scaling; the loop sets the device's (``cfg.amp``), checkpoints save it."""

    def __init__(self, cfg: Any, shape_image: tuple[int, int], shape_audio: tuple[int, int], n_classes: int = 10,
                 audio_representation: str = "") -> None: ...

    def train_step(self, x_image: torch.Tensor, x_audio: torch.Tensor, labels: torch.Tensor, labelled: torch.Tensor,
                   average_grads: AverageGrads = None) -> dict[str, float]:
        """One step of every optimizer; the losses by name (``loss_*``). ``labelled``: which pairs' pairing
        the model may use. ``average_grads(optimizer)`` after each backward pass, before the step. A NaN
        loss raises FloatingPointError naming it (``trainables.step.finite_losses``)."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimizer by name (``opt_g``); each parameter in exactly one. Checkpointed, and reported as ``lr_<name>``."""

    def translate(self, x: torch.Tensor, direction: str, steps: Optional[int] = None, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples of one modality -> (the other modality's samples, a per-sample error): ``direction``
        "a_to_b" (image -> audio) or "b_to_a"; ValueError for a direction the model cannot translate."""

    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> Any: ...
    def parameters(self) -> Any: ...
    def to(self, device: Any) -> Any: ...
    def train(self, mode: bool = True) -> Any: ...


class Evaluator(Protocol):
    """Judges a model on rank 0 each epoch, built as ``evaluator_cls(model, cfg, manifest, device)``."""

    declared: ClassVar[DeclaredMetrics]
    """What it reports, each name once; the three tuples below are read from it."""
    scalars: ClassVar[tuple[str, ...]]
    final_scalars: ClassVar[tuple[str, ...]]
    headline: ClassVar[tuple[str, ...]]

    def __init__(self, model: Any, cfg: Any, manifest: dict, device: torch.device | str) -> None: ...

    def metrics(self, final: bool) -> dict[str, float]:
        """Every declared metric (the ``final`` ones at the last epoch), by name."""

    def samples(self, writer: TrialWriter, step: int) -> None:
        """Sample grids (and sounds) for TensorBoard."""

    @staticmethod
    def meaning(metrics: dict[str, float]) -> str:
        """One plain sentence on what the metrics mean for a person (empty where they lack its metrics)."""


class ContractError(TypeError):
    """A trainable whose model, evaluator or config does not keep its contract; the message names the member."""


def _members(protocol: type) -> list[str]:
    """The methods and class-level attributes a class must have to keep ``protocol`` (instance
    attributes such as ``PairModel.cfg`` exist only once one is built)."""
    methods = [n for n, v in vars(protocol).items() if not n.startswith("_") and (callable(v) or isinstance(v, staticmethod))]
    class_level = [n for n, a in vars(protocol).get("__annotations__", {}).items() if str(a).startswith("ClassVar")]
    return [*class_level, *methods]


def _check_class(where: str, cls: Any, protocol: type, call: tuple[tuple, dict], call_text: str) -> None:
    """``where``: "trainable 'x': model"."""
    if not inspect.isclass(cls):
        raise ContractError(f"{where} {cls!r} is not a class ({protocol.__name__})")
    for name in _members(protocol):
        if not hasattr(cls, name):
            raise ContractError(f"{where} {cls.__name__} lacks {name!r} "
                                f"(trainables.contracts.{protocol.__name__}: {', '.join(_members(protocol))})")
    try:
        inspect.signature(cls).bind(*call[0], **call[1])
    except TypeError as e:
        raise ContractError(f"{where} {cls.__name__} is not built as {cls.__name__}({call_text}): {e}") from None


def check_trainable(name: str, config_cls: Any, model_cls: Any, evaluator_cls: Any, objective: str, samples: Any) -> None:
    """ContractError naming what ``name``'s classes lack: a config that is a ``LoopConfig`` dataclass, a
    model that keeps ``PairModel``, an evaluator that keeps ``Evaluator`` and reports ``objective`` every
    epoch, and a sample writer to call."""
    where = f"trainable {name!r}"
    if not (inspect.isclass(config_cls) and dataclasses.is_dataclass(config_cls) and issubclass(config_cls, LoopConfig)):
        raise ContractError(f"{where}: config {config_cls!r} is not a dataclass extending trainables.config.LoopConfig")
    _check_class(f"{where}: model", model_cls, PairModel,
                 ((None, (28, 28), (28, 28)), {"n_classes": 10, "audio_representation": ""}),
                 "cfg, image shape, audio shape, n_classes=, audio_representation=")
    _check_class(f"{where}: evaluator", evaluator_cls, Evaluator, ((None, None, {}, "cpu"), {}),
                 "model, cfg, manifest, device")
    declared = evaluator_cls.declared
    if not isinstance(declared, DeclaredMetrics):
        raise ContractError(f"{where}: {evaluator_cls.__name__}.declared is not a trainables.declared_metrics.DeclaredMetrics")
    aliases = {"scalars": declared.scalars, "final_scalars": declared.final, "headline": declared.headline}
    for attr, value in aliases.items():
        if tuple(getattr(evaluator_cls, attr)) != value:
            raise ContractError(f"{where}: {evaluator_cls.__name__}.{attr} is not read from its declared metrics")
    if objective not in declared.scalars:
        raise ContractError(f"{where}: objective {objective!r} (what checkpoints are ranked by) is not a metric "
                            f"{evaluator_cls.__name__} reports every epoch: {list(declared.scalars)}")
    if not callable(samples):
        raise ContractError(f"{where}: samples {samples!r} is not a sample writer (trainables.sample_files.SampleWriter)")

"""The trainables by name: config schema, model and evaluator, and the metric checkpoints rank by.

Adding a model is its folder ``trainables/<model>/`` plus one line below; each ``Trainable`` is checked
against the contracts when it is made (``trainables.contracts``: one error naming what is missing)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainables.cogan import samples as cogan_samples
from trainables.cogan.config import CoGANConfig
from trainables.cogan.evaluate import CoGANEvaluator
from trainables.cogan.model import CoGAN
from trainables.contracts import Evaluator, PairModel, check_trainable
from trainables.sample_files import SampleWriter
from trainables.syncgan import samples as syncgan_samples
from trainables.syncgan.config import SyncGANConfig
from trainables.syncgan.evaluate import SyncGANEvaluator
from trainables.syncgan.model import SyncGAN
from trainables.vae.config import VAEConfig, VAEGANConfig
from trainables.vae.evaluate import AudioToImageEvaluator
from trainables.vae import samples as vae_samples
from trainables.vae.model import VAE, VAEGAN


@dataclass(frozen=True)
class Trainable:
    name: str
    config_cls: type
    model_cls: type[PairModel]
    evaluator_cls: type[Evaluator]
    objective: str
    """The evaluation metric checkpoints are ranked by (higher is better)."""
    description: str
    samples: SampleWriter
    """What ``platform.generate`` writes for a checkpoint, the model's own writer
    (``trainables/<model>/samples.py``): SyncGAN's image/audio pairs generated from latent codes and test
    pairs translated through them; the VAE's images from test clips."""

    def __post_init__(self) -> None:
        check_trainable(self.name, self.config_cls, self.model_cls, self.evaluator_cls, self.objective, self.samples)


TRAINABLES: dict[str, Trainable] = {
    "syncgan": Trainable("syncgan", SyncGANConfig, SyncGAN, SyncGANEvaluator, "sync_rate",
                         "two GANs tied by a synchronizer (image and audio from one code)", syncgan_samples.write_samples),
    "vae": Trainable("vae", VAEConfig, VAE, AudioToImageEvaluator, "image_acc_from_audio",
                     "the slides' audio-to-image VAE", vae_samples.write_samples),
    "vaegan": Trainable("vaegan", VAEGANConfig, VAEGAN, AudioToImageEvaluator, "image_acc_from_audio",
                        "the slides' all-convolutional audio-to-image VAE-GAN", vae_samples.write_samples),
    "cogan": Trainable("cogan", CoGANConfig, CoGAN, CoGANEvaluator, "sync_rate",
                       "two GANs coupled by shared layers, no pairs (the CoGAN baseline)", cogan_samples.write_samples),
}


def build_model(spec: Trainable, cfg: Any, manifest: dict) -> Any:
    """The model of ``spec`` for ``cfg`` on the corpus of ``manifest``: the model contract is
    ``model_cls(cfg, image shape, audio shape, n_classes=, audio_representation=)``."""
    from trainables.data import class_count, shapes

    return spec.model_cls(cfg, *shapes(manifest), n_classes=class_count(manifest),
                          audio_representation=manifest.get("audio", {}).get("representation", ""))


def get_trainable(name: str) -> Trainable:
    try:
        return TRAINABLES[name]
    except KeyError:
        raise ValueError(f"unknown trainable {name!r}; known: {sorted(TRAINABLES)}") from None

"""The trainables by name: config schema, model and evaluator, and the metric checkpoints rank by."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    model_cls: Any
    evaluator_cls: Any
    objective: str
    """The evaluation metric checkpoints are ranked by (higher is better)."""
    description: str
    samples: SampleWriter
    """What ``platform.generate`` writes for a checkpoint, the model's own writer
    (``trainables/<model>/samples.py``): SyncGAN's image/audio pairs generated from latent codes and test
    pairs translated through them; the VAE's images from test clips."""


TRAINABLES: dict[str, Trainable] = {
    "syncgan": Trainable("syncgan", SyncGANConfig, SyncGAN, SyncGANEvaluator, "sync_rate",
                         "two GANs tied by a synchronizer (image and audio from one code)", syncgan_samples.write_samples),
    "vae": Trainable("vae", VAEConfig, VAE, AudioToImageEvaluator, "image_acc_from_audio",
                     "the slides' audio-to-image VAE", vae_samples.write_samples),
    "vaegan": Trainable("vaegan", VAEGANConfig, VAEGAN, AudioToImageEvaluator, "image_acc_from_audio",
                        "the slides' all-convolutional audio-to-image VAE-GAN", vae_samples.write_samples),
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

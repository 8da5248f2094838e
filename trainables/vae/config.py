"""VAE and VAE-GAN training configs (audio -> image): every knob with its default.

Defaults follow the seed slides (MNIST/FSDD mix: 48x48 spectrograms -> 28x28 images, z of 64,
batch 128, 100 epochs; VAE lr 1e-3, VAE-GAN lr 2e-4, alpha 0.2, beta 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from trainables.config import LoopConfig, in_range

RECONSTRUCTIONS = ("bce", "mse")


@dataclass
class AudioToImageConfig(LoopConfig):
    """Knobs shared by VAE and VAE-GAN; data, loop and evaluation knobs come from ``LoopConfig``.

    ``semi_rate`` is the share of training pairs known to be pairs: only those enter the
    reconstruction term (all clips enter KL).
    """

    batch_size: int = 128
    epochs: int = 100
    z_dim: int = 64
    """Latent code size; >= 1."""
    width: int = 64
    """Channels of the encoder's first conv stage (doubling per stage; the decoder mirrors it); >= 1."""
    conv_stages: Optional[int] = 2
    """Stride-2 conv stages per network, at most as many as the shape allows; None: as many as fit; else >= 1."""
    reconstruction: str = "bce"
    """'bce': Bernoulli likelihood of the image rescaled to [0, 1], on the decoder's logits; 'mse':
    squared error of the image in [-1, 1]. Either is summed over pixels, per pair."""
    lr: float = 1e-3
    """Learning rate of the encoder and decoder (Adam); > 0."""
    beta1: float = 0.9
    """Adam's first-moment decay; in [0, 1)."""

    def validate(self) -> None:
        super().validate()
        if self.reconstruction not in RECONSTRUCTIONS:
            raise ValueError(f"reconstruction must be one of {RECONSTRUCTIONS}, got {self.reconstruction!r}")
        in_range(self, "beta1", 0.0, 1.0, high_open=True)
        in_range(self, "lr", 0.0, low_open=True)
        for name in ("z_dim", "width"):
            in_range(self, name, 1)
        in_range(self, "conv_stages", 1, none_ok=True)


@dataclass
class VAEConfig(AudioToImageConfig):
    """The slides' VAE: conv + fully connected audio encoder, fully connected + upconv image decoder."""

    fc_width: int = 1024
    """Width of the first fully connected layer of the encoder (the second has half; the decoder mirrors); >= 2."""
    kl_warmup_steps: int = 0
    """Training steps over which the KL weight rises linearly from 0 to 1 (0: weight 1 from the start).
    On small corpora the encoder learns slowly and KL alone pulls every code to the prior (posterior
    collapse: one mean image for every clip); a warm-up lets reconstruction shape the codes first. >= 0."""

    def validate(self) -> None:
        super().validate()
        in_range(self, "fc_width", 2)
        in_range(self, "kl_warmup_steps", 0)


@dataclass
class VAEGANConfig(AudioToImageConfig):
    """The slides' VAE-GAN: all-convolutional encoder, decoder and discriminator (LeakyReLU, BatchNorm)."""

    width: int = 128
    """Channels of the first conv stage of encoder and discriminator (doubling per stage; decoder mirrors)."""
    conv_stages: Optional[int] = 3
    lr: float = 2e-4
    beta1: float = 0.5
    lr_d: float = 2e-4
    """Learning rate of the discriminator (Adam); > 0."""
    alpha: float = 0.2
    """Weight of the reconstruction term in the encoder/decoder objective; >= 0."""
    beta: float = 0.5
    """Weight of the KL divergence term in the encoder/decoder objective; >= 0."""
    spectral_norm: bool = False
    """Spectral norm in the discriminator (the slides use none)."""

    def validate(self) -> None:
        super().validate()
        in_range(self, "lr_d", 0.0, low_open=True)
        for name in ("alpha", "beta"):
            in_range(self, name, 0.0)

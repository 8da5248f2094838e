"""VAE and VAE-GAN training configs (audio -> image): every knob with its default.

Defaults follow the seed slides (MNIST/FSDD mix: 48x48 spectrograms -> 28x28 images, z of 64,
batch 128, 100 epochs; VAE lr 1e-3, VAE-GAN lr 2e-4, alpha 0.2, beta 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from trainables.config import LoopConfig

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
    width: int = 64
    """Channels of the encoder's first conv stage (doubling per stage; the decoder mirrors it)."""
    conv_stages: Optional[int] = 2
    """Stride-2 conv stages per network, at most as many as the shape allows; None: as many as fit."""
    reconstruction: str = "bce"
    """'bce': Bernoulli likelihood of the image rescaled to [0, 1], on the decoder's logits; 'mse':
    squared error of the image in [-1, 1]. Either is summed over pixels, per pair."""
    lr: float = 1e-3
    """Learning rate of the encoder and decoder (Adam)."""
    beta1: float = 0.9

    def validate(self) -> None:
        super().validate()
        if self.reconstruction not in RECONSTRUCTIONS:
            raise ValueError(f"reconstruction must be one of {RECONSTRUCTIONS}, got {self.reconstruction!r}")
        if not 0.0 <= self.beta1 < 1.0:
            raise ValueError(f"beta1 must lie in [0, 1), got {self.beta1!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if int(self.z_dim) < 1 or int(self.width) < 1:
            raise ValueError(f"z_dim and width must be >= 1, got {self.z_dim!r}, {self.width!r}")
        if self.conv_stages is not None and self.conv_stages < 1:
            raise ValueError(f"conv_stages must be >= 1 or None, got {self.conv_stages!r}")


@dataclass
class VAEConfig(AudioToImageConfig):
    """The slides' VAE: conv + fully connected audio encoder, fully connected + upconv image decoder."""

    fc_width: int = 1024
    """Width of the first fully connected layer of the encoder (the second has half; the decoder mirrors)."""
    kl_warmup_steps: int = 0
    """Training steps over which the KL weight rises linearly from 0 to 1 (0: weight 1 from the start).
    On small corpora the encoder learns slowly and KL alone pulls every code to the prior (posterior
    collapse: one mean image for every clip); a warm-up lets reconstruction shape the codes first."""

    def validate(self) -> None:
        super().validate()
        if self.fc_width < 2:
            raise ValueError(f"fc_width must be >= 2, got {self.fc_width!r}")
        if isinstance(self.kl_warmup_steps, bool) or int(self.kl_warmup_steps) < 0:
            raise ValueError(f"kl_warmup_steps must be >= 0, got {self.kl_warmup_steps!r}")


@dataclass
class VAEGANConfig(AudioToImageConfig):
    """The slides' VAE-GAN: all-convolutional encoder, decoder and discriminator (LeakyReLU, BatchNorm)."""

    width: int = 128
    """Channels of the first conv stage of encoder and discriminator (doubling per stage; decoder mirrors)."""
    conv_stages: Optional[int] = 3
    lr: float = 2e-4
    beta1: float = 0.5
    lr_d: float = 2e-4
    """Learning rate of the discriminator (Adam)."""
    alpha: float = 0.2
    """Weight of the reconstruction term in the encoder/decoder objective."""
    beta: float = 0.5
    """Weight of the KL divergence term in the encoder/decoder objective."""
    spectral_norm: bool = False
    """Spectral norm in the discriminator (the slides use none)."""

    def validate(self) -> None:
        super().validate()
        if not self.lr_d > 0:
            raise ValueError(f"lr_d must be > 0, got {self.lr_d!r}")
        for name in ("alpha", "beta"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

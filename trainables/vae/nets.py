"""Audio encoders, image decoders and the all-convolutional discriminator of the VAE and VAE-GAN.

Sized from the data's shapes: ``conv_stages`` stride-2 stages at most, as many as the shape allows
(``trainables.nets.num_stages``). With the defaults on 48x48 spectrograms and 28x28 images they are the
slides' tables (the VAE exactly; the VAE-GAN's decoder starts at 7x7 instead of 3x3, and its
discriminator has two stride-2 stages because 7 cannot be halved).
Decoders return logits; ``to_image`` maps them to [-1, 1], the data's range.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

from trainables.nets import num_stages


def stages(shape: tuple[int, int], conv_stages: Optional[int]) -> int:
    """Stride-2 stages for ``shape``: ``conv_stages`` capped by what the shape allows (None: all)."""
    n = num_stages(shape)
    return n if conv_stages is None else min(n, conv_stages)


def to_image(logits: torch.Tensor) -> torch.Tensor:
    """Decoder logits -> image in [-1, 1] (2 * sigmoid - 1: the slides' sigmoid output, rescaled)."""
    return torch.tanh(logits / 2)


def split_gaussian(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 2z, ...) -> (mu, logvar), each (N, z)."""
    mu, logvar = h.flatten(1).chunk(2, dim=1)
    return mu, logvar


class FCAudioEncoder(nn.Module):
    """VAE encoder: conv 4x4/2 + ReLU stages, FC fc_width, FC fc_width/2, then mu and log-variance."""

    def __init__(self, shape: tuple[int, int], z_dim: int, width: int, fc_width: int, conv_stages: Optional[int]) -> None:
        super().__init__()
        n = stages(shape, conv_stages)
        layers: list[nn.Module] = []
        c_in = 1
        for i in range(n):
            layers += [nn.Conv2d(c_in, width * 2 ** i, 4, 2, 1), nn.ReLU(inplace=True)]
            c_in = width * 2 ** i
        flat = c_in * (shape[0] >> n) * (shape[1] >> n)
        self.body = nn.Sequential(
            *layers, nn.Flatten(),
            nn.Linear(flat, fc_width), nn.ReLU(inplace=True),
            nn.Linear(fc_width, fc_width // 2), nn.ReLU(inplace=True),
            nn.Linear(fc_width // 2, 2 * z_dim),  # linear: the slides' ReLU on mu, sigma would forbid mu < 0
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_gaussian(self.body(x))


class FCImageDecoder(nn.Module):
    """VAE decoder: FC fc_width/2, FC fc_width, FC to the smallest map, upconv 4x4/2 stages -> logits."""

    def __init__(self, shape: tuple[int, int], z_dim: int, width: int, fc_width: int, conv_stages: Optional[int]) -> None:
        super().__init__()
        n = stages(shape, conv_stages)
        self.c0, self.h0, self.w0 = width * 2 ** (n - 1), shape[0] >> n, shape[1] >> n
        self.fc = nn.Sequential(
            nn.Linear(z_dim, fc_width // 2), nn.ReLU(inplace=True),
            nn.Linear(fc_width // 2, fc_width), nn.ReLU(inplace=True),
            nn.Linear(fc_width, self.c0 * self.h0 * self.w0), nn.ReLU(inplace=True),
        )
        self.up = _upconvs(self.c0, n, batchnorm=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.fc(z).view(-1, self.c0, self.h0, self.w0))


class ConvAudioEncoder(nn.Module):
    """VAE-GAN encoder: conv 4x4/2 + BatchNorm + LeakyReLU(0.2) stages, then one conv covering the
    remaining map -> 1x1 with 2z channels (mu, log-variance). No fully connected layer."""

    def __init__(self, shape: tuple[int, int], z_dim: int, width: int, conv_stages: Optional[int]) -> None:
        super().__init__()
        n = stages(shape, conv_stages)
        layers: list[nn.Module] = []
        c_in = 1
        for i in range(n):
            c = width * 2 ** i
            layers += [nn.Conv2d(c_in, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c
        layers.append(nn.Conv2d(c_in, 2 * z_dim, (shape[0] >> n, shape[1] >> n)))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_gaussian(self.body(x))


class ConvImageDecoder(nn.Module):
    """VAE-GAN decoder: z as a 1x1 map, an upconv to the smallest map, upconv 4x4/2 stages, each with
    BatchNorm + ReLU except the last (logits). No fully connected layer."""

    def __init__(self, shape: tuple[int, int], z_dim: int, width: int, conv_stages: Optional[int]) -> None:
        super().__init__()
        n = stages(shape, conv_stages)
        c0 = width * 2 ** (n - 1)
        self.body = nn.Sequential(
            nn.ConvTranspose2d(z_dim, c0, (shape[0] >> n, shape[1] >> n), bias=False),
            nn.BatchNorm2d(c0), nn.ReLU(inplace=True),
            _upconvs(c0, n, batchnorm=True),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z[:, :, None, None])


class ConvDiscriminator(nn.Module):
    """VAE-GAN discriminator: conv 4x4/2 + LeakyReLU(0.2) stages (BatchNorm after all but the first),
    then one conv covering the remaining map -> one logit."""

    def __init__(self, shape: tuple[int, int], width: int, conv_stages: Optional[int], spectral_norm: bool = False) -> None:
        super().__init__()
        n = stages(shape, conv_stages)
        wrap = _sn if spectral_norm else (lambda m: m)
        layers: list[nn.Module] = []
        c_in = 1
        for i in range(n):
            c = width * 2 ** i
            layers.append(wrap(nn.Conv2d(c_in, c, 4, 2, 1, bias=i == 0)))
            layers += [nn.BatchNorm2d(c)] if i else []
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_in = c
        layers.append(wrap(nn.Conv2d(c_in, 1, (shape[0] >> n, shape[1] >> n))))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).flatten()


def _upconvs(c: int, n: int, batchnorm: bool) -> nn.Sequential:
    """n upconv 4x4/2 stages halving the channels, the last to 1 channel without activation."""
    layers: list[nn.Module] = []
    for i in range(n):
        last = i == n - 1
        out = 1 if last else c // 2
        layers.append(nn.ConvTranspose2d(c, out, 4, 2, 1, bias=last or not batchnorm))
        if not last:
            layers += [nn.BatchNorm2d(out)] if batchnorm else []
            layers.append(nn.ReLU(inplace=True))
        c = out
    return nn.Sequential(*layers)

"""DCGAN-style building blocks sized from the data's shape (28x28, 48x48, 64x64, 64x128, ...)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn


def num_stages(shape: tuple[int, int]) -> int:
    """Number of stride-2 stages: as many as keep both sides whole and at least 3 (at most 4)."""
    h, w = shape
    n = 0
    while n < 4 and h % 2 == 0 and w % 2 == 0 and h // 2 >= 3 and w // 2 >= 3:
        h, w, n = h // 2, w // 2, n + 1
    if n == 0:
        raise ValueError(f"shape {shape} cannot be halved: both sides must be even and >= 6")
    return n


class Generator(nn.Module):
    """z -> (1, H, W) in [-1, 1]: a linear projection then transposed convolutions."""

    def __init__(self, z_dim: int, shape: tuple[int, int], width: int = 32) -> None:
        super().__init__()
        n = num_stages(shape)
        self.shape = tuple(shape)
        self.h0, self.w0 = shape[0] >> n, shape[1] >> n
        self.c0 = width * 2 ** (n - 1)
        self.project = nn.Sequential(
            nn.Linear(z_dim, self.c0 * self.h0 * self.w0, bias=False),
            nn.BatchNorm1d(self.c0 * self.h0 * self.w0),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        c = self.c0
        for i in range(n):
            last = i == n - 1
            out = 1 if last else c // 2
            layers.append(nn.ConvTranspose2d(c, out, 4, 2, 1, bias=last))
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            c = out
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(-1, self.c0, self.h0, self.w0)
        return self.body(x)


def conv_features(shape: tuple[int, int], width: int, spectral_norm: bool) -> tuple[nn.Sequential, int]:
    """Strided conv stack (1, H, W) -> flat features; returns the module and its output size."""
    n = num_stages(shape)
    wrap = _sn if spectral_norm else (lambda m: m)
    layers: list[nn.Module] = []
    c_in, c = 1, width
    for _ in range(n):
        layers += [wrap(nn.Conv2d(c_in, c, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
        c_in, c = c, c * 2
    layers.append(nn.Flatten())
    return nn.Sequential(*layers), c_in * (shape[0] >> n) * (shape[1] >> n)


class Discriminator(nn.Module):
    """(1, H, W) -> one logit: real data of this modality vs generated."""

    def __init__(self, shape: tuple[int, int], width: int = 32, spectral_norm: bool = True) -> None:
        super().__init__()
        self.features, n_out = conv_features(shape, width, spectral_norm)
        self.head = _sn(nn.Linear(n_out, 1)) if spectral_norm else nn.Linear(n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)


class Synchronizer(nn.Module):
    """S(x_a, x_b) -> logit of 'synchronous pair'.

    Cross-modal structure of the paper (Fig. 2a): one feature extractor per modality,
    features concatenated, then fully connected layers. With ``spectral_norm`` every layer is
    normalised, the head included: a Lipschitz-bounded S is harder for the generators to satisfy
    with pairs unlike any it was trained on (sync rate 0.43 vs 0.38 after 1600 steps, fashion_spoken).

    The first head layer acts on the concatenation [f_a; f_b], so it splits into W_a f_a + W_b f_b:
    ``embed`` computes each modality's part once and ``score`` combines any rows of one with any rows
    of the other (``score(h_a[:, None], h_b[None])`` scores every pairing of two batches), which is
    what lets a step score many pairs for the price of one feature pass per sample.
    """

    def __init__(
        self, shape_a: tuple[int, int], shape_b: tuple[int, int], width: int = 32, spectral_norm: bool = True,
        width_b: int | None = None,
    ) -> None:
        super().__init__()
        self.features_a, self.n_a = conv_features(shape_a, width, spectral_norm)
        self.features_b, n_b = conv_features(shape_b, width_b or width, spectral_norm)
        wrap = _sn if spectral_norm else (lambda m: m)
        self.head = nn.Sequential(
            wrap(nn.Linear(self.n_a + n_b, 256)), nn.LeakyReLU(0.2, inplace=True), wrap(nn.Linear(256, 1))
        )

    def embed(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each modality's share of the first head layer: (W_a f_a(x_a) + bias, W_b f_b(x_b))."""
        first = self.head[0]
        w = first.weight  # spectral-normalised when the parametrization is on (one power iteration)
        h_a = F.linear(self.features_a(xa), w[:, :self.n_a], first.bias)
        return h_a, F.linear(self.features_b(xb), w[:, self.n_a:])

    def score(self, h_a: torch.Tensor, h_b: torch.Tensor) -> torch.Tensor:
        """Logits of the pairs (h_a, h_b), broadcasting over leading dimensions."""
        return self.head[2](F.leaky_relu(h_a + h_b, 0.2)).squeeze(-1)

    def forward(self, xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return self.score(*self.embed(xa, xb))

"""DCGAN-style building blocks sized from the data's shape (28x28, 48x48, 64x64, 64x128, ...)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn


def num_stages(shape: tuple[int, int]) -> int:
    """Number of stride-2 stages: as many as keep every side longer than 1 whole and at least 3 (at
    most 4). A side of length 1 (a 1-D signal, ``1 x L``) is never strided or convolved over."""
    sides = [s for s in shape if s > 1]
    n = 0
    while n < 4 and sides and all(s % 2 == 0 and s // 2 >= 3 for s in sides):
        sides, n = [s // 2 for s in sides], n + 1
    if n == 0:
        raise ValueError(f"shape {shape} cannot be halved: its sides longer than 1 must be even and >= 6")
    return n


def _stage(shape: tuple[int, int]) -> dict:
    """Kernel, stride and padding of one stage: 4 / 2 / 1 along a side longer than 1, 1 / 1 / 0 along a side of 1."""
    per_side = [(4, 2, 1) if s > 1 else (1, 1, 0) for s in shape]
    return {"kernel_size": tuple(k for k, _, _ in per_side), "stride": tuple(st for _, st, _ in per_side),
            "padding": tuple(p for _, _, p in per_side)}


def reduced(shape: tuple[int, int], n: int) -> tuple[int, int]:
    """The shape after ``n`` stages."""
    return tuple(s >> n if s > 1 else 1 for s in shape)  # type: ignore[return-value]


class Generator(nn.Module):
    """z -> (1, H, W) in [-1, 1]: a linear projection then transposed convolutions."""

    def __init__(self, z_dim: int, shape: tuple[int, int], width: int = 32) -> None:
        super().__init__()
        n = num_stages(shape)
        self.shape = tuple(shape)
        self.h0, self.w0 = reduced(shape, n)
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
            layers.append(nn.ConvTranspose2d(c, out, bias=last, **_stage(shape)))
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
        layers += [wrap(nn.Conv2d(c_in, c, **_stage(shape))), nn.LeakyReLU(0.2, inplace=True)]
        c_in, c = c, c * 2
    layers.append(nn.Flatten())
    h, w = reduced(shape, n)
    return nn.Sequential(*layers), c_in * h * w


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
        width_b: int | None = None, n_classes: int = 0,
    ) -> None:
        super().__init__()
        self.features_a, self.n_a = conv_features(shape_a, width, spectral_norm)
        self.features_b, n_b = conv_features(shape_b, width_b or width, spectral_norm)
        wrap = _sn if spectral_norm else (lambda m: m)
        self.head = nn.Sequential(
            wrap(nn.Linear(self.n_a + n_b, 256)), nn.LeakyReLU(0.2, inplace=True), wrap(nn.Linear(256, 1))
        )
        # optional class heads on each extractor (``classify``): they give the extractors class features
        # to first order, which the pair head alone learns only through its one nonlinearity
        self.classes_a = nn.Linear(self.n_a, n_classes) if n_classes else None
        self.classes_b = nn.Linear(n_b, n_classes) if n_classes else None

    def features(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each modality's flat features."""
        return self.features_a(xa), self.features_b(xb)

    def project(self, f_a: torch.Tensor, f_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each modality's share of the first head layer: (W_a f_a + bias, W_b f_b)."""
        first = self.head[0]
        w = first.weight  # spectral-normalised when the parametrization is on (one power iteration)
        return F.linear(f_a, w[:, :self.n_a], first.bias), F.linear(f_b, w[:, self.n_a:])

    def embed(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each modality's share of the first head layer: (W_a f_a(x_a) + bias, W_b f_b(x_b))."""
        return self.project(*self.features(xa, xb))

    def classify(self, f_a: torch.Tensor, f_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits of each modality's features (the class heads; built with ``n_classes`` > 0)."""
        if self.classes_a is None:
            raise RuntimeError("this synchronizer has no class heads (n_classes=0)")
        return self.classes_a(f_a), self.classes_b(f_b)

    def score(self, h_a: torch.Tensor, h_b: torch.Tensor) -> torch.Tensor:
        """Logits of the pairs (h_a, h_b), broadcasting over leading dimensions."""
        return self.head[2](F.leaky_relu(h_a + h_b, 0.2)).squeeze(-1)

    def forward(self, xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return self.score(*self.embed(xa, xb))

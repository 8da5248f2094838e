"""What a model's networks see of one modality, against what the corpus stores.

Most representations are images the networks take as they are (``Pixels``). A folded waveform
(``data_prep.features``: a ``values``-long signal drawn as a ``height x values`` image of anti-aliased
dots) is a 1-D signal in a 2-D costume: ``Waveform`` hands the networks the signal itself (``1 x values``,
read back exactly: the intensity-weighted mean row of each column) and draws what a generator makes
the way the corpus does, so judges, files and players get the corpus's own representation.
"""
from __future__ import annotations

import torch


class Pixels:
    """The corpus's representation, unchanged."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = self.net_shape = tuple(shape)

    def to_net(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def from_net(self, y: torch.Tensor) -> torch.Tensor:
        return y


class Waveform:
    """A folded waveform (``height x values`` dots) seen by the networks as its ``1 x values`` signal."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = tuple(shape)
        self.height, values = shape
        self.net_shape = (1, values)

    def to_net(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, height, values) drawn dots -> (N, 1, 1, values) signal in [-1, 1] (``unfold_waveform``)."""
        w = ((x.float() + 1.0) / 2.0).clamp_min(0.0)
        rows = torch.arange(self.height, dtype=w.dtype, device=w.device)[:, None]
        weight = w.sum(dim=-2, keepdim=True)
        pos = (w * rows).sum(dim=-2, keepdim=True) / weight.clamp_min(1e-12)
        pos = torch.where(weight > 0, pos, torch.full_like(pos, (self.height - 1) / 2.0))
        return (1.0 - 2.0 * pos / (self.height - 1)).to(x.dtype)

    def from_net(self, y: torch.Tensor) -> torch.Tensor:
        """(N, 1, 1, values) signal -> (N, 1, height, values) anti-aliased dots (``fold_waveform``);
        differentiable in the signal (through each dot's split between its two rows)."""
        v = y.clamp(-1.0, 1.0)
        pos = (1.0 - v) / 2.0 * (self.height - 1)
        lo = pos.detach().floor().clamp(0, self.height - 2)
        frac = pos - lo
        rows = torch.arange(self.height, dtype=y.dtype, device=y.device)[:, None]
        img = (rows == lo) * (1.0 - frac) + (rows == lo + 1) * frac
        return 2.0 * img - 1.0


def representation(kind: str, shape: tuple[int, int], waveform_nets: bool = True) -> Pixels | Waveform:
    """The view of a side whose manifest ``representation`` is ``kind`` (folded_waveform: ``Waveform``
    where ``waveform_nets``; anything else: ``Pixels``)."""
    return Waveform(shape) if kind == "folded_waveform" and waveform_nets else Pixels(shape)

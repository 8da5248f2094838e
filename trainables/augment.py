"""Random translation of a batch, per sample and differentiable (DiffAugment's ``translation``, Zhao et al.,
"Differentiable Augmentation for Data-Efficient GAN Training", NeurIPS 2020), for networks that would
otherwise memorize a small corpus."""
from __future__ import annotations

import torch


def random_shift(x: torch.Tensor, fraction: float, rows: bool = True) -> torch.Tensor:
    """``x`` (N, C, H, W) with each sample moved by a whole number of pixels drawn uniformly in
    [-round(fraction * side), +round(fraction * side)] along W, and along H where ``rows`` (a picture;
    not a spectrogram, whose rows are frequencies, nor a ``1 x L`` signal); the edge row or column fills
    what is uncovered. Gradients flow to ``x``. ``fraction`` 0 returns ``x`` itself. Draws from torch's
    global generator (its state is in every checkpoint)."""
    if fraction <= 0:
        return x
    n, _, h, w = x.shape
    reach_h, reach_w = round(fraction * h) if rows and h > 1 else 0, round(fraction * w) if w > 1 else 0
    dy = torch.randint(-reach_h, reach_h + 1, (n, 1, 1)).to(x.device)
    dx = torch.randint(-reach_w, reach_w + 1, (n, 1, 1)).to(x.device)
    source_row = (torch.arange(h, device=x.device)[None, :, None] - dy).clamp(0, h - 1).expand(n, h, w)
    source_col = (torch.arange(w, device=x.device)[None, None, :] - dx).clamp(0, w - 1).expand(n, h, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return x[batch, :, source_row, source_col].permute(0, 3, 1, 2)

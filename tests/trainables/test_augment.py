"""random_shift: per-sample translation within its reach, along sides longer than 1 only, differentiable."""
from __future__ import annotations

import torch

from trainables.augment import random_shift


def _dot(n: int, h: int, w: int) -> torch.Tensor:
    x = torch.zeros(n, 1, h, w)
    x[:, :, h // 2, w // 2] = 1.0
    return x


def test_each_sample_moves_its_content_within_the_reach_and_not_all_alike():
    torch.manual_seed(0)
    out = random_shift(_dot(64, 16, 32), 0.125)  # reach 2 rows, 4 columns
    where = [divmod(int(i), 32) for i in out.flatten(1).argmax(1)]
    assert all(abs(r - 8) <= 2 and abs(c - 16) <= 4 for r, c in where), where
    assert len(set(where)) > 10, "the samples should move independently"
    assert torch.equal(out.sum((1, 2, 3)), torch.ones(64)), "away from the edges a shift only moves values"


def test_a_signal_of_one_row_moves_along_its_length_only():
    torch.manual_seed(0)
    out = random_shift(_dot(32, 1, 128), 0.125)
    cols = out[:, 0, 0].argmax(1)
    assert (out[:, 0, 0].amax(1) == 1).all() and (cols - 64).abs().max() <= 16 and cols.unique().numel() > 5


def test_edges_fill_what_the_shift_uncovers():
    x = torch.arange(6.0).view(1, 1, 1, 6).repeat(8, 1, 1, 1)
    torch.manual_seed(3)
    out = random_shift(x, 0.34)  # reach 2
    for row in out[:, 0, 0]:
        assert set(row.tolist()) <= set(range(6)) and row.tolist() == sorted(row.tolist())


def test_zero_fraction_is_the_identity_and_gradients_reach_the_input():
    x = torch.randn(4, 1, 8, 8, requires_grad=True)
    assert random_shift(x, 0.0) is x
    random_shift(x, 0.25).pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_a_spectrogram_keeps_its_rows_when_only_time_moves():
    torch.manual_seed(0)
    out = random_shift(_dot(32, 16, 16), 0.25, rows=False)
    rows, cols = out.flatten(1).argmax(1) // 16, out.flatten(1).argmax(1) % 16
    assert (rows == 8).all() and cols.unique().numel() > 3

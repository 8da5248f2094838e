"""The labelled pool: the training pairs whose pairing the synchronizer may use, sampled per step.

Draws use torch's global generator, whose state every checkpoint saves, so a resumed run draws
the same batches as an uninterrupted one.
"""
from __future__ import annotations

import numpy as np
import torch


class LabelledPool:
    """Images and clips of the labelled rows, grouped by class, in compact form (uint8 / float16)."""

    def __init__(self, images: np.ndarray, audios: np.ndarray, labels: np.ndarray, device: torch.device | str) -> None:
        order = np.argsort(labels, kind="stable")
        self.images = torch.from_numpy(np.ascontiguousarray(images[order]))
        self.audios = torch.from_numpy(np.ascontiguousarray(audios[order]))
        self.labels = torch.from_numpy(np.asarray(labels)[order].astype(np.int64))
        classes, starts, counts = np.unique(self.labels.numpy(), return_index=True, return_counts=True)
        self.classes = torch.from_numpy(classes)
        self.starts = torch.from_numpy(starts)
        self.counts = torch.from_numpy(counts)
        self.device = device

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def usable(self) -> bool:
        """Two classes at least: an asynchronous pair needs a clip of another class."""
        return len(self.classes) >= 2

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(images, same-class clips, labels): ``n`` labelled rows drawn uniformly with replacement,
        each image with a clip of its class drawn anew (its own clip among the candidates)."""
        rows = torch.randint(len(self.labels), (n,))
        cls = torch.searchsorted(self.classes, self.labels[rows])
        partner = self.starts[cls] + (torch.rand(n) * self.counts[cls]).long().clamp_max(self.counts[cls] - 1)
        x_a = self.images[rows].float().div_(127.5).sub_(1.0)
        x_b = self.audios[partner].float()
        return x_a.to(self.device), x_b.to(self.device), self.labels[rows].to(self.device)

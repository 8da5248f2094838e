"""Evaluation of generated pairs with the per-modality classifiers."""
from __future__ import annotations

import torch
from torch import nn

from trainables.classifiers import predict


def sync_rate(pred_a: torch.Tensor, pred_b: torch.Tensor) -> float:
    """Share of generated pairs that the two classifiers put in the same class."""
    if pred_a.shape != pred_b.shape or pred_a.numel() == 0:
        raise ValueError(f"need two equal, non-empty prediction vectors, got {tuple(pred_a.shape)} and {tuple(pred_b.shape)}")
    return float((pred_a == pred_b).float().mean())


def class_coverage(pred: torch.Tensor, n_classes: int) -> float:
    """Share of classes that appear among the predictions (1.0: every class generated)."""
    return float(torch.unique(pred).numel() / n_classes)


@torch.no_grad()
def evaluate_pairs(
    x_a: torch.Tensor, x_b: torch.Tensor, clf_a: nn.Module, clf_b: nn.Module, n_classes: int
) -> dict[str, float]:
    """sync_rate and class coverage of each modality for pairs generated from one code each."""
    pa, pb = predict(clf_a, x_a), predict(clf_b, x_b)
    return {
        "sync_rate": sync_rate(pa, pb),
        "class_coverage_image": class_coverage(pa, n_classes),
        "class_coverage_audio": class_coverage(pb, n_classes),
    }

"""Evaluation of generated samples with the per-modality classifiers (all offline).

sync rate, its chance-corrected form (Cohen's kappa) and class coverage of generated pairs; transfer accuracy; accuracy of the image classifier
on images generated from test audio (the seed slides' measure); FID and KID via torchmetrics on the
penultimate features of our own classifiers instead of Inception (nothing is downloaded).
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn
from torchmetrics.functional.classification import multiclass_cohen_kappa
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from trainables.classifiers import ClassifierFeatures, predict

if TYPE_CHECKING:
    from trainables.data import PairArrays


def _check_pair_predictions(pred_a: torch.Tensor, pred_b: torch.Tensor) -> None:
    if pred_a.shape != pred_b.shape or pred_a.numel() == 0:
        raise ValueError(f"need two equal, non-empty prediction vectors, got {tuple(pred_a.shape)} and {tuple(pred_b.shape)}")


def sync_rate(pred_a: torch.Tensor, pred_b: torch.Tensor) -> float:
    """Share of generated pairs that the two classifiers put in the same class."""
    _check_pair_predictions(pred_a, pred_b)
    return float((pred_a == pred_b).float().mean())


def sync_kappa(pred_a: torch.Tensor, pred_b: torch.Tensor, n_classes: int) -> float:
    """The sync rate corrected for chance: Cohen's kappa between the two classifiers' labels.

    (p_o - p_e) / (1 - p_e), with p_o the sync rate and p_e the agreement expected from the two label
    distributions alone: 1 for pairs synchronous across classes, ~0 for independent generators, and 0
    for generators collapsed onto one class, even onto the same one (sync rate 1.0 there: p_e = 1)."""
    _check_pair_predictions(pred_a, pred_b)
    kappa = float(multiclass_cohen_kappa(pred_a, pred_b, num_classes=n_classes))
    if kappa != kappa:  # NaN: p_e = 1, all agreement is chance
        return 0.0
    # torchmetrics works in float32: a true 0 comes out as +-1.2e-7, enough to break ASHA's ties at 0
    # (its cutoff is strict) by noise; kappa from n pairs has steps of ~1/n, far above 1e-6
    return round(kappa, 6) + 0.0  # + 0.0: no -0.0


def soft_sync_kappa(prob_a: torch.Tensor, prob_b: torch.Tensor) -> float:
    """Cohen's kappa of the judges' probabilities instead of their labels: ASHA's tie-free sync_kappa.

    p_o = mean over pairs of sum_c p_a(c) p_b(c), the agreement expected if each judge drew its label
    from its softmax; p_e = sum_c mean p_a(c) * mean p_b(c), the agreement expected from the two mean
    distributions alone; (p_o - p_e) / (1 - p_e). It follows sync_kappa (equal for one-hot
    probabilities) but moves with every change of the judges' confidence, so trials whose label kappa
    is 0 (generators collapsed, or not yet synchronous) still rank against each other: Ray's ASHA stops
    a trial only strictly below a rung's cutoff, and a cutoff of kappa 0 shared by most trials stops none."""
    if prob_a.shape != prob_b.shape or prob_a.ndim != 2 or prob_a.shape[0] == 0:
        raise ValueError(f"need two equal, non-empty (pairs, classes) probability tensors, got "
                         f"{tuple(prob_a.shape)} and {tuple(prob_b.shape)}")
    a, b = prob_a.double(), prob_b.double()
    p_o = float((a * b).sum(1).mean())
    p_e = float((a.mean(0) * b.mean(0)).sum())
    if 1.0 - p_e < 1e-12:  # both judges certain of one and the same class for every pair: all agreement is chance
        return 0.0
    return (p_o - p_e) / (1.0 - p_e)


def class_coverage(pred: torch.Tensor, n_classes: int) -> float:
    """Share of classes that appear among the predictions (1.0: every class generated)."""
    return float(torch.unique(pred).numel() / n_classes)


@torch.no_grad()
def evaluate_pairs(
    x_a: torch.Tensor, x_b: torch.Tensor, clf_a: nn.Module, clf_b: nn.Module, n_classes: int
) -> dict[str, float]:
    """sync_rate, sync_kappa and class coverage of each modality for pairs generated from one code each."""
    return pair_metrics(predict(clf_a, x_a), predict(clf_b, x_b), n_classes)


def pair_metrics(pa: torch.Tensor, pb: torch.Tensor, n_classes: int) -> dict[str, float]:
    """evaluate_pairs from the judges' predictions of the two modalities."""
    return {
        "sync_rate": sync_rate(pa, pb),
        "sync_kappa": sync_kappa(pa, pb, n_classes),
        "class_coverage_image": class_coverage(pa, n_classes),
        "class_coverage_audio": class_coverage(pb, n_classes),
    }


def label_accuracy(pred: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of predictions equal to the labels."""
    if pred.shape != labels.shape or pred.numel() == 0:
        raise ValueError(f"need equal, non-empty predictions and labels, got {tuple(pred.shape)} and {tuple(labels.shape)}")
    return float((pred.cpu() == labels.cpu()).float().mean())


def transfer_accuracy(target_classifier: nn.Module, transferred: torch.Tensor, source_labels: torch.Tensor) -> float:
    """Share of transferred samples that the target modality's classifier puts in their source's class."""
    return label_accuracy(predict(target_classifier, transferred), source_labels)


def audio_to_image_accuracy(image_classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The slides' measure: share of images generated from test audio that the image classifier
    (LeNet-5 on MNIST-sized images) puts in the class of their audio."""
    return label_accuracy(predict(image_classifier, images), labels)


@torch.no_grad()
def fid_kid(
    real: torch.Tensor, fake: torch.Tensor, classifier: nn.Module, *,
    kid_subsets: int = 10, kid_subset_size: int = 1000, batch_size: int = 512, seed: int = 0,
) -> dict[str, float]:
    """FID and KID (mean, std over subsets) of ``fake`` against ``real`` on the classifier's
    penultimate features (``ClassifierFeatures``), with torchmetrics.

    Both sets are samples of one modality in the data's range, (N, 1, H, W). The KID subset size is
    capped at half the smaller set, so that its subsets (drawn with a fixed seed) differ and
    ``kid_std`` measures something (a subset as large as the set is the whole set every time: std 0).
    FID needs well more samples than features (84 for both image judges) to be stable.
    """
    features = ClassifierFeatures(classifier)
    size = max(2, min(kid_subset_size, min(len(real), len(fake)) // 2))
    # sync_on_compute=False: rank 0 evaluates alone; syncing would wait on ranks that never compute
    fid = FrechetInceptionDistance(feature=features, reset_real_features=True, sync_on_compute=False).to(real.device)
    with warnings.catch_warnings():  # "will save all extracted features": known, they are small
        warnings.simplefilter("ignore", UserWarning)
        kid = KernelInceptionDistance(feature=features, subsets=kid_subsets, subset_size=size,
                                      sync_on_compute=False).to(real.device)
    for metric in (fid, kid):
        for i in range(0, len(real), batch_size):
            metric.update(real[i:i + batch_size], real=True)
        for i in range(0, len(fake), batch_size):
            metric.update(fake[i:i + batch_size], real=False)
    fork_devices = [real.device] if real.device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        kid_mean, kid_std = kid.compute()
    return {"fid": float(fid.compute()), "kid": float(kid_mean), "kid_std": float(kid_std)}


def evaluate_transfer(
    translate: Callable[[torch.Tensor, str], tuple[torch.Tensor, torch.Tensor]], x_a: torch.Tensor,
    x_b: torch.Tensor, labels: torch.Tensor, clf_a: nn.Module, clf_b: nn.Module,
) -> dict[str, float]:
    """Transfer accuracy both ways for test pairs (x_a, x_b) of class ``labels``: ``transfer_acc_a_to_b``
    (clf_b on translate(x_a, "a_to_b")) and ``transfer_acc_b_to_a``, the mean reconstruction error of the
    recovered codes (``translate`` returns (translated, per-sample error): ``SyncGAN.translate``), and the
    seconds each direction took (``transfer_seconds_*``)."""
    import time

    out: dict[str, float] = {}
    for direction, x, clf in (("a_to_b", x_a, clf_b), ("b_to_a", x_b, clf_a)):
        t0 = time.perf_counter()
        moved, loss = translate(x, direction)
        out[f"transfer_seconds_{direction}"] = time.perf_counter() - t0
        out[f"transfer_acc_{direction}"] = transfer_accuracy(clf, moved, labels)
        out[f"recovery_mse_{direction}"] = float(loss.mean())
    return out


def evaluate_transfer_on(
    translate: Callable[[torch.Tensor, str], tuple[torch.Tensor, torch.Tensor]], split: "PairArrays", n: int,
    clf_a: nn.Module, clf_b: nn.Module, device: torch.device | str = "cpu",
) -> dict[str, float]:
    """``evaluate_transfer`` on ``n`` pairs of ``split`` (``evaluation_rows``: the classes in turn)."""
    from trainables.data import evaluation_rows

    rows = evaluation_rows(split.label, n)
    return evaluate_transfer(translate, split.images(rows).to(device), split.audios(rows).to(device),
                             torch.from_numpy(split.label[rows]), clf_a, clf_b)


@torch.no_grad()
def synchronizer_accuracy(sync: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x_a: torch.Tensor,
                          x_b: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """Accuracy of S's verdict (``sync(x_a, x_b)``: logits, > 0 synchronous) on real pairs: each (x_a[i], x_b[i]) of one class
    ``labels[i]`` (synchronous) and each x_a[i] with the clip of the next row of another class
    (asynchronous), both halves counted equally."""
    n = len(labels)
    order = torch.argsort(labels, stable=True)
    shift = (torch.arange(n) + n // 2) % n  # half a sorted corpus away: another class, unless one dominates
    partner = torch.empty(n, dtype=torch.long)
    partner[order] = order[shift]
    keep = labels[partner] != labels
    correct_pos, correct_neg = [], []
    for i in range(0, n, batch_size):
        j = slice(i, i + batch_size)
        correct_pos.append(sync(x_a[j], x_b[j]) > 0)
        correct_neg.append(sync(x_a[j], x_b[partner[j]]) <= 0)
    pos, neg = torch.cat(correct_pos).float(), torch.cat(correct_neg)[keep].float()
    return float(0.5 * pos.mean() + 0.5 * (neg.mean() if neg.numel() else pos.mean()))


@torch.no_grad()
def synchronizer_judge_agreement(sync_logits: torch.Tensor, pred_a: torch.Tensor, pred_b: torch.Tensor) -> float:
    """How often S's verdict on generated pairs (logit > 0: synchronous) matches the judges' (same class)."""
    _check_pair_predictions(pred_a, pred_b)
    return float(((sync_logits > 0) == (pred_a == pred_b)).float().mean())

"""Per-modality classifiers trained on the real corpus; they judge generated samples.

LeNet-5 for images and a small CNN for spectrograms. ``ensure_classifiers`` trains them once per
corpus and training settings and caches them next to the corpus (``<corpus>/classifiers-i<epochs
image>-a<epochs audio>-s<seed>.pt``, checked against the corpus config hash), with their test
accuracy in the ``.json`` of the same name.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainables.data import load_split, read_manifest


class LeNet5(nn.Module):
    """LeNet-5 (ReLU, max-pool); an adaptive pool makes it accept any input size >= 16."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AdaptiveMaxPool2d(5),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 25, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SpectrogramCNN(nn.Module):
    """Three conv blocks, then a coarse 4x4 pooled map (keeps where in frequency and time energy lies)."""

    def __init__(self, n_classes: int = 10, width: int = 32) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        c_in = 1
        for c in (width, width * 2, width * 4):
            blocks += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(c_in * 16, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ClassifierFeatures(nn.Module):
    """A classifier's penultimate features (the input of its last linear layer), always in eval mode.

    The feature extractor that ``torchmetrics`` FID and KID take instead of Inception (no download):
    LeNet5 gives 84 features, SpectrogramCNN 16 * 4 * width. ``num_features`` tells torchmetrics the size.
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        if not isinstance(getattr(classifier, "head", None), nn.Sequential) or not isinstance(classifier.head[-1], nn.Linear):
            raise TypeError(f"{type(classifier).__name__}: expected .features and a .head ending in nn.Linear")
        self.classifier = classifier.eval()
        self.num_features = int(classifier.head[-1].in_features)

    def train(self, mode: bool = True) -> "ClassifierFeatures":
        return super().train(False)  # dropout and batch statistics would make features random

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """float64 features: torchmetrics computes KID in the features' dtype (cubes of dot products)."""
        c = self.classifier
        return c.head[:-1](c.features(x)).double()


def _fit(model: nn.Module, xt: torch.Tensor, y: np.ndarray, epochs: int, seed: int, batch_size: int = 128) -> None:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    yt = torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(order), batch_size):
            b = order[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xt[b]), yt[b]).backward()
            opt.step()


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Class predictions, in eval mode."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: np.ndarray) -> float:
    return float((predict(model, x).numpy() == y).mean())


def _unique_audio(ids: np.ndarray) -> np.ndarray:
    return np.unique(ids, return_index=True)[1]


def train_classifiers(corpus_dir: str | Path, epochs_image: int = 3, epochs_audio: int = 15, seed: int = 0) -> dict:
    """Train both classifiers on the train split, score them on the test split, return a state dict."""
    torch.manual_seed(seed)
    manifest = read_manifest(corpus_dir)
    train, test = load_split(corpus_dir, "train"), load_split(corpus_dir, "test")
    n_classes = int(max(train.label.max(), test.label.max()) + 1)
    image_model, audio_model = LeNet5(n_classes), SpectrogramCNN(n_classes)
    t0 = time.time()
    _fit(image_model, train.images(), train.label, epochs_image, seed)
    ua, ta = _unique_audio(train.audio_id), _unique_audio(test.audio_id)
    _fit(audio_model, train.audios(ua), train.label[ua], epochs_audio, seed, batch_size=32)
    return {
        "corpus_hash": manifest["config_hash"],
        "n_classes": n_classes,
        "image": image_model.state_dict(),
        "audio": audio_model.state_dict(),
        "test_accuracy": {
            "image": accuracy(image_model, test.images(), test.label),
            "audio": accuracy(audio_model, test.audios(ta), test.label[ta]),
        },
        "train_seconds": time.time() - t0,
    }


def cache_path(corpus_dir: str | Path, epochs_image: int, epochs_audio: int, seed: int) -> Path:
    """Where ``ensure_classifiers`` keeps the classifiers trained with these settings: judges trained
    differently (a quick test run's against a benchmark's) never stand in for one another."""
    return Path(corpus_dir) / f"classifiers-i{int(epochs_image)}-a{int(epochs_audio)}-s{int(seed)}.pt"


def ensure_classifiers(corpus_dir: str | Path, force: bool = False, epochs_image: int = 3, epochs_audio: int = 15,
                       seed: int = 0) -> Path:
    """Path of the cached classifiers for this corpus and these settings, training them first if
    needed; the state and its ``.json`` (test accuracy) are each written atomically, the json first."""
    path = cache_path(corpus_dir, epochs_image, epochs_audio, seed)
    want = read_manifest(corpus_dir)["config_hash"]
    if path.is_file() and path.with_suffix(".json").is_file() and not force:
        if torch.load(path, weights_only=True).get("corpus_hash") == want:
            return path
    state = train_classifiers(corpus_dir, epochs_image, epochs_audio, seed)
    summary = {"test_accuracy": state["test_accuracy"], "train_seconds": state["train_seconds"],
               "settings": {"epochs_image": epochs_image, "epochs_audio": epochs_audio, "seed": seed}}
    for target, write in ((path.with_suffix(".json"), lambda f: f.write_text(json.dumps(summary, indent=2))),
                          (path, lambda f: torch.save(state, f))):
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        write(tmp)
        os.replace(tmp, target)
    return path


def load_classifiers(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, nn.Module, dict]:
    """(image classifier, audio classifier, their test accuracies), in eval mode."""
    state = torch.load(path, map_location=device, weights_only=True)
    image_model, audio_model = LeNet5(state["n_classes"]), SpectrogramCNN(state["n_classes"])
    image_model.load_state_dict(state["image"])
    audio_model.load_state_dict(state["audio"])
    return image_model.to(device).eval(), audio_model.to(device).eval(), state["test_accuracy"]

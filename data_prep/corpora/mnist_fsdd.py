"""mnist_fsdd: MNIST <-> Free Spoken Digit Dataset (the slides' corpus), and its offline twin."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from data_prep.corpora.common import (DEFAULT_VOICES, DIGIT_CLASSES, FSDD_DIR, MNIST_DIR, Prepared, check_common,
                                      digit_image_meta, digit_side, digit_sources, espeak_clips, espeak_fields,
                                      folder_digest, fraction, log_mel_meta, pos_int, spoken_units)
from data_prep.features import LogMelConfig
from data_prep.sources.digits import SKLEARN_DIGITS
from data_prep.sources.espeak import WORDS
from data_prep.sources.fsdd import scan_fsdd


@dataclass
class MnistFsddConfig:
    """MNIST images paired with same-digit FSDD log-mels (slides' recipe: 48x48, 90/10 FSDD split, 60k/10k pairs)."""

    mnist_dir: str = MNIST_DIR  # the four MNIST IDX files, or "sklearn-digits" (offline 8x8 digits, resized)
    fsdd_dir: str | None = FSDD_DIR  # FSDD recordings/ folder; null: espeak-ng digits in FSDD layout
    voices: list[str] = field(default_factory=lambda: list(DEFAULT_VOICES))  # only when fsdd_dir is null
    speeds: list[int] = field(default_factory=lambda: [130, 160, 190])
    pitches: list[int] = field(default_factory=lambda: [35, 50, 65])
    image_size: int | None = None  # null: the source's size (MNIST 28); else resized to size x size
    train_per_class: int | None = None
    test_per_class: int | None = None
    audio_test_fraction: float = 0.1
    seed: int = 0
    num_shards: int = 4
    logmel: LogMelConfig = field(default_factory=LogMelConfig)

    image_classes = DIGIT_CLASSES
    audio_classes = list(WORDS)

    def __post_init__(self) -> None:
        self.mnist_dir = str(self.mnist_dir)
        self.fsdd_dir = None if self.fsdd_dir is None else str(self.fsdd_dir)
        espeak_fields(self)
        pos_int("image_size", self.image_size, none_ok=True)
        self.audio_test_fraction = fraction("audio_test_fraction", self.audio_test_fraction)
        check_common(self)


@dataclass
class MnistFsddOfflineConfig(MnistFsddConfig):
    """Offline twin of mnist_fsdd: scikit-learn's 8x8 digits (resized to 28x28) and espeak-ng digits read as FSDD."""

    mnist_dir: str = SKLEARN_DIGITS
    fsdd_dir: str | None = None
    image_size: int | None = 28


def build(cfg: MnistFsddConfig, cache: Path) -> Prepared:
    images = {s: digit_side(cfg.mnist_dir, s, n, cfg.image_size, cfg.seed)
              for s, n in (("train", cfg.train_per_class), ("test", cfg.test_per_class))}
    p = Prepared(images=images, units={}, classes={"image": list(cfg.image_classes), "audio": list(WORDS)},
                 audio=log_mel_meta(cfg.logmel))
    if cfg.fsdd_dir is None:  # offline twin: espeak-ng digits written in FSDD layout, read as FSDD
        paths, p.sources, espeak = espeak_clips(cfg, cache)
        wanted = {x.name for x in paths}
        clips, bad = scan_fsdd(paths[0].parent)
        clips = [c for c in clips if c.path.name in wanted]
        p.versions["espeak-ng"] = espeak
    else:
        clips, bad = scan_fsdd(cfg.fsdd_dir)
        p.sources = {"fsdd": folder_digest([c.path for c in clips], cfg.fsdd_dir)}
    p.quarantine += bad
    spoken_units(clips, cfg, p)
    p.sources.update(digit_sources(cfg.mnist_dir))
    p.image = digit_image_meta(cfg.mnist_dir)
    return p

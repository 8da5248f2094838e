"""fashion_spoken: Fashion-MNIST images <-> espeak-ng clips of the class index spoken (offline)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from data_prep.corpora.common import (DEFAULT_VOICES, FASHION_CLASSES, Prepared, espeak_clips, idx_side, idx_sources,
                                      int_list, log_mel_meta, spoken_units)
from data_prep.features import LogMelConfig
from data_prep.schema import from_dict
from data_prep.sources.espeak import WORDS
from data_prep.sources.fsdd import parse_clip
from data_prep.sources.idx import FASHION_MNIST_DIR


@dataclass
class FashionSpokenConfig:
    """Fashion-MNIST images (class k) paired with espeak-ng clips of the word for k."""

    fashion_dir: str = FASHION_MNIST_DIR
    voices: list[str] = field(default_factory=lambda: list(DEFAULT_VOICES))
    speeds: list[int] = field(default_factory=lambda: [130, 160, 190])
    pitches: list[int] = field(default_factory=lambda: [35, 50, 65])
    train_per_class: int | None = None  # None: all images; else the first N per class
    test_per_class: int | None = None
    audio_test_fraction: float = 0.1  # clips held out per class for the test split
    seed: int = 0
    num_shards: int = 4  # Parquet files per split (about)
    logmel: LogMelConfig = field(default_factory=LogMelConfig)

    image_classes = FASHION_CLASSES
    audio_classes = list(WORDS)

    def __post_init__(self) -> None:
        self.fashion_dir = str(self.fashion_dir)
        voices = self.voices if isinstance(self.voices, (list, tuple)) else [self.voices]
        if not voices or not all(isinstance(v, str) and v for v in voices):
            raise ValueError(f"voices must be a non-empty list of espeak-ng voice names, got {self.voices!r}")
        self.voices = list(voices)
        self.speeds, self.pitches = int_list("speeds", self.speeds), int_list("pitches", self.pitches)
        for k in ("train_per_class", "test_per_class"):
            v = getattr(self, k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{k} must be null or a positive integer, got {v!r}")
        if not 0.0 < float(self.audio_test_fraction) < 1.0:
            raise ValueError(f"audio_test_fraction must be in (0, 1), got {self.audio_test_fraction!r}")
        self.audio_test_fraction = float(self.audio_test_fraction)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if isinstance(self.num_shards, bool) or not isinstance(self.num_shards, int) or self.num_shards < 1:
            raise ValueError(f"num_shards must be a positive integer, got {self.num_shards!r}")
        if isinstance(self.logmel, dict):
            self.logmel = from_dict(LogMelConfig, self.logmel, "corpus config", prefix="logmel.")


def build(cfg: FashionSpokenConfig, cache: Path) -> Prepared:
    images = {s: idx_side(cfg.fashion_dir, s, n) for s, n in (("train", cfg.train_per_class),
                                                               ("test", cfg.test_per_class))}
    paths, synth_src, espeak = espeak_clips(cfg, cache)
    p = Prepared(images=images, units={}, classes={"image": list(FashionSpokenConfig.image_classes),
                                                    "audio": list(WORDS)}, audio=log_mel_meta(cfg.logmel))
    spoken_units([parse_clip(x) for x in paths], cfg, p)
    p.sources = {**idx_sources(cfg.fashion_dir), **synth_src}
    p.versions = {"espeak-ng": espeak}
    p.image = {"ids": "row of the Fashion-MNIST IDX split"}
    return p

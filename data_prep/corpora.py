"""Corpus registry and configs: one dataclass schema per corpus, defaults in code, unknown keys rejected."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from data_prep.features import LogMelConfig
from data_prep.sources.espeak import WORDS
from data_prep.sources.idx import FASHION_MNIST_DIR

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DEFAULT_VOICES = ["en", "en+m3", "en+f2", "en-us", "en-us+f3", "en+m7", "en+f4", "en-gb-x-rp"]


def _int_list(name: str, v: Any) -> list[int]:
    v = v if isinstance(v, (list, tuple)) else [v]
    if not v or any(isinstance(x, bool) or not isinstance(x, int) for x in v):
        raise ValueError(f"{name} must be a non-empty list of integers, got {v!r}")
    return [int(x) for x in v]


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
        self.speeds, self.pitches = _int_list("speeds", self.speeds), _int_list("pitches", self.pitches)
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
            self.logmel = _from_dict(LogMelConfig, self.logmel, "logmel.")


CORPORA: dict[str, type] = {"fashion_spoken": FashionSpokenConfig}


def _from_dict(cls: type, values: dict, prefix: str = "") -> Any:
    valid = [f.name for f in dataclasses.fields(cls)]
    for k in values:
        if k not in valid:
            raise ValueError(f"unknown config key {prefix + k!r} for {cls.__name__}; valid keys: {', '.join(prefix + v for v in valid)}")
    return cls(**values)


def _nest(overrides: dict) -> dict:
    """``{"logmel.hop_length": 100}`` -> ``{"logmel": {"hop_length": 100}}`` (merged with nested dicts)."""
    out: dict = {}
    for key, value in overrides.items():
        node, parts = out, str(key).split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"config key {key!r} conflicts with a scalar value of {p!r}")
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            node[parts[-1]].update(value)
        else:
            node[parts[-1]] = copy.deepcopy(value)
    return out


def config_from_dict(name: str, overrides: dict | None = None) -> Any:
    """The config of corpus ``name`` with ``overrides`` applied (dotted or nested keys)."""
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {', '.join(sorted(CORPORA))}")
    return _from_dict(CORPORA[name], _nest(overrides or {}))


def config_to_dict(cfg: Any) -> dict:
    """Resolved config as plain JSON-able data (all defaults included)."""
    return asdict(cfg)


def config_hash(cfg: Any) -> str:
    """First 12 hex chars of the sha256 of the config's canonical JSON."""
    canon = json.dumps(config_to_dict(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:12]

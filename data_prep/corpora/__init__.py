"""The corpus registry: one module per corpus (its config schema and its builder), one line each here.

A builder turns its config into ``common.Prepared`` (both sides of both splits); ``data_prep.pipeline``
stages, writes (``data_prep.corpus_writer``) and swaps the corpus in. Configs are dataclasses with every
default, built by the shared ``data_prep.schema.from_dict`` (unknown keys rejected).
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from data_prep.corpora import class_folder, class_folder_offline, fashion_spoken, mnist_fashion, mnist_fsdd, mnist_rotated, mnist_spoken
from data_prep.corpora.class_folder import InstrumentsConfig, ShoesConfig
from data_prep.corpora.class_folder_offline import InstrumentsOfflineConfig, SoundsOfflineConfig
from data_prep.corpora.common import (AUDIO_REPRESENTATIONS, DEFAULT_VOICES, DIGIT_CLASSES, FASHION_CLASSES, FSDD_DIR,
                                      MNIST_DIR, Prepared)
from data_prep.corpora.fashion_spoken import FashionSpokenConfig
from data_prep.corpora.mnist_fashion import MnistFashionConfig, MnistFashionOfflineConfig
from data_prep.corpora.mnist_fsdd import MnistFsddConfig, MnistFsddOfflineConfig
from data_prep.corpora.mnist_rotated import MnistRotatedConfig
from data_prep.corpora.mnist_spoken import MnistSpokenConfig
from data_prep.schema import from_dict

__all__ = ["AUDIO_REPRESENTATIONS", "CORPORA", "REGISTRY", "DEFAULT_VOICES", "DIGIT_CLASSES", "FASHION_CLASSES",
           "FSDD_DIR", "MNIST_DIR", "Corpus", "config_from_dict", "config_hash", "config_to_dict"]


@dataclass(frozen=True)
class Corpus:
    config_cls: type
    build: Callable[[Any, Path], Prepared]
    """``build(config, cache_dir)``: both sides of both splits, files featurized, bad ones quarantined."""
    source_files: Callable[[Any], tuple[list[Path], Path] | None] | None = None
    """For a corpus built from a user's folder: the files a build reads and the folder their names are
    relative to (None when the folder is gone); a later build rebuilds when they change (``data_prep.staleness``)."""
    source_digest: Callable[[Any], dict] | None = None
    """The content digests a build records as ``manifest["sources"]`` (every byte read: ``--verify``)."""


_CLASS_FOLDER = {"source_files": class_folder.source_files, "source_digest": class_folder.source_digest}
REGISTRY: dict[str, Corpus] = {
    "fashion_spoken": Corpus(FashionSpokenConfig, fashion_spoken.build),
    "mnist_fsdd": Corpus(MnistFsddConfig, mnist_fsdd.build),
    "mnist_fsdd_offline": Corpus(MnistFsddOfflineConfig, mnist_fsdd.build),
    "mnist_fashion": Corpus(MnistFashionConfig, mnist_fashion.build),
    "mnist_fashion_offline": Corpus(MnistFashionOfflineConfig, mnist_fashion.build),
    "mnist_spoken": Corpus(MnistSpokenConfig, mnist_spoken.build),
    "mnist_rotated": Corpus(MnistRotatedConfig, mnist_rotated.build),
    "instruments": Corpus(InstrumentsConfig, class_folder.build, **_CLASS_FOLDER),
    "shoes": Corpus(ShoesConfig, class_folder.build, **_CLASS_FOLDER),
    # synthesized from their config (no user folder to watch)
    "instruments_offline": Corpus(InstrumentsOfflineConfig, class_folder_offline.build),
    "sounds_offline": Corpus(SoundsOfflineConfig, class_folder_offline.build),
}
CORPORA: dict[str, type] = {name: c.config_cls for name, c in REGISTRY.items()}
"""Corpus name -> its config class."""


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
    return from_dict(CORPORA[name], _nest(overrides or {}), where=f"corpus {name}")


def config_to_dict(cfg: Any) -> dict:
    """Resolved config as plain JSON-able data (all defaults included)."""
    return asdict(cfg)


def config_hash(cfg: Any) -> str:
    """First 12 hex chars of the sha256 of the config's canonical JSON."""
    canon = json.dumps(config_to_dict(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:12]

"""Class-folder corpora (instruments: images <-> sounds; shoes: sketches <-> photos), one folder per class and modality."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data_prep.corpora.common import (AUDIO_REPRESENTATIONS, FOLDED_NORMALIZATION, SPLITS, Prepared, Side, check_classes,
                                      check_common, folder_digest, fraction, log_mel_meta, pos_int)
from data_prep.features import IMAGE_SCALE, FoldedWaveConfig, LogMelConfig, image_to_unit
from data_prep.pairs import select_per_class, split_by_class
from data_prep.ray_featurize import featurize_files
from data_prep.schema import from_dict
from data_prep.staleness import listing


@dataclass
class InstrumentsConfig:
    """Class-folder corpus (the paper's instruments): 64x64 images, audio as folded 64x128 waveform or log-mel."""

    root: str = "data/raw/instruments"  # <root>/<modality>/<class>/*, <root>/<class>/*, or a CSV/Parquet list
    modalities: list[str] = field(default_factory=lambda: ["image", "audio"])  # folder names / CSV values
    audio: str = "folded_waveform"  # folded_waveform | log_mel | image (second image domain, e.g. shoes)
    image_size: int = 64
    test_fraction: float = 0.1  # per class and modality, by file
    train_per_class: int | None = None  # images per class and split
    test_per_class: int | None = None
    seed: int = 0
    num_shards: int = 4
    folded: FoldedWaveConfig = field(default_factory=FoldedWaveConfig)
    logmel: LogMelConfig = field(default_factory=LogMelConfig)

    def __post_init__(self) -> None:
        self.root = str(self.root)
        mods = self.modalities
        if not isinstance(mods, (list, tuple)) or len(mods) != 2 or len(set(mods)) != 2 \
                or not all(isinstance(m, str) and m for m in mods):
            raise ValueError(f"modalities must be two distinct names, got {mods!r}")
        self.modalities = list(mods)
        if self.audio not in AUDIO_REPRESENTATIONS:
            raise ValueError(f"audio must be one of {list(AUDIO_REPRESENTATIONS)}, got {self.audio!r}")
        pos_int("image_size", self.image_size)
        self.test_fraction = fraction("test_fraction", self.test_fraction)
        if isinstance(self.folded, dict):
            self.folded = from_dict(FoldedWaveConfig, self.folded, "corpus config", prefix="folded.")
        check_common(self)


@dataclass
class ShoesConfig(InstrumentsConfig):
    """Class-folder corpus of two image domains (the paper's UT Zappos50K sketches <-> photos), 64x64 each."""

    root: str = "data/raw/shoes"
    modalities: list[str] = field(default_factory=lambda: ["sketch", "photo"])
    audio: str = "image"


def build(cfg: InstrumentsConfig, cache: Path) -> Prepared:
    from data_prep.sources.class_folder import how_to, printable, scan_class_folder

    mods = tuple(cfg.modalities)
    kinds = ("image", "image" if cfg.audio == "image" else "audio")
    found = source_files(cfg)
    files_before = listing(*found) if found else None  # before any is read: an edit during the build shows next time
    items, bad, classes = scan_class_folder(cfg.root, mods, kinds)
    if not classes:
        raise ValueError(f"{cfg.root}: no class found. {how_to(cfg.root, mods)}")
    empty = {m: [c for c in classes if c not in {it.label for it in items if it.modality == m}] for m in mods}
    if any(empty.values()):
        raise ValueError(f"{cfg.root}: empty class(es): " + "; ".join(
            f"{e} have no {m} files" for m, e in empty.items() if e) + f" (classes: {classes}). {how_to(cfg.root, mods)}")
    label_of = {c: i for i, c in enumerate(classes)}
    root = Path(cfg.root) if Path(cfg.root).is_dir() else Path(cfg.root).parent
    rel = lambda q: printable(q.relative_to(root) if q.is_relative_to(root) else q)  # noqa: E731  (ids, manifest)
    p = Prepared(images={}, units={}, classes={"image": classes, "audio": classes}, audio={})
    p.quarantine += bad
    image_items = [it for it in items if it.modality == mods[0]]
    image_files = [rel(it.path) for it in image_items]
    feats, _ = featurize_files([(str(it.path), str(i), label_of[it.label]) for i, it in enumerate(image_items)],
                          cfg.image_size, cfg.seed, p)
    good = [i for i in range(len(image_items)) if str(i) in feats]
    check_classes(classes, [image_items[i].label for i in good], mods[0], cfg.root)
    split = split_by_class([image_files[i] for i in good], [label_of[image_items[i].label] for i in good],
                           cfg.test_fraction, cfg.seed, what=f"{mods[0]} file")
    for s, n in (("train", cfg.train_per_class), ("test", cfg.test_per_class)):
        pos = [good[i] for i in split[s]]
        labels = np.array([label_of[image_items[i].label] for i in pos], np.int64)
        pos = [pos[i] for i in select_per_class(labels, n)]
        p.images[s] = Side(np.stack([feats[str(i)] for i in pos]).reshape(len(pos), cfg.image_size, cfg.image_size),
                           np.array([label_of[image_items[i].label] for i in pos], np.int64), pos)
    # the second modality: units from files (a folded waveform file gives windows_per_clip units)
    unit_items = [it for it in items if it.modality == mods[1]]
    spec: Any = {"image": cfg.image_size, "log_mel": cfg.logmel, "folded_waveform": cfg.folded}[cfg.audio]
    feats, src = featurize_files([(str(it.path), rel(it.path), label_of[it.label]) for it in unit_items], spec, cfg.seed, p)
    by_label = {rel(it.path): label_of[it.label] for it in unit_items}
    files = sorted({src[u] for u in feats})
    check_classes(classes, [classes[by_label[f]] for f in files], mods[1], cfg.root)
    fsplit = split_by_class(files, [by_label[f] for f in files], cfg.test_fraction, cfg.seed, what=f"{mods[1]} file")
    for s in SPLITS:
        in_split = {files[i] for i in fsplit[s]}
        ids = sorted(u for u in feats if src[u] in in_split)
        data = np.stack([feats[u] for u in ids])
        if cfg.audio == "image":
            data = image_to_unit(data).astype(np.float16)
        shape = {"image": (cfg.image_size, cfg.image_size), "log_mel": cfg.logmel.shape, "folded_waveform": cfg.folded.shape}[cfg.audio]
        p.units[s] = Side(data.reshape(len(ids), *shape), np.array([by_label[src[u]] for u in ids], np.int64), ids)
        p.units_per_source[s] = len(in_split)
    if cfg.audio == "log_mel":
        p.audio = log_mel_meta(cfg.logmel)
    elif cfg.audio == "folded_waveform":
        p.audio = {"representation": "folded_waveform", "features": cfg.folded.to_dict(),
                   "normalization": FOLDED_NORMALIZATION}
    else:
        p.audio = {"representation": "image", "features": {"scale": IMAGE_SCALE, "domain": mods[1]}}
    p.audio["modality"] = mods[1]
    p.image = {"ids": "index into manifest['image']['files']", "files": image_files, "modality": mods[0]}
    p.sources = _digests(cfg, items)
    p.source_listing = files_before
    p.versions = {"pillow": __import__("PIL").__version__}
    return p


def _digests(cfg: InstrumentsConfig, items: list) -> dict:
    mods = tuple(cfg.modalities)
    return {m: folder_digest([it.path for it in items if it.modality == m], cfg.root) for m in mods}


def source_digest(cfg: InstrumentsConfig) -> dict:
    """``manifest["sources"]`` as a build now would record it (reads every byte of the folder)."""
    from data_prep.sources.class_folder import scan_class_folder

    kinds = ("image", "image" if cfg.audio == "image" else "audio")
    items, _, _ = scan_class_folder(cfg.root, tuple(cfg.modalities), kinds)
    return _digests(cfg, items)


def source_files(cfg: InstrumentsConfig) -> tuple[list[Path] | None, Path] | None:
    """Every file a build reads or quarantines and the folder their names are relative to: (None, root)
    for all files under the folder ``root`` (hidden ones aside), or a CSV/Parquet list and the files it
    lists. None: root is gone."""
    from data_prep.sources.class_folder import scan_class_folder

    root = Path(cfg.root)
    if root.is_dir():
        return None, root
    if not root.is_file():
        return None
    kinds = ("image", "image" if cfg.audio == "image" else "audio")
    try:
        items, bad, _ = scan_class_folder(root, tuple(cfg.modalities), kinds)
    except ValueError:  # an unreadable list: its own size and time tell that it changed
        items, bad = [], []
    listed = [it.path for it in items] + [Path(q["path"]) for q in bad if q.get("path") not in (None, "None")]
    return [root, *listed], root.parent

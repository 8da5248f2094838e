"""Class-folder corpora synthesized offline (not spoken digits): drawn shapes <-> instrument notes or sound families.

The class folders are written first, under the data cache (``<cache>/class_folders/<key>/image|audio/<class>/``),
then built exactly as a user's own class-folder corpus (``class_folder.build``), so these corpora test the
path a user's data takes. ``instruments_offline``: real sampled notes of General MIDI instruments
(FluidSynth + FluidR3_GM, Debian), by default the paper's five (violin, trumpet, tuba, clarinet, sax);
``sounds_offline``: NumPy sound families (tones, chords, noise, clicks, sweeps...). Images: one shape
kind per class (``data_prep.sources.shape_images``). ``per_class`` may differ per class.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.corpora import class_folder
from data_prep.corpora.class_folder import InstrumentsConfig
from data_prep.corpora.common import Prepared, int_list, log
from data_prep.sources.shape_images import SHAPES, write_shapes

PAPER_INSTRUMENTS = ["violin", "trumpet", "tuba", "clarinet", "alto_sax"]
SOUND_KINDS = ("instruments", "synth")


@dataclass
class InstrumentsOfflineConfig(InstrumentsConfig):
    """Drawn shapes (one kind per class) <-> real sampled instrument notes (FluidSynth), as a class-folder corpus."""

    root: str = ""  # written under the data cache; must stay empty
    sounds: str = "instruments"  # instruments (General MIDI via FluidSynth) | synth (NumPy sound families)
    classes: list[str] = field(default_factory=lambda: list(PAPER_INSTRUMENTS))
    shapes: list[str] = field(default_factory=list)  # image shape per class; empty: SHAPES in order
    per_class: list[int] = field(default_factory=lambda: [250])  # images and clips per class: one value or one per class
    clip_sample_rate: int = 22050  # of the written files (featurization resamples to its own rate)
    clip_seconds: float = 2.75
    drawn_size: int = 96  # shapes are drawn at this size, then resized to image_size by the builder

    def __post_init__(self) -> None:
        if self.root:
            raise ValueError(f"root must stay empty for a synthesized corpus (got {self.root!r}); "
                             "use the `instruments` corpus for a folder of your own")
        if self.sounds not in SOUND_KINDS:
            raise ValueError(f"sounds must be one of {list(SOUND_KINDS)}, got {self.sounds!r}")
        if not isinstance(self.classes, (list, tuple)) or len(set(self.classes)) < 2:
            raise ValueError(f"classes must list at least two distinct names, got {self.classes!r}")
        self.classes = [str(c) for c in self.classes]
        known = _known_sounds(self.sounds)
        unknown = [c for c in self.classes if c not in known]
        if unknown:
            raise ValueError(f"classes {unknown} are not {self.sounds} sounds; known: {', '.join(known)}")
        self.shapes = list(self.shapes) or list(SHAPES[:len(self.classes)])
        if len(self.shapes) != len(self.classes) or len(set(self.shapes)) != len(self.shapes) \
                or any(s not in SHAPES for s in self.shapes):
            raise ValueError(f"shapes must name one distinct shape per class ({len(self.classes)}) among "
                             f"{', '.join(SHAPES)}; got {self.shapes!r}")
        self.per_class = int_list("per_class", self.per_class)
        if len(self.per_class) not in (1, len(self.classes)) or min(self.per_class) < 10:
            raise ValueError(f"per_class must be one count (>= 10) or one per class ({len(self.classes)}), "
                             f"got {self.per_class!r}")
        if not 0.1 <= float(self.clip_seconds) <= 30:
            raise ValueError(f"clip_seconds must lie in [0.1, 30], got {self.clip_seconds!r}")
        super().__post_init__()

    def counts(self) -> list[int]:
        return self.per_class * len(self.classes) if len(self.per_class) == 1 else list(self.per_class)


@dataclass
class SoundsOfflineConfig(InstrumentsOfflineConfig):
    """Drawn shapes <-> synthesized non-speech sound families (7 classes of unequal sizes by default)."""

    sounds: str = "synth"
    classes: list[str] = field(default_factory=lambda: ["sine", "chord", "noise", "clicks", "sweep", "pluck", "tremolo"])
    per_class: list[int] = field(default_factory=lambda: [300, 260, 220, 180, 150, 120, 100])
    clip_sample_rate: int = 16000
    clip_seconds: float = 1.5


def _known_sounds(kind: str) -> list[str]:
    if kind == "instruments":
        from data_prep.sources.gm_instruments import INSTRUMENTS

        return sorted(INSTRUMENTS)
    from data_prep.sources.synth_sounds import FAMILIES

    return list(FAMILIES)


def write_class_folders(cfg: InstrumentsOfflineConfig, cache: Path) -> Path:
    """The synthesized ``image/<class>/`` and ``audio/<class>/`` folders (cached by what defines them)."""
    from data_prep.atomic import swap_directory

    recipe = {k: getattr(cfg, k) for k in ("sounds", "classes", "shapes", "clip_sample_rate", "clip_seconds",
                                           "drawn_size", "seed")}
    recipe["per_class"] = cfg.counts()
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    root = cache / "class_folders" / key
    if (root / "recipe.json").is_file():
        return root
    log.info("synthesizing the class folders (%s, %d classes) into %s", cfg.sounds, len(cfg.classes), root)
    tmp = root.with_name(root.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    for k, (name, shape, n) in enumerate(zip(cfg.classes, cfg.shapes, cfg.counts())):
        write_shapes(tmp / "image", shape, n, cfg.seed, cfg.drawn_size, name=name)
        if cfg.sounds == "instruments":
            from data_prep.sources.gm_instruments import render_instrument

            render_instrument(tmp / "audio", name, n, cfg.seed, cfg.clip_sample_rate, clip_seconds=cfg.clip_seconds)
        else:
            from data_prep.sources.synth_sounds import write_family

            write_family(tmp / "audio", name, n, cfg.seed, cfg.clip_sample_rate, cfg.clip_seconds)
    (tmp / "recipe.json").write_text(json.dumps(recipe, indent=1))
    swap_directory(tmp, root)
    return root


def build(cfg: InstrumentsOfflineConfig, cache: Path) -> Prepared:
    root = write_class_folders(cfg, cache)
    folder_cfg = InstrumentsConfig(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(InstrumentsConfig)
                                      if f.name != "root"}, root=str(root))
    prepared = class_folder.build(folder_cfg, cache)
    prepared.image["source"] = f"shapes drawn with PIL ({', '.join(f'{c}: {s}' for c, s in zip(cfg.classes, cfg.shapes))})"
    prepared.audio["source"] = ("real sampled General MIDI instrument notes rendered by FluidSynth (FluidR3_GM)"
                                if cfg.sounds == "instruments" else "NumPy-synthesized sound families")
    return prepared

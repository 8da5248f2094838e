"""Folders in the Free Spoken Digit Dataset layout: ``{digit}_{speaker}_{index}.wav`` (8 kHz mono).

FSDD itself: https://github.com/Jakobovski/free-spoken-digit-dataset (its ``recordings/`` folder).
Offline, ``data_prep.sources.espeak`` writes synthesized digits in the same layout.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^(\d)_([^_]+)_(\d+)\.wav$")
HOW_TO_GET = (
    "Put the Free Spoken Digit Dataset's recordings there (git clone "
    "https://github.com/Jakobovski/free-spoken-digit-dataset and point fsdd_dir at its recordings/ "
    "folder: files {digit}_{speaker}_{index}.wav, 8 kHz), or set fsdd_dir to null to synthesize the "
    "offline twin with espeak-ng."
)


@dataclass(frozen=True)
class Clip:
    path: Path
    label: int
    speaker: str
    index: int

    @property
    def stem(self) -> str:
        return self.path.stem


def parse_clip(path: str | Path) -> Clip:
    """Parse one FSDD file name; a name that does not fit raises ValueError naming the file."""
    path = Path(path)
    m = _NAME.match(path.name)
    if m is None:
        raise ValueError(f"{path}: not an FSDD clip name (expected {{digit}}_{{speaker}}_{{index}}.wav)")
    return Clip(path, int(m.group(1)), m.group(2), int(m.group(3)))


def _wavs(directory: str | Path) -> list[Path]:
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"FSDD directory {directory} does not exist. {HOW_TO_GET}")
    return [p for p in sorted(directory.glob("*.wav")) if not p.name.startswith(".")]


def list_fsdd(directory: str | Path) -> list[Clip]:
    """All ``*.wav`` clips of a folder (hidden temp files skipped), sorted by file name; strict."""
    return [parse_clip(p) for p in _wavs(directory)]


def scan_fsdd(directory: str | Path) -> tuple[list[Clip], list[dict]]:
    """Like ``list_fsdd`` but tolerant: files whose label does not parse are quarantined
    (``{"path", "reason"}``) and the rest returned. A folder without a single clip is an error."""
    clips, bad = [], []
    for p in _wavs(directory):
        try:
            clips.append(parse_clip(p))
        except ValueError as e:
            bad.append({"path": str(p), "reason": f"label does not parse: {e}"})
    if not clips:
        raise FileNotFoundError(f"FSDD directory {directory} holds no {{digit}}_{{speaker}}_{{index}}.wav clip. {HOW_TO_GET}")
    return clips, bad

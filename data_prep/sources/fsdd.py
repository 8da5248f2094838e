"""Folders in the Free Spoken Digit Dataset layout: ``{digit}_{speaker}_{index}.wav``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^(\d)_([^_]+)_(\d+)\.wav$")


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


def list_fsdd(directory: str | Path) -> list[Clip]:
    """All ``*.wav`` clips of a folder (hidden temp files skipped), sorted by file name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"FSDD directory {directory} does not exist")
    return [parse_clip(p) for p in sorted(directory.glob("*.wav")) if not p.name.startswith(".")]

"""Class-folder corpora: images and audio (or a second image domain) grouped by class.

Three accepted layouts (``root``):
  1. ``<root>/<modality>/<class>/<file>`` for each of the two modality names (default ``image`` and
     ``audio``; e.g. ``sketch`` and ``photo`` for shoes), any file names;
  2. ``<root>/<class>/<file>`` with images and audio side by side, told apart by extension
     (only when one modality is images and the other audio);
  3. a CSV or Parquet file with columns ``path, modality, label``; relative paths are relative to
     the file's folder.
Files with an unknown extension or modality are quarantined with the reason; hidden files skipped.
A file name that is not valid UTF-8 (``café.wav`` written in Latin-1) is read like any other; wherever
its name is written (ids, the manifest, quarantine reasons, log lines) it appears escaped
(``printable``: ``caf\\xe9.wav``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
AUDIO_EXT = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3"}


@dataclass(frozen=True)
class Item:
    path: Path
    modality: str
    label: str


def printable(text: object) -> str:
    """``text`` as valid UTF-8: bytes of a file name that are not UTF-8 (Python keeps them as lone
    surrogates) become ``\\xNN`` escapes, so the name can go into Parquet, JSON and the console."""
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def how_to(root: str | Path, modalities: tuple[str, str]) -> str:
    a, b = modalities
    return (f"Put one folder per modality and class there, e.g. {root}/{a}/<class>/*.png and "
            f"{root}/{b}/<class>/*.wav (the paper's instruments: 5 classes, 250 images and clips each), "
            f"or point root at a CSV/Parquet file with columns path,modality,label.")


def _kind(path: Path) -> str | None:
    ext = path.suffix.lower()
    return "image" if ext in IMAGE_EXT else "audio" if ext in AUDIO_EXT else None


def _files(d: Path) -> list[Path]:
    return [p for p in sorted(d.rglob("*")) if p.is_file() and not any(s.startswith(".") for s in p.relative_to(d).parts)]


def scan_class_folder(root: str | Path, modalities: tuple[str, str], kinds: tuple[str, str]
                      ) -> tuple[list[Item], list[dict], list[str]]:
    """Items of both modalities, the quarantined files (``{"path", "reason"}``) and the sorted class
    names (class folders count even when empty, so an empty class can be reported).

    ``kinds`` gives, per modality, the kind of file expected ("image" or "audio")."""
    root = Path(root)
    if root.is_file() and root.suffix.lower() in (".csv", ".parquet"):
        items, bad = _scan_table(root, modalities, kinds)
        return items, bad, sorted({it.label for it in items})
    if not root.is_dir():
        raise FileNotFoundError(f"class-folder corpus {root} does not exist. {how_to(root, modalities)}")
    items, bad, classes = [], [], set()
    if all((root / m).is_dir() for m in modalities):  # layout 1
        for m, kind in zip(modalities, kinds):
            for cls in sorted(p for p in (root / m).iterdir() if p.is_dir() and not p.name.startswith(".")):
                classes.add(cls.name)
                for f in _files(cls):
                    if _kind(f) != kind:
                        bad.append({"path": printable(f), "reason": f"not a supported {kind} file ({printable(f.suffix) or 'no extension'})"})
                    else:
                        items.append(Item(f, m, cls.name))
        return items, bad, sorted(classes)
    if len(set(kinds)) != 2:
        raise FileNotFoundError(f"{root}: expected folders {root}/{modalities[0]}/ and {root}/{modalities[1]}/. "
                                f"{how_to(root, modalities)}")
    by_kind = dict(zip(kinds, modalities))
    for cls in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):  # layout 2
        classes.add(cls.name)
        for f in _files(cls):
            kind = _kind(f)
            if kind is None:
                bad.append({"path": printable(f), "reason": f"unknown file type {printable(f.suffix) or '(no extension)'}"})
            else:
                items.append(Item(f, by_kind[kind], cls.name))
    return items, bad, sorted(classes)


def _scan_table(path: Path, modalities: tuple[str, str], kinds: tuple[str, str]) -> tuple[list[Item], list[dict]]:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path) if path.suffix.lower() == ".parquet" else pcsv.read_csv(path)
    except Exception as e:
        raise ValueError(f"{path}: unreadable file list ({type(e).__name__}: {e})") from e
    missing = [c for c in ("path", "modality", "label") if c not in table.column_names]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected path, modality, label "
                         f"(found {table.column_names})")
    items, bad = [], []
    kind_of = dict(zip(modalities, kinds))
    for row, (p, m, lab) in enumerate(zip(*(table.column(c).to_pylist() for c in ("path", "modality", "label")))):
        where = f"{path} row {row + 2 if path.suffix.lower() == '.csv' else row}"
        if p is None or lab is None or str(lab).strip() == "":
            bad.append({"path": str(p), "reason": f"{where}: empty path or label"})
            continue
        f = Path(str(p)) if Path(str(p)).is_absolute() else path.parent / str(p)
        if m not in kind_of:
            bad.append({"path": str(f), "reason": f"{where}: unknown modality {m!r} (expected one of {list(modalities)})"})
        elif _kind(f) != kind_of[m]:
            bad.append({"path": str(f), "reason": f"{where}: not a supported {kind_of[m]} file ({f.suffix or 'no extension'})"})
        else:
            items.append(Item(f, str(m), str(lab).strip()))
    return items, bad

"""Writes that never leave a half-written file or directory behind: everything is written under a
temporary name beside its target and renamed over it at the end (a rename within one filesystem is
atomic). Used by every writer of the project: manifests, checkpoints, judges, reports, JSON records."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _beside(path: Path, kind: str) -> Path:
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:6]}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file name beside ``path`` to write to; renamed to ``path`` when the block ends,
    removed if it raises (``path`` is then untouched)."""
    path = Path(path)
    tmp = _beside(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """``path.write_text(text)``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def swap_directory(new: str | Path, target: str | Path) -> None:
    """Put directory ``new`` in the place of ``target`` by renames only. An existing ``target`` is
    moved aside first and put back if the swap fails, then removed."""
    new, target = Path(new), Path(target)
    if not target.exists():
        os.replace(new, target)
        return
    old = _beside(target, "old")
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)

"""Writes that never leave a half-written file or directory behind: everything is written under a
temporary name beside its target and renamed over it at the end (a rename within one filesystem is
atomic). Used by every writer of the project: manifests, checkpoints, judges, reports, JSON records.
``file_lock``: one process at a time builds a corpus or trains its judges (two studies starting at once)."""
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


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a directory, or a file created if absent) while the block runs,
    waiting while another process holds it (``flock``: the kernel releases it when its holder dies, so a
    killed process leaves no stale lock). Where the file cannot be created (a read-only place, where
    nothing is written either), the block runs unlocked."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY) if Path(path).is_dir() else os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


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


@contextmanager
def staged_directory(target: str | Path) -> Iterator[Path]:
    """A new temporary directory beside ``target`` to fill; put in ``target``'s place when the block ends
    (``swap_directory``), removed if it raises (``target`` is then untouched)."""
    target = Path(target)
    tmp = _beside(target, "tmp")
    tmp.mkdir(parents=True)
    try:
        yield tmp
        swap_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

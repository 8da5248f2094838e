"""Is a built corpus still what its source files would give? For corpora built from a user's folder
(class folders: ``data_prep.corpora.class_folder``), whose config names the folder but not what is in it.

The build records every source file's size and modification time (``manifest["source_listing"]``);
each later ``build`` stats the files again (about a millisecond per thousand files) and rebuilds the
corpus when a file was added, removed or changed, saying which. ``verify=True`` (``--verify``) also
hashes every byte, as the manifest's ``sources`` digests do, which catches a file rewritten with the
same size and time, at the cost of reading the whole folder.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("data_prep")

LISTING = "source_listing"


def listing(files: list[Path] | None, base: Path) -> dict[str, list[int]]:
    """``{name relative to base (escaped if not UTF-8): [bytes, mtime_ns]}`` of the files that exist;
    ``files`` None: every file under the folder ``base``, hidden ones aside (one ``os.walk``)."""
    from data_prep.sources.class_folder import printable

    if files is None:
        return _walk(base, printable)
    out = {}
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            continue
        out[printable(f.relative_to(base) if f.is_relative_to(base) else f)] = [st.st_size, st.st_mtime_ns]
    return out


def _walk(base: Path, printable: Callable[[object], str]) -> dict[str, list[int]]:
    out = {}
    for folder, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, base)
        for name in names:
            if name.startswith("."):
                continue
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            out[printable(name if rel == "." else f"{rel}/{name}")] = [st.st_size, st.st_mtime_ns]
    return out


def describe(before: dict[str, list[int]], now: dict[str, list[int]]) -> str | None:
    """What changed between two listings, in one line (None: nothing)."""
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    changed = sorted(k for k in set(now) & set(before) if list(now[k]) != list(before[k]))
    parts = [f"{len(v)} {what} ({', '.join(v[:3])}{', ...' if len(v) > 3 else ''})"
             for what, v in (("added", added), ("removed", removed), ("changed", changed)) if v]
    return "; ".join(parts) if parts else None


def stale(manifest: dict, list_now: Callable[[], dict | None], digest_now: Callable[[], dict],
          verify: bool) -> tuple[str | None, dict | None]:
    """Why the corpus of ``manifest`` no longer matches its sources (None: it does), and the listing to
    record into a manifest that has none yet (else None).

    ``list_now()``: the sources' listing now, None when they are gone (the corpus is then used as it
    is, with a warning: there is nothing to rebuild from). ``digest_now()``: their content digests, as
    the build recorded them in ``manifest["sources"]``; computed with ``verify``, or once for a
    manifest written before listings were recorded."""
    now = list_now()
    if now is None:
        log.warning("%s: the corpus's source files are gone; using the corpus as built",
                    manifest.get("corpus", "corpus"))
        return None, None
    before = manifest.get(LISTING)
    if isinstance(before, dict) and isinstance(before.get("files"), dict):
        why = describe(before["files"], now)
        if why is not None:
            return f"source files changed since the build: {why}", None
        if not verify:
            return None, None
    if digest_now() != manifest.get("sources"):
        return "source files changed since the build: their content differs from the recorded sha256", None
    return None, (None if isinstance(before, dict) else now)


def record(manifest: dict, files: dict) -> dict:
    """``manifest`` with the sources' listing recorded."""
    return {**manifest, LISTING: {"files": files}}


def checker(corpus: Any, cfg: Any) -> tuple[Callable[[], dict | None], Callable[[], dict]] | None:
    """The corpus's ``(list_now, digest_now)``, or None for a corpus that tracks no source folder."""
    if corpus.source_files is None:
        return None

    def list_now() -> dict | None:
        found = corpus.source_files(cfg)
        return None if found is None else listing(*found)

    return list_now, lambda: corpus.source_digest(cfg)

"""``manifest.json``: the description of a built corpus that readers trust (schema, splits, files).

Each split lists its Parquet ``files`` and, since issue 20, their ``checksums`` (``{file: {bytes,
sha256}}``). ``verify_corpus`` checks them before a corpus is used: sizes always, sha256 where the
files are local (a few ms for the corpora here); a manifest written before checksums existed is
checked by each file's Parquet footer and the split's row count instead.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from data_prep.atomic import write_text_atomic

MANIFEST = "manifest.json"
REQUIRED = ("corpus", "config", "config_hash", "splits", "image", "audio")


class CorpusDamaged(ValueError):
    """A built corpus whose files do not match its manifest; the message names the file."""


def write_manifest(corpus_dir: str | Path, manifest: dict) -> Path:
    """Write atomically (``data_prep.atomic``): a failed write leaves the previous manifest, or none."""
    return write_text_atomic(Path(corpus_dir) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def load_manifest(corpus_dir: str | Path) -> dict:
    """The manifest of a built corpus; FileNotFoundError if absent, ValueError if unreadable."""
    path = Path(corpus_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest; build the corpus first (python -m data_prep build <corpus>)")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: corrupt manifest ({e}); rebuild with --force") from e
    missing = [k for k in REQUIRED if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        raise ValueError(f"{path}: manifest lacks {missing}; rebuild with --force")
    return manifest


def sha256_file(path: str | Path, fs: Any = None) -> str:
    """Hex sha256 of a file (local, or on a pyarrow filesystem ``fs``)."""
    h = hashlib.sha256()
    with (fs.open_input_stream(str(path)) if fs is not None else open(path, "rb")) as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_checksums(corpus_dir: str | Path, files: list[str]) -> dict[str, dict]:
    """``{file: {"bytes": size, "sha256": hex}}`` for files relative to ``corpus_dir`` (the manifest's record)."""
    root = Path(corpus_dir)
    return {f: {"bytes": (root / f).stat().st_size, "sha256": sha256_file(root / f)} for f in files}


def verify_corpus(corpus_dir: str | Path, manifest: dict | None = None, fs: Any = None, checksums: bool = True) -> None:
    """Check every split's files against the manifest; CorpusDamaged names the first that fails.

    ``fs``: a pyarrow filesystem holding ``corpus_dir`` (default: local). ``checksums=False`` checks sizes
    only (for remote corpora, whose bytes would have to be downloaded)."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    fs = fs or pafs.LocalFileSystem()
    root = str(corpus_dir).rstrip("/")
    manifest = manifest if manifest is not None else load_manifest(corpus_dir)
    if not isinstance(manifest.get("splits"), dict) or not manifest["splits"]:
        raise CorpusDamaged(f"{root}/{MANIFEST}: no splits; rebuild with --force")
    for split, info in manifest["splits"].items():
        if not isinstance(info, dict) or not isinstance(info.get("files"), list) or not info["files"]:
            raise CorpusDamaged(f"{root}/{MANIFEST}: splits.{split} lists no files; rebuild with --force")
        sums = info.get("checksums") or {}
        rows = 0
        for name in info["files"]:
            path = f"{root}/{name}"
            stat = fs.get_file_info(path)
            if stat.type != pafs.FileType.File:
                raise CorpusDamaged(f"{path}: missing (listed in {MANIFEST})")
            want = sums.get(name)
            if want is not None:
                if not isinstance(want, dict) or not {"bytes", "sha256"} <= set(want):
                    raise CorpusDamaged(f"{root}/{MANIFEST}: splits.{split}.checksums[{name!r}] is malformed; "
                                        "rebuild with --force")
                if stat.size != want["bytes"]:
                    raise CorpusDamaged(f"{path}: {stat.size} bytes, the manifest records {want['bytes']}")
                if checksums and sha256_file(path, fs) != want["sha256"]:
                    raise CorpusDamaged(f"{path}: sha256 differs from the manifest's")
                continue
            try:  # a manifest from before checksums: the Parquet footer must read
                rows += pq.read_metadata(path, filesystem=fs).num_rows
            except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
                raise CorpusDamaged(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
        if not sums and rows != info.get("rows", rows):
            raise CorpusDamaged(f"{root}/{split}: {rows} rows in its files, the manifest records {info['rows']}")

"""``manifest.json``: the description of a built corpus that readers trust (schema, splits, files)."""
from __future__ import annotations

import json
import os
from pathlib import Path

MANIFEST = "manifest.json"
REQUIRED = ("corpus", "config", "config_hash", "splits", "image", "audio")


def write_manifest(corpus_dir: str | Path, manifest: dict) -> Path:
    """Write atomically (temp file + os.replace)."""
    path = Path(corpus_dir) / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


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

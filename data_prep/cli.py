"""``python -m data_prep build <corpus> [--out DIR] [--set key=value ...] [--force]`` and ``list``."""
from __future__ import annotations

import argparse
import logging
import sys

import yaml

from data_prep.corpora import CORPORA


def parse_sets(items: list[str]) -> dict:
    """``["seed=3", "voices=[en, en-us]", "logmel.hop_length=100"]`` -> overrides (YAML values)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_prep", description="Build offline corpora (Parquet + manifest).")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a corpus (no-op when up to date)")
    b.add_argument("corpus", help=f"one of: {', '.join(sorted(CORPORA))}")
    b.add_argument("--out", default="data", help="output root (default: data)")
    b.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, value parsed as YAML (repeatable; nested keys with dots)")
    b.add_argument("--force", action="store_true", help="rebuild even if up to date")
    sub.add_parser("list", help="list registered corpora")
    args = parser.parse_args(argv)

    if args.command == "list":
        for name, cls in sorted(CORPORA.items()):
            print(f"{name}\t{(cls.__doc__ or '').strip().splitlines()[0]}")
        return 0

    if args.corpus not in CORPORA:
        parser.error(f"unknown corpus {args.corpus!r}; known corpora: {', '.join(sorted(CORPORA))}")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    log = logging.getLogger("data_prep")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    from data_prep.manifest import load_manifest
    from data_prep.pipeline import build

    try:
        overrides = parse_sets(args.sets)
        path = build(args.corpus, args.out, overrides, force=args.force)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    manifest = load_manifest(path)
    print(path)
    for split, info in manifest["splits"].items():
        print(f"  {split}: {info['rows']} rows, {info['clips']} clips, {len(info['files'])} files")
    return 0

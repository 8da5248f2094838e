"""``python -m data_prep build <corpus> [--out DIR|URI] [--limit N] [--set key=value ...] [--force] [--verify]``,
``list`` and ``inspect <dir>``."""
from __future__ import annotations

import argparse
import logging
import os
import sys

import yaml

from data_prep.corpora import CORPORA


def parse_set(item: str) -> tuple[str, object]:
    """``"logmel.hop_length=100"`` -> ("logmel.hop_length", 100): the key, and the value read as YAML
    (every ``--set`` of the project's command lines is read by this)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set expects key=value, got {item!r}")
    return key.strip(), yaml.safe_load(value) if value.strip() else None


def parse_sets(items: list[str]) -> dict:
    """``["seed=3", "voices=[en, en-us]", "logmel.hop_length=100"]`` -> overrides (YAML values)."""
    return dict(parse_set(item) for item in items)


def _list() -> None:
    width = max(map(len, CORPORA))
    for name, cls in CORPORA.items():
        print(f"{name:<{width}}  {(cls.__doc__ or '').strip().splitlines()[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_prep", description="Build offline corpora (Parquet + manifest).")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a corpus (no-op when up to date)")
    b.add_argument("corpus", help=f"one of: {', '.join(CORPORA)}")
    b.add_argument("--out", default="data", help="output root: a path or a pyarrow URI (file://, s3://, gs://); default data")
    b.add_argument("--limit", type=int, metavar="N",
                   help="at most N images per class and split (sets train_per_class and test_per_class)")
    b.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, value parsed as YAML (repeatable; nested keys with dots)")
    b.add_argument("--force", action="store_true", help="rebuild even if up to date")
    b.add_argument("--verify", action="store_true",
                   help="a corpus built from a folder (instruments, shoes): hash every source file, not only "
                        "compare sizes and times, to decide whether it is up to date")
    sub.add_parser("list", help="list registered corpora")
    i = sub.add_parser("inspect", help="print a corpus's counts; write a PNG grid of pairs and a few wavs")
    i.add_argument("corpus_dir", help="a built corpus directory (or URI)")
    i.add_argument("--out", help="where to write the PNG and wavs (default <corpus_dir>/inspect)")
    i.add_argument("--split", default="test")
    i.add_argument("-n", type=int, default=8, help="pairs in the grid (default 8)")
    args = parser.parse_args(argv)

    if args.command == "list":
        _list()
        return 0
    if args.command == "inspect":
        from data_prep.inspection import inspect

        try:
            res = inspect(args.corpus_dir, args.out, n=args.n, split=args.split)
        except (ValueError, FileNotFoundError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(res["summary"])
        print(f"pairs: {res['png']} ({', '.join(res['labels'])})")
        for w in res["wavs"]:
            print(f"wav: {w}")
        return 0

    if args.corpus not in CORPORA:
        parser.error(f"unknown corpus {args.corpus!r}; known corpora: {', '.join(sorted(CORPORA))}")
    os.environ.setdefault("DATA_PREP_PROGRESS", "1")  # Ray Data progress bars on stderr
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s data_prep: %(message)s", "%H:%M:%S"))
    log = logging.getLogger("data_prep")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        return _build(args)
    finally:  # main() may run many times in one process (tests, notebooks): no handler left behind
        log.removeHandler(handler)


def _build(args) -> int:
    from data_prep.inspection import read_manifest_any
    from data_prep.pipeline import build

    try:
        overrides = parse_sets(args.sets)
        if args.limit is not None:
            if args.limit < 1:
                raise ValueError(f"--limit must be a positive integer, got {args.limit}")
            overrides.update(train_per_class=args.limit, test_per_class=args.limit)
        path = build(args.corpus, args.out, overrides, force=args.force, verify=args.verify)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a read-only or full output: nothing half-written is left (build's temporary directory)
        from data_prep.storage import os_error_line

        print(f"error: cannot write the corpus under {args.out}: {os_error_line(e, args.out)}", file=sys.stderr)
        return 2
    manifest = read_manifest_any(path)
    print(path)
    for split, info in manifest["splits"].items():
        print(f"  {split}: {info['rows']} rows, {info['clips']} clips, {len(info['files'])} files")
    if manifest.get("quarantine"):
        print(f"  quarantined: {len(manifest['quarantine'])} files (see manifest.json 'quarantine')")
    return 0

"""Pack a built corpus and its judges into the directory that travels to a lent GPU machine (``.gpu_data/``).

The machine gets a copy of the working tree limited to 64 MiB in all, the wheels of
``../shared/gpu/make-wheels.sh`` (``.whl/``, ~53 MB) included, and it has no librosa or soundfile: the
corpus travels as it was built (its Parquet shards and manifest: ``mnist_spoken`` is ~6.5 MB, each clip's
log-mel float16, images uint8) with one judge file, and is only read there. Prints what travels and
fails if the tracked files, ``.whl/`` and this directory together exceed ``--budget-mib``.

    .venv/bin/python benchmarks/gpu_pack.py                          # mnist_spoken (built if missing), judges 40/15
    .venv/bin/python benchmarks/gpu_pack.py --corpus-dir DIR --judge-epochs 1 1 --out /tmp/packed

Then a device run carries ``[".whl", ".gpu_data"]`` and calls ``bash benchmarks/gpu_check.sh``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INFO = "gpu_data.json"
"""In the packed directory: the corpus directory's name, the judge file and its epochs."""


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def tracked_bytes() -> int:
    """The working tree's files that travel besides the carried paths: tracked, or untracked and not ignored."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.split(b"\0")
    return sum((ROOT / n.decode()).stat().st_size for n in names if n and (ROOT / n.decode()).is_file())


def pack(corpus_dir: Path, clf: Path, out: Path) -> Path:
    """Copy the manifest, the shards it lists and the judge file (state + json) to ``out/<corpus name>/``."""
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    dest = out / corpus_dir.name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copy2(corpus_dir / "manifest.json", dest / "manifest.json")
    for split in manifest["splits"].values():
        for f in split["files"]:
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(corpus_dir / f, dest / f)
    for f in (clf, clf.with_suffix(".json")):
        shutil.copy2(f, dest / f.name)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="mnist_spoken")
    ap.add_argument("--corpus-dir", type=Path, help="a built corpus directory (default: build --corpus under --data)")
    ap.add_argument("--data", default=str(ROOT / "data"))
    ap.add_argument("--judge-epochs", nargs=2, type=int, default=[40, 15], metavar=("IMAGE", "AUDIO"),
                    help="the judges' epochs (time_to_quality.py's defaults); trained here if missing")
    ap.add_argument("--out", type=Path, default=ROOT / ".gpu_data")
    ap.add_argument("--budget-mib", type=float, default=64.0)
    args = ap.parse_args()

    from trainables.classifiers import ensure_classifiers

    if args.corpus_dir:
        corpus_dir = args.corpus_dir.resolve()
    else:
        import xmodal_cli

        xmodal_cli.load_platform_package()
        import data_prep

        corpus_dir = Path(data_prep.build(args.corpus, args.data))
    clf = ensure_classifiers(corpus_dir, epochs_image=args.judge_epochs[0], epochs_audio=args.judge_epochs[1])
    shutil.rmtree(args.out, ignore_errors=True)
    dest = pack(corpus_dir, clf, args.out)
    (args.out / INFO).write_text(json.dumps({"corpus_dir": dest.name, "classifier": clf.name,
                                             "judge_epochs": args.judge_epochs}, indent=2))
    mib = 2 ** 20
    data, wheels, tree = size(args.out), size(ROOT / ".whl"), tracked_bytes()
    total = data + wheels + tree
    print(f"packed {corpus_dir.name} + {clf.name} -> {args.out}: {data / mib:.1f} MiB; .whl/ {wheels / mib:.1f} MiB"
          f"{'' if wheels else ' (not built: bash ../shared/gpu/make-wheels.sh pytest pluggy iniconfig pygments packaging)'}; "
          f"working tree {tree / mib:.1f} MiB; total {total / mib:.1f} MiB of {args.budget_mib:.0f}")
    if total > args.budget_mib * mib:
        print(f"gpu_pack: {total / mib:.1f} MiB exceeds the {args.budget_mib:.0f} MiB that travels", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Two image judges on the same generated images: LeNet-5 against ``ImageCNN`` (the judge over 32 px).

A judge that reads real test images better need not read generated ones better: generated images have soft
edges, speckle and gray backgrounds that no real image had, and the CNN's BatchNorm was fitted to real ones.
This trains SyncGAN (the defaults) for ``--steps`` on a 64x64 corpus per seed, draws ``--samples`` pairs of
its weight-averaged generators, and has both image judges read the images: the sync rate with each (agreement
with the audio judge on the paired sound, the benchmark's measure), how often the two image judges agree,
and a grid of pairs captioned with both image readings and the audio judge's (``--grid``: C, L, A; green
frame where the image judges agree) to look at. LeNet-5 is trained as the judges
are (``--epochs``, seed 0); the CNN is the corpus's cached judge.

    .venv/bin/python benchmarks/judges_on_generated.py data/instruments_offline-d51c3e7f --seeds 0 1 2

Last line: ``cnn_minus_lenet_sync=<median over seeds of (sync rate with the CNN - sync rate with LeNet-5)>``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402

from generalization import DEFAULT_JUDGE_EPOCHS  # noqa: E402

if TYPE_CHECKING:
    from trainables.syncgan.config import SyncGANConfig


def train(corpus_dir: Path, classifier_path: Path, seed: int, steps: int, keep: Path) -> SyncGANConfig:
    """SyncGAN's defaults for ``steps`` (rate 1.0, one evaluation at the end); its last checkpoint in ``keep``."""
    import shutil

    from trainables.config import from_dict
    from trainables.loop import fit
    from trainables.syncgan.config import SyncGANConfig

    cfg = from_dict(SyncGANConfig, {"semi_rate": 1.0, "seed": seed, "epochs": 1, "steps_per_epoch": steps,
                                    "transfer_samples": 0, "corpus_dir": str(corpus_dir),
                                    "classifier_path": str(classifier_path)})

    def report(metrics: dict, checkpoint) -> None:
        if checkpoint:
            shutil.copytree(checkpoint, keep, dirs_exist_ok=True)

    fit("syncgan", cfg, report, device="cpu", hparams=False)
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="a built 64x64 corpus directory")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=1500, help="SyncGAN training steps per seed")
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=DEFAULT_JUDGE_EPOCHS[0], help="LeNet-5's epochs (the judges' in the benchmarks)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--grid", type=Path, default=None, help="PNG of the first seed's images with both readings")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from trainables.checkpoint import load_checkpoint
    from trainables.classifiers import ImageCNN, LeNet5, _fit, accuracy, ensure_classifiers, load_classifiers, predict
    from trainables.data import load_split, read_manifest
    from trainables.metrics import sync_rate
    from trainables.registry import build_model, get_trainable

    manifest = read_manifest(args.corpus)
    clf_path = ensure_classifiers(args.corpus, epochs_image=DEFAULT_JUDGE_EPOCHS[0], epochs_audio=DEFAULT_JUDGE_EPOCHS[1])
    cnn, audio_judge, acc = load_classifiers(clf_path)
    if not isinstance(cnn, ImageCNN):
        raise SystemExit(f"judges_on_generated: {args.corpus} is judged by {type(cnn).__name__}, not ImageCNN "
                         "(images of at most 32 px keep LeNet-5)")
    train_split, test = load_split(args.corpus, "train"), load_split(args.corpus, "test")
    n_classes = len(manifest["classes"]["image"])
    torch.manual_seed(0)
    lenet = LeNet5(n_classes)
    _fit(lenet, train_split.images(), train_split.label, args.epochs, 0)
    lenet_acc = accuracy(lenet, test.images(), test.label)
    print(f"judges on real test images: CNN {acc['image']:.3f}, LeNet-5 {lenet_acc:.3f}, audio {acc['audio']:.3f}",
          flush=True)

    diffs, rows = [], []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as keep:
            cfg = train(args.corpus, clf_path, seed, args.steps, Path(keep))
            model = build_model(get_trainable("syncgan"), cfg, manifest)
            load_checkpoint(model, keep)
        g = torch.Generator().manual_seed(1000 + seed)
        z = model.sample_z(args.samples, "cpu", generator=g)
        images, sounds = model.generate(z)
        read_cnn, read_lenet, read_audio = predict(cnn, images), predict(lenet, images), predict(audio_judge, sounds)
        row = {"seed": seed, "steps": args.steps, "sync_cnn": sync_rate(read_cnn, read_audio),
               "sync_lenet": sync_rate(read_lenet, read_audio), "judges_agree": sync_rate(read_cnn, read_lenet),
               "classes_cnn": torch.bincount(read_cnn, minlength=n_classes).tolist(),
               "classes_lenet": torch.bincount(read_lenet, minlength=n_classes).tolist(),
               "classes_audio": torch.bincount(read_audio, minlength=n_classes).tolist()}
        rows.append(row)
        diffs.append(row["sync_cnn"] - row["sync_lenet"])
        print(json.dumps(row), flush=True)
        if args.grid is not None and seed == args.seeds[0]:
            from trainables.sample_files import write_grid

            names = manifest["classes"]["image"]
            k = min(40, args.samples)
            cells = [[images[i, 0], sounds[i, 0]] for i in range(k)]
            captions = [f"C {names[int(read_cnn[i])]} L {names[int(read_lenet[i])]} A {names[int(read_audio[i])]}"
                        for i in range(k)]
            spectrogram = [False, manifest["audio"].get("representation", "log_mel") == "log_mel"]
            write_grid(args.grid, cells, spectrogram, captions, [bool(read_cnn[i] == read_lenet[i]) for i in range(k)])
            print(f"grid: {args.grid}", flush=True)
    for key in ("sync_cnn", "sync_lenet", "judges_agree"):
        values = [r[key] for r in rows]
        print(f"{key}: median {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})")
    print(f"cnn_minus_lenet_sync={statistics.median(diffs):.3f}")


if __name__ == "__main__":
    main()

"""Image judges side by side on a corpus's images: LeNet-5 against the 3-block CNN (``ImageCNN``) at two widths.

The judges set every ceiling (``sync_rate_real``) and read every generated sample, so a judge that misreads
real images lowers what "0.9 x ceiling" means. LeNet-5's two 5x5 layers see ~14 px: enough at 28x28, little
of a 64x64 shape (``image_judge_for`` gives images over 32 px the CNN at width 16). Each contender is trained as ``trainables.classifiers.train_classifiers`` trains the image
judge of a corpus without ``judge_data`` or an image ``judge_recipe`` (Adam 1e-3, batch 128, ``--epochs``, the
train split; a corpus with either is refused) and scored on the test split, per seed.

    .venv/bin/python benchmarks/image_judges.py data/sounds_offline-7b488e06 data/instruments_offline-d51c3e7f

Last line: ``judge_gain=<median over corpora of (median accuracy of the CNN the judges use - median LeNet accuracy)>``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from torchvision.transforms.functional import gaussian_blur  # noqa: E402

from trainables.classifiers import ImageCNN, LeNet5, _fit, accuracy  # noqa: E402
from trainables.data import load_split, read_manifest  # noqa: E402
from generalization import DEFAULT_JUDGE_EPOCHS  # noqa: E402

CONTENDERS = {"lenet5": LeNet5, "cnn3": ImageCNN, "cnn3_w32": lambda n: ImageCNN(n, width=32)}
"""``cnn3``: the judge of images over 32 px (``trainables.classifiers.IMAGE_JUDGES``)."""
DEGRADATIONS = {
    "blur": lambda x: gaussian_blur(x, [7, 7], [1.5, 1.5]),
    "noise": lambda x: (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1),
    "gray": lambda x: 0.6 * x - 0.2,
}
"""What a judge of generated samples also meets: soft edges, speckle, a gray background in place of black
(``--degraded``: each contender is also scored on the test images so changed)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="+", help="built corpus directories")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=DEFAULT_JUDGE_EPOCHS[0], help="the generalization benchmark's image-judge epochs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--contenders", nargs="+", choices=list(CONTENDERS), default=list(CONTENDERS))
    ap.add_argument("--degraded", action="store_true", help="also score blurred, noisy and grayed test images")
    args = ap.parse_args()
    if not {"lenet5", "cnn3"} <= set(args.contenders):
        raise SystemExit("image_judges: --contenders must include lenet5 and cnn3 (the last line compares them)")
    torch.set_num_threads(args.threads)
    gains = []
    for corpus in args.corpora:
        manifest = read_manifest(corpus)
        for key, value in (("judge_data", manifest.get("judge_data")),
                           ("image.judge_recipe", manifest["image"].get("judge_recipe"))):
            if value:
                raise SystemExit(f"image_judges: {corpus}/manifest.json has {key}, which this benchmark does not apply")
        train, test = load_split(corpus, "train"), load_split(corpus, "test")
        n = int(max(train.label.max(), test.label.max()) + 1)
        x, xt = train.images(), test.images()
        med = {}
        for name in args.contenders:
            make, accs, secs, worse = CONTENDERS[name], [], [], {d: [] for d in DEGRADATIONS if args.degraded}
            for seed in args.seeds:
                torch.manual_seed(seed)
                model, t0 = make(n), time.perf_counter()
                _fit(model, x, train.label, args.epochs, seed)
                accs.append(accuracy(model, xt, test.label))
                secs.append(time.perf_counter() - t0)
                for d in worse:
                    worse[d].append(accuracy(model, DEGRADATIONS[d](xt), test.label))
                print(f"{Path(corpus).name} ({n} classes, {len(train.label)} train / {len(test.label)} test images, "
                      f"{list(x.shape[-2:])}) {name} seed {seed}: {accs[-1]:.3f} ({secs[-1]:.0f} s)"
                      + "".join(f", {d} {v[-1]:.3f}" for d, v in worse.items()), flush=True)
            med[name] = statistics.median(accs)
            print(f"{Path(corpus).name} {name}: median {med[name]:.3f} ({min(accs):.3f}-{max(accs):.3f}), "
                  f"training {statistics.median(secs):.0f} s"
                  + "".join(f"; {d} {statistics.median(v):.3f} ({min(v):.3f}-{max(v):.3f})" for d, v in worse.items()),
                  flush=True)
        gains.append(med["cnn3"] - med["lenet5"])
    print(f"judge_gain={statistics.median(gains):.3f}")


if __name__ == "__main__":
    main()

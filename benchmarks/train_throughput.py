"""Training throughput: Ray Train (1 worker) against a bare PyTorch loop, then 1 vs 2 workers.

Same model, corpus, batch size and CPU count, measured side by side in one run. Throughput is
steady state: training steps (and samples) per second over the epochs after the first, timed
inside the loop (``epoch_seconds``), so worker start-up, evaluation and checkpointing are left
out of it; the wall time of each run, start-up included, is printed beside it.

Bare and Ray runs alternate ``--repeats`` times and each side keeps its best run (as ``timeit``
does): load from other processes on a shared machine drifts over minutes and would otherwise
fall on whichever contender ran at the wrong moment.

    python benchmarks/train_throughput.py [--epochs 3] [--per-class 300] [--width 16] [--repeats 2]

Last line: ``ratio=<ray_1_worker / bare>``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import xmodal_cli  # noqa: E402  (run as a script: `platform` is the stdlib's until this loads ours)

xmodal_cli.load_platform_package()


def steady(reports: list[dict]) -> tuple[float, float]:
    """(steps/s, samples/s per worker) over the epochs after the first."""
    later = reports[1:] or reports
    steps = sum(r["steps"] for r in later)
    seconds = sum(r["epoch_seconds"] for r in later)
    return steps / seconds, steps * reports[0]["batch_size"] / seconds


def bare(config: dict, threads: int) -> tuple[list[dict], float]:
    import torch

    from trainables.config import from_dict
    from trainables.loop import fit
    from trainables.syncgan import SyncGANConfig

    torch.set_num_threads(threads)
    reports: list[dict] = []
    t0 = time.time()
    fit("syncgan", from_dict(SyncGANConfig, config), lambda m, _: reports.append({**m, "batch_size": config["batch_size"]}))
    return reports, time.time() - t0


def ray_train(config: dict, workers: int, cpus: float, storage: str) -> tuple[list[dict], float]:
    from trainables.ray_train import make_trainer

    t0 = time.time()
    result = make_trainer("syncgan", config, {"num_workers": workers, "cpus_per_worker": cpus, "max_failures": 0},
                          name=f"bench-{uuid.uuid4().hex[:6]}", storage_path=storage).fit()
    wall = time.time() - t0
    progress = Path(config["tb_dir"]) / "progress.jsonl"
    reports = [{**json.loads(line), "batch_size": config["batch_size"]} for line in progress.read_text().splitlines()]
    assert result.metrics["epoch"] == config["epochs"]
    return reports, wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--per-class", type=int, default=300, help="training images per class (pairs = 10x)")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=2, help="alternating bare/Ray runs; each keeps its best")
    p.add_argument("--data", default=str(ROOT / "data"))
    p.add_argument("--cpus", type=int, default=os.cpu_count() or 2,
                   help="CPUs (torch threads) each contender gets (default: all; use 1 on a machine shared "
                        "with other work: OpenMP threads spinning against another process slow down many-fold)")
    args = p.parse_args()

    import ray
    import torch

    import data_prep
    from platform.ray_session import init_ray
    from trainables.classifiers import ensure_classifiers

    cpus = args.cpus
    init_ray(num_cpus=os.cpu_count() or 2, log_to_driver=False)
    corpus = data_prep.build("fashion_spoken", args.data, {"train_per_class": args.per_class, "test_per_class": 50})
    clf = ensure_classifiers(corpus, epochs_image=1, epochs_audio=2)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    base = dict(corpus_dir=str(corpus), classifier_path=str(clf), width=args.width, batch_size=args.batch_size,
                epochs=args.epochs, eval_samples=100, transfer_samples=0)

    print(f"machine: {cpus} CPU, torch {torch.__version__}, ray {ray.__version__}, device cpu; "
          f"corpus {corpus.name} ({10 * args.per_class} pairs), width {args.width}, batch {args.batch_size}, "
          f"{args.epochs} epochs each", flush=True)
    runs: dict[str, list[tuple[list[dict], float]]] = {"bare (1 process)": [], "ray train, 1 worker": []}
    for i in range(args.repeats):
        runs["bare (1 process)"].append(bare({**base, "tb_dir": str(tmp / f"bare{i}")}, threads=cpus))
        runs["ray train, 1 worker"].append(
            ray_train({**base, "tb_dir": str(tmp / f"ray1-{i}")}, 1, float(cpus), str(tmp / "runs")))
    runs["ray train, 2 workers"] = [ray_train({**base, "tb_dir": str(tmp / "ray2")}, 2, float(cpus) / 2, str(tmp / "runs"))]
    rates = {}
    print(f"{'run':24s} {'steps/s':>9s} {'samples/s':>10s} {'wall s':>8s}   (every repeat)")
    for name, repeats in runs.items():
        workers = 2 if "2 workers" in name else 1
        measured = [(*steady(reports), wall) for reports, wall in repeats]
        steps_s, samples_s, wall = max(measured)
        rates[name] = (steps_s, samples_s * workers)
        each = ", ".join(f"{m[0]:.2f}" for m in measured)
        print(f"{name:24s} {steps_s:9.2f} {samples_s * workers:10.1f} {wall:8.1f}   ({each})")
    ray1, ray2, b = rates["ray train, 1 worker"], rates["ray train, 2 workers"], rates["bare (1 process)"]
    print(f"2 workers / 1 worker (samples/s): {ray2[1] / ray1[1]:.2f}")
    print(f"ratio={ray1[0] / b[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Step cost of SyncGAN: today's CPU recipe against the new default, side by side in one run.

For each recipe: GFLOP per training step (``torch.utils.flop_counter``), steps/s at 1 and 2 torch
threads and for two single-thread processes at once (both cores, one run each), and the GFLOP/s
achieved against a float32 matmul peak measured on the same machine in the same run.
Random data of the corpora's shapes (28x28 images, 48x48 log-mels); batch 64.

    .venv/bin/python benchmarks/step_cost.py [--steps 40]

Last line: ``step_speedup=<new steps/s / today's steps/s, 2 threads>``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from trainables.syncgan.config import PAPER_RECIPE, SyncGANConfig  # noqa: E402
from trainables.syncgan.model import SyncGAN  # noqa: E402

SHAPES = ((28, 28), (48, 48))
# today's CPU recipe (benchmarks/quality.py and the studies before the new default), the paper's, and the new default
TODAY = dict(width=16, sync_fake_weight=1.0, lr_g=1e-3, lr_d=2e-4, lr_s=1e-3, sync_batch="paper", sync_pairs="paper",
             gen_pairs="paper", image_width=None, audio_width=None, latent_classes=0, sync_warmup_steps=0)
RECIPES = {"today": TODAY, "paper": dict(PAPER_RECIPE), "new": {}}


def build(recipe: dict, batch: int, seed: int = 0) -> tuple[SyncGAN, list[tuple[torch.Tensor, ...]]]:
    torch.manual_seed(seed)
    cfg = SyncGANConfig(batch_size=batch, semi_rate=1.0, **recipe)
    model = SyncGAN(cfg, *SHAPES)
    n = 1024
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 256, (n, 1, *SHAPES[0]), dtype=np.uint8)
    audios = rng.uniform(-1, 1, (n, 1, *SHAPES[1])).astype(np.float16)
    model.bind_train_data(images, audios, labels, np.ones(n, bool), "cpu")
    data = []
    for i in range(0, n - batch + 1, batch):
        s = slice(i, i + batch)
        data.append((torch.from_numpy(images[s]).float() / 127.5 - 1, torch.from_numpy(audios[s]).float(),
                     torch.from_numpy(labels[s]), torch.ones(batch, dtype=torch.bool)))
    model.train_step(*data[0])  # the warm-up of S (if any) and allocator warm-up, outside the timing
    return model, data


def gflop_per_step(recipe: dict, batch: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model, data = build(recipe, batch)
    with FlopCounterMode(display=False) as counter:
        model.train_step(*data[1])
    return counter.get_total_flops() / 1e9


def steps_per_second(recipe: dict, batch: int, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)
    model, data = build(recipe, batch)
    for i in range(3):
        model.train_step(*data[i % len(data)])
    t0 = time.perf_counter()
    for i in range(steps):
        model.train_step(*data[i % len(data)])
    return steps / (time.perf_counter() - t0)


def matmul_gflops(threads: int, n: int = 1024, reps: int = 20) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def _child(args: tuple[dict, int, int]) -> float:
    recipe, batch, steps = args
    return steps_per_second(recipe, batch, 1, steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40, help="timed steps per measurement")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    peak = {t: matmul_gflops(t) for t in (1, 2)}
    rows = {}
    for name, recipe in RECIPES.items():
        gf = gflop_per_step(recipe, args.batch)
        s1 = steps_per_second(recipe, args.batch, 1, args.steps)
        s2 = steps_per_second(recipe, args.batch, 2, args.steps)
        with mp.get_context("spawn").Pool(2) as pool:
            par = sum(pool.map(_child, [(recipe, args.batch, args.steps)] * 2))
        rows[name] = dict(gflop=gf, steps_s_1t=s1, steps_s_2t=s2, steps_s_2x1t=par,
                          gflops_1t=gf * s1, gflops_2t=gf * s2)
    print(f"matmul peak: {peak[1]:.0f} GFLOP/s (1 thread), {peak[2]:.0f} GFLOP/s (2 threads)")
    print("| recipe | GFLOP/step | steps/s 1 thread | steps/s 2 threads | steps/s 2 runs x 1 thread | GFLOP/s 2 threads (% of matmul) |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['gflop']:.2f} | {r['steps_s_1t']:.2f} | {r['steps_s_2t']:.2f} | {r['steps_s_2x1t']:.2f} | "
              f"{r['gflops_2t']:.0f} ({100 * r['gflops_2t'] / peak[2]:.0f} %) |")
    if args.json:
        args.json.write_text(json.dumps({"peak_gflops": peak, "recipes": rows, "config": RECIPES}, indent=2))
    print(f"step_speedup={rows['new']['steps_s_2t'] / rows['today']['steps_s_2t']:.2f}")


if __name__ == "__main__":
    main()

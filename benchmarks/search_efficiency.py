"""Search efficiency: TPE + ASHA against random search + FIFO on syncgan_semi at small scale.

Both searches get the same trial budget (``--trials`` trials of at most ``--epochs`` epochs each) on
the same small corpus and model, through ``platform.tune.run`` (Ray Tune, Ray Train, Optuna in
SQLite), once per seed in ``--seeds``. A search's cost is its **trial-epochs**: every epoch any
of its trials trained, counted in the order the epochs finished (from each trial's
``progress.jsonl``), until the first epoch whose evaluation reached ``--target`` sync rate. A search
that never reaches the target costs everything it spent (printed with ``>``), so missing it is not
cheaper than reaching it late.

    python benchmarks/search_efficiency.py [--seeds 0 1] [--trials 8] [--epochs 8] [--target 0.15]

Last line: ``ratio=<tpe_asha/random_fifo>``, the ratio of the trial-epochs summed over the seeds
(goal <= 0.4).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import xmodal_cli  # noqa: E402  (run as a script: `platform` is the stdlib's until this loads ours)

xmodal_cli._load_platform_package()

METHODS = {
    "tpe+asha": ["searcher.type=optuna_tpe", "scheduler.type=asha"],
    "random+fifo": ["searcher.type=random", "scheduler.type=fifo"],
}


def small_scale(args: argparse.Namespace, seed: int) -> list[str]:
    """Overrides that shrink syncgan_semi to minutes: a smaller corpus, narrow nets, short epochs."""
    return [
        f"corpus.overrides.train_per_class={args.per_class}", "corpus.overrides.test_per_class=50",
        f"config.epochs={args.epochs}", f"config.steps_per_epoch={args.steps}", f"config.batch_size={args.batch_size}",
        f"config.width={args.width}", "config.eval_samples=300", "config.transfer_samples=0", "config.seed=0",
        f"num_samples={args.trials}", f"searcher.seed={seed}", "searcher.n_startup_trials=3",
        f"scheduler.grace_period={args.grace}", "scheduler.reduction_factor=2", "presets.local-cpu.max_failures=0",
        "classifiers.epochs_image=3", "classifiers.epochs_audio=5",
    ]


def epochs_in_order(experiment_dir: str) -> list[tuple[float, str, float]]:
    """(finish time, trial, sync rate) of every epoch of every trial, in the order they finished."""
    out = []
    for progress in Path(experiment_dir.split("?")[0]).glob("*/progress.jsonl"):
        for line in progress.read_text().splitlines():
            rec = json.loads(line)
            if float(rec["epoch"]).is_integer():
                out.append((rec["time"], progress.parent.name, rec["sync_rate"]))
    return sorted(out)


def cost(epochs: list[tuple[float, str, float]], target: float) -> tuple[int, bool, float]:
    """(trial-epochs until the target was first reached, reached?, best sync rate)."""
    best = max((s for *_, s in epochs), default=float("nan"))
    for i, (_, _, rate) in enumerate(epochs, 1):
        if rate >= target:
            return i, True, best
    return len(epochs), False, best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--trials", type=int, default=8, help="trials per search (the same for both)")
    p.add_argument("--epochs", type=int, default=8, help="epochs per trial (ASHA's max_t)")
    p.add_argument("--steps", type=int, default=50, help="training steps per epoch")
    p.add_argument("--grace", type=int, default=2, help="ASHA's grace period in epochs")
    p.add_argument("--width", type=int, default=16, help="base channels of every network (width 8 never left "
                   "sync rate 0 within 120 steps)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--per-class", type=int, default=200, help="training pairs per class")
    p.add_argument("--target", type=float, default=0.15, help="sync rate a search must reach (chance: 0.1)")
    p.add_argument("--data", default=str(ROOT / "data"))
    args = p.parse_args()

    from platform.study import load_study
    from platform.tune import run

    results = Path(tempfile.mkdtemp(prefix="search-eff-"))
    print(f"syncgan_semi at small scale: {args.trials} trials x {args.epochs} epochs x {args.steps} steps, "
          f"{10 * args.per_class} pairs, width {args.width}, batch {args.batch_size}; target sync rate {args.target}; seeds {args.seeds}; "
          f"results under {results}", flush=True)
    rows, totals = [], {m: 0 for m in METHODS}
    for seed in args.seeds:
        for method, overrides in METHODS.items():
            study = load_study("syncgan_semi", small_scale(args, seed) + overrides)
            study.name = f"syncgan_semi-{method.replace('+', '_')}-seed{seed}"
            t0 = time.time()
            summary = run(study, results, Path(args.data))
            spent, reached, best = cost(epochs_in_order(summary["experiment_dir"]), args.target)
            totals[method] += spent
            rows.append((seed, method, spent, reached, best, summary["trials"], time.time() - t0))
            print(f"seed {seed} {method:12s}: {'' if reached else '>'}{spent} trial-epochs "
                  f"(best sync rate {best:.3f}, {summary['trials']} trials, {time.time() - t0:.0f} s)", flush=True)
    print(f"\n{'seed':>4s} {'search':12s} {'trial-epochs to target':>23s} {'best sync rate':>15s} {'wall s':>7s}")
    for seed, method, spent, reached, best, _, wall in rows:
        print(f"{seed:4d} {method:12s} {('' if reached else '>') + str(spent):>23s} {best:15.3f} {wall:7.0f}")
    print(f"total trial-epochs: " + ", ".join(f"{m} {t}" for m, t in totals.items()))
    print(f"ratio={totals['tpe+asha'] / max(totals['random+fifo'], 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Search efficiency: TPE + ASHA against random search + FIFO on syncgan_semi at small scale.

Both searches get the same trial budget (``--trials`` trials of at most ``--epochs`` epochs each) on
the same small corpus and model, through ``platform.tune.run`` (Ray Tune, Ray Train, Optuna in
SQLite), once per seed in ``--seeds``; for one seed both searches draw the same first (start-up)
points. A search's cost is its **trial-epochs**: every epoch any of its trials trained, counted in
the order Tune received them (each trial's ``result.json``), until the first epoch whose
evaluation reached ``--target`` on the study's objective, ``sync_kappa`` (the sync rate corrected
for chance, Cohen's kappa: the raw sync rate of generators collapsed onto one class can be high by
luck, 0.35 at the first epoch in a pilot run, and 0.00 two epochs later). The study's ``target`` key
ends each search there (what comes after would not count). A search that never reaches the target
is counted at everything it spent (printed with ``>``), a lower bound of its cost: the report says
when a miss makes the ratio a lower bound (TPE + ASHA missed), an upper bound (random search missed)
or neither (both missed).

    python benchmarks/search_efficiency.py [--seeds 0 1 2] [--trials 12] [--epochs 12] [--steps 50] [--target 0.7]
        [--threshold 0.02|none] [--space wider|wide|study]
        [--set 'search.pair_ratio={uniform: [0.1, 0.9]}' ...]   # further study overrides
    python benchmarks/search_efficiency.py --from /tmp/search-eff-XXXX   # the report again, from the logs

Each search ran until ``--target``, so it passed every lower target (``--also``) first: their
trial-epochs come from the same searches, at no extra cost.

ASHA ranks trials at its rungs on ``--rung-metric``, by default ``sync_kappa_soft`` (Cohen's kappa of the
judges' probabilities): Ray's ASHA stops only trials strictly below a rung's cutoff, and with label
kappa most young trials sit at exactly 0, a cutoff of 0 that stops none. From the grace period on it
also stops every trial at or below ``--threshold`` (``scheduler.threshold``, default 0.02: a soft
kappa within noise of chance), since ASHA's ranking is only relative: the first trial at a rung has no
cutoff, and a dead trial ranked among dead ones passes half the time. ``--space wider`` (default)
searches the learning rates over three decades each, as a user who does not know them would; ``wide`` over two.

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

xmodal_cli.load_platform_package()
from platform.search import reaches  # noqa: E402

SPACES = {
    "study": [],
    "wide": ["search.lr_g={loguniform: [1.0e-4, 1.0e-2]}", "search.lr_s={loguniform: [1.0e-4, 1.0e-2]}",
             "search.lr_d={loguniform: [2.0e-5, 2.0e-3]}"],
    "wider": ["search.lr_g={loguniform: [3.0e-5, 3.0e-2]}", "search.lr_s={loguniform: [3.0e-5, 3.0e-2]}",
              "search.lr_d={loguniform: [6.0e-6, 6.0e-3]}"],
}
"""--space: syncgan_semi's learning rates over their own span (0.6 decades each), over two decades each
(wide) or three (wider), both centred on the study's."""
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
        f"num_samples={args.trials}", f"searcher.seed={seed}", f"searcher.n_startup_trials={args.startup}",
        f"scheduler.grace_period={args.grace}", f"scheduler.reduction_factor={args.reduction_factor}",
        f"preset={args.preset}", f"presets.{args.preset}.max_failures=0", f"target={args.target}",
        "classifiers.epochs_image=3", "classifiers.epochs_audio=5",
        # one objective, the study's label budget a fixed dimension again: the cost is time to a sync_kappa
        "objective={metric: sync_kappa, mode: max}", "tolerance=null", "searcher.cover=null",
    ]


def tune_epochs(result: Path) -> list[dict]:
    """The end-of-epoch reports in a trial's ``result.json``, Tune's record of every result it received
    (a run that checkpoints every N steps reports fractional epochs too; they are left out). The
    trainable's own ``progress.jsonl`` used to miss the last epoch of ASHA-stopped trials."""
    rows = (json.loads(line) for line in result.read_text().splitlines() if line.strip())
    return [r for r in rows if float(r["epoch"]).is_integer()]


def epochs_in_order(experiment_dir: str, metric: str) -> list[tuple[float, str, float, float]]:
    """(finish time, trial, metric, sync rate) of every epoch of every trial, in the order they finished
    (``tune_epochs``; the ``timestamp`` is in whole seconds: epochs of one second are ordered by trial name)."""
    return sorted((r["timestamp"], result.parent.name, r[metric], r["sync_rate"])
                  for result in Path(experiment_dir.split("?")[0]).glob("*/result.json") for r in tune_epochs(result))


def cost(epochs: list[tuple[float, str, float, float]], target: float) -> tuple[int, bool, float, float]:
    """(trial-epochs until the target was first reached, reached?, best metric, sync rate of the best)."""
    best = max(epochs, key=lambda e: e[2], default=(0, "", float("nan"), float("nan")))
    for i, (_, _, value, _) in enumerate(epochs, 1):
        if reaches(value, target, "max"):
            return i, True, best[2], best[3]
    return len(epochs), False, best[2], best[3]


def report(searches: dict[tuple[int, str], list], target: float, also: list[float]) -> None:
    """The trial-epochs of every search to ``target`` and to each lower target in ``also`` (each search
    ran until ``target``, so it passed every lower one first), and the ratio of the sums."""
    print(f"\n{'seed':>4s} {'search':12s} " + " ".join(f"{'kappa>=' + format(t, 'g'):>12s}" for t in [*also, target])
          + f" {'best kappa':>11s} {'its sync rate':>14s} {'trials':>7s}")
    totals = {(m, t): 0 for m in METHODS for t in [*also, target]}
    missed: dict[tuple[str, float], list[int]] = {(m, t): [] for m in METHODS for t in [*also, target]}
    for (seed, method), epochs in searches.items():
        cells = []
        for t in [*also, target]:
            spent, reached, _, _ = cost(epochs, t)
            totals[method, t] += spent
            if not reached:
                missed[method, t].append(seed)
            cells.append(f"{('' if reached else '>') + str(spent):>12s}")
        _, _, best, best_rate = cost(epochs, target)
        print(f"{seed:4d} {method:12s} " + " ".join(cells) + f" {best:11.3f} {best_rate:14.3f} {len({e[1] for e in epochs}):7d}")
    for t in also:
        print(f"ratio at kappa >= {t:g}: {totals['tpe+asha', t] / max(totals['random+fifo', t], 1):.3f} "
              f"({totals['tpe+asha', t]} / {totals['random+fifo', t]} trial-epochs){bound(missed, t)}")
    print(f"total trial-epochs to kappa >= {target:g}: " + ", ".join(f"{m} {totals[m, target]}" for m in METHODS)
          + bound(missed, target))
    print(f"ratio={totals['tpe+asha', target] / max(totals['random+fifo', target], 1):.3f}")


def bound(missed: dict[tuple[str, float], list[int]], target: float) -> str:
    """What a missed target makes of the ratio: a search that missed is counted at what it spent, a lower
    bound of its cost, so the ratio is a lower bound when TPE + ASHA missed, an upper one when random
    search did, and neither when both did."""
    ours, theirs = missed["tpe+asha", target], missed["random+fifo", target]
    if ours and theirs:
        return f" (both missed: TPE + ASHA in seed(s) {ours}, random + FIFO in {theirs}; the ratio is no bound)"
    if ours:
        return f" (TPE + ASHA missed in seed(s) {ours}: the ratio is a lower bound)"
    if theirs:
        return f" (random + FIFO missed in seed(s) {theirs}: the ratio is an upper bound)"
    return ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--trials", type=int, default=12, help="trials per search at most (the same for both)")
    p.add_argument("--epochs", type=int, default=12, help="epochs per trial (ASHA's max_t): syncgan_semi's own 12 x 50 "
                   "= 600 steps (before 2026-12-03: 8)")
    p.add_argument("--steps", type=int, default=50, help="training steps per epoch, i.e. between two evaluations and "
                   "reports, at most one pass over the training pairs (10 x per-class / batch size: 70 steps)")
    p.add_argument("--grace", type=int, default=2, help="ASHA's grace period in epochs (rungs at 2, 4 and 8 epochs of 12 "
                   "with factor 2)")
    p.add_argument("--reduction-factor", type=int, default=2, help="ASHA's reduction factor")
    p.add_argument("--threshold", type=lambda v: None if v == "none" else float(v), default=0.02,
                   help="ASHA's threshold (scheduler.threshold): from the grace period on, stop a trial whose rung "
                        "metric is at or below it (0.02: a soft kappa within noise of chance, 0; none: ASHA alone)")
    p.add_argument("--startup", type=int, default=3, help="TPE's random start-up trials")
    p.add_argument("--space", choices=list(SPACES), default="wider",
                   help="wide / wider: the learning rates over two / three decades each (SPACES), as a user who "
                        "does not know them would search; study: syncgan_semi's own narrow space, where every point "
                        "trains")
    p.add_argument("--width", type=int, default=16, help="base channels of every network (width 8 never left "
                   "sync rate 0 within 120 steps)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--per-class", type=int, default=450, help="training pairs per class")
    p.add_argument("--target", type=float, default=0.7,
                   help="sync_kappa a search must reach (0: chance; 0.7 is a sync rate of about 0.73 over 10 classes; "
                        "0.5 was passed by the first two start-up points in 2 seeds of 3)")
    p.add_argument("--also", type=float, nargs="*", default=[0.5, 0.6],
                   help="lower targets also reported from the same searches (each is passed before --target)")
    p.add_argument("--rung-metric", default="sync_kappa_soft",
                   help="what ASHA ranks trials on at its rungs: sync_kappa_soft (Cohen's kappa of the judges' "
                        "probabilities, tie-free) or sync_kappa (labels: trials tied at 0 all pass a cutoff of 0)")
    p.add_argument("--preset", default="local-cpu", help="the study's resources preset (gpu: syncgan_semi's GPU preset, "
                   "for the larger --epochs/--steps that 2 cores cannot afford)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a further study override for both searches, e.g. a wider space: "
                        "--set 'search.lr_g={loguniform: [1e-5, 1e-2]}'")
    p.add_argument("--from", dest="from_dir", help="report on the searches already under this directory, run nothing")
    p.add_argument("--data", default=str(ROOT / "data"))
    args = p.parse_args()
    also = sorted(t for t in args.also if t < args.target)

    from platform.study import load_study

    if args.from_dir:
        metric = load_study("syncgan_semi").metric
        searches = {}
        for seed in args.seeds:
            for method in METHODS:
                exp = sorted(Path(args.from_dir).glob(f"syncgan_semi-{method.replace('+', '_')}-seed{seed}/*/"))
                if exp:
                    searches[seed, method] = epochs_in_order(str(exp[-1]), metric)
        report(searches, args.target, also)
        return 0

    from platform.tune import run

    results = Path(tempfile.mkdtemp(prefix="search-eff-"))
    args.overrides = SPACES[args.space] + args.overrides
    steps = min(args.steps, 10 * args.per_class // args.batch_size)
    threshold = "" if args.threshold is None else f", threshold {args.threshold:g}"
    print(f"syncgan_semi at small scale: {args.trials} trials x {args.epochs} epochs x {steps} steps, "
          f"{10 * args.per_class} pairs, width {args.width}, batch {args.batch_size}; ASHA grace {args.grace} factor "
          f"{args.reduction_factor} on {args.rung_metric}{threshold}; TPE start-up {args.startup}; "
          f"target sync_kappa {args.target}; seeds {args.seeds}; overrides {args.overrides}; results under {results}",
          flush=True)
    searches = {}
    for seed in args.seeds:
        for method, overrides in METHODS.items():
            rung = [f"scheduler.metric={args.rung_metric}", "scheduler.mode=max"] if method == "tpe+asha" else []
            if method == "tpe+asha" and args.threshold is not None:
                rung.append(f"scheduler.threshold={args.threshold}")
            study = load_study("syncgan_semi", small_scale(args, seed) + args.overrides + overrides + rung)
            study.name = f"syncgan_semi-{method.replace('+', '_')}-seed{seed}"
            t0 = time.time()
            summary = run(study, results, Path(args.data))
            epochs = searches[seed, method] = epochs_in_order(summary["experiment_dir"], study.metric)
            spent, reached, best, best_rate = cost(epochs, args.target)
            if reached != summary["target_reached"]:
                raise SystemExit(f"{study.name}: result.json says target reached={reached}, "
                                 f"the study summary says {summary['target_reached']}")
            print(f"seed {seed} {method:12s}: {'' if reached else '>'}{spent} trial-epochs (best {study.metric} {best:.3f} "
                  f"at sync rate {best_rate:.3f}, {summary['trials']} trials, {time.time() - t0:.0f} s)", flush=True)
    report(searches, args.target, also)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Early stopping replayed: ASHA with and without a threshold on the learning curves of trials already run.

``benchmarks/search_efficiency.py`` runs every random-search trial to its last epoch (FIFO), so their
curves say what each point would have done. This replays random search over those points (drawn with
replacement, ``--sequences`` sequences of ``--draws`` trials, two at a time, one epoch per time step)
under each contender, Ray's own scheduler objects deciding at every epoch (``platform.strategies``
on syncgan_semi with the contender's ``scheduler`` settings), and counts trial-epochs until the first
epoch at ``--target`` sync_kappa, as search_efficiency does. The points are the same for every
contender: what differs is only which trials the scheduler stops, so the figures isolate early
stopping from the searcher (TPE is not replayed). A trial's curve is used only when it ran to its last
epoch or reached the target (a trial cut short by another reaching it says nothing after that).

    python benchmarks/asha_replay.py /tmp/search-eff-XXXX [/tmp/search-eff-YYYY ...] [--target 0.7]

Last line: ``ratio=<ASHA with threshold / random + FIFO>``, mean trial-epochs to the target.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import xmodal_cli  # noqa: E402  (run as a script: `platform` is the stdlib's until this loads ours)

xmodal_cli.load_platform_package()
from platform.search import reaches  # noqa: E402
from search_efficiency import tune_epochs  # noqa: E402  (this script's folder is on sys.path)

Curve = tuple[list[float], list[float]]  # (sync_kappa, sync_kappa_soft) per epoch


class _Trial:
    """What Ray's ASHA reads of a trial: its id."""

    def __init__(self, trial_id: str):
        self.trial_id = trial_id


def load_curves(dirs: list[str], target: float, epochs: int) -> list[Curve]:
    """The random-search trials under search_efficiency result directories that ran ``epochs`` epochs
    or reached ``target``."""
    curves = []
    for d in dirs:
        for result in sorted(Path(d).glob("syncgan_semi-random_fifo-seed*/*/*/result.json")):
            rows = tune_epochs(result)
            kappa, soft = [r["sync_kappa"] for r in rows], [r["sync_kappa_soft"] for r in rows]
            if len(kappa) >= epochs or any(reaches(k, target, "max") for k in kappa):
                curves.append((kappa, soft))
    return curves


def replay(sequence: list[Curve], scheduler, target: float, epochs: int, slots: int = 2) -> int:
    """Trial-epochs until an epoch at ``target``, trials started in order, ``slots`` at a time; the
    scheduler (None: FIFO) sees every epoch's ``sync_kappa_soft`` and may stop the trial."""
    running: dict[int, int] = {}
    started = spent = 0
    while True:
        while len(running) < slots and started < len(sequence):
            running[started] = 0
            if scheduler is not None:
                scheduler.on_trial_add(None, _Trial(str(started)))
            started += 1
        if not running:
            return spent
        for t in sorted(running):
            running[t] += 1
            epoch, (kappa, soft) = running[t], sequence[t]
            spent += 1
            if reaches(kappa[epoch - 1], target, "max"):
                return spent
            stop = epoch >= epochs or epoch >= len(kappa)
            if scheduler is not None and not stop:
                stop = scheduler.on_trial_result(None, _Trial(str(t)), {
                    "epoch": epoch, "sync_kappa_soft": soft[epoch - 1]}) == "STOP"
            if stop:
                del running[t]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dirs", nargs="+", help="search_efficiency.py result directories (/tmp/search-eff-*)")
    p.add_argument("--target", type=float, default=0.7)
    p.add_argument("--epochs", type=int, default=8, help="the trials' epochs (ASHA's max_t)")
    p.add_argument("--grace", type=int, default=2)
    p.add_argument("--reduction-factor", type=int, default=2)
    p.add_argument("--threshold", type=float, default=0.02)
    p.add_argument("--sequences", type=int, default=2000)
    p.add_argument("--draws", type=int, default=60,
                   help="trials per sequence (enough that every one reaches the target)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    from platform.study import load_study
    from platform.strategies import strategy_for

    curves = load_curves(args.dirs, args.target, args.epochs)
    good = sum(any(reaches(k, args.target, "max") for k in kappa) for kappa, _ in curves)
    if not good:
        raise SystemExit(f"{args.dirs}: no recorded trial reached sync_kappa {args.target}: nothing to replay")
    asha = ["scheduler.type=asha", "scheduler.metric=sync_kappa_soft", "scheduler.mode=max",
            f"scheduler.grace_period={args.grace}", f"scheduler.reduction_factor={args.reduction_factor}",
            f"scheduler.max_t={args.epochs}", f"config.epochs={args.epochs}",
            "objective={metric: sync_kappa, mode: max}", "tolerance=null", "searcher.cover=null"]
    contenders = {"random + FIFO": None, "random + ASHA": asha,
                  f"random + ASHA, threshold {args.threshold:g}": [*asha, f"scheduler.threshold={args.threshold}"]}
    rng = np.random.default_rng(args.seed)
    sequences = [[curves[i] for i in rng.integers(len(curves), size=args.draws)] for _ in range(args.sequences)]
    print(f"{len(curves)} recorded trials ({good} reach sync_kappa {args.target}); {args.sequences} sequences of "
          f"{args.draws}; ASHA grace {args.grace} factor {args.reduction_factor} on sync_kappa_soft")
    means = {}
    for name, overrides in contenders.items():
        study = None if overrides is None else load_study("syncgan_semi", overrides)
        costs = np.array([replay(seq, None if study is None else strategy_for(study).scheduler(), args.target, args.epochs)
                          for seq in sequences])
        means[name] = costs.mean()
        print(f"{name:32s} trial-epochs to the target: mean {costs.mean():6.1f}, median {np.median(costs):4.0f}, "
              f"90th percentile {np.percentile(costs, 90):5.0f}; {costs.mean() / means['random + FIFO']:.3f} of FIFO")
    last = list(means)
    print(f"ratio={means[last[-1]] / means[last[0]]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

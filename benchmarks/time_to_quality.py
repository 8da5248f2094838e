"""Time to quality of SyncGAN on 2 CPU cores: the paper's configuration against the new default.

For each configuration, semi-supervised rate and seed, one plain-PyTorch run (``trainables.loop.fit``,
no Ray) on one core with one torch thread, evaluated every ``--eval-every`` steps with the corpus's
judges (evaluation time counts); two runs at a time, one per core. A run ends at ``--stop-at`` or
its wall budget. Records the steps and seconds to each sync-rate target, the curve, and the last value;
writes ``docs/results/time_to_quality.md`` (table + PNG of sync rate against seconds, median over seeds per
configuration and rate) and a JSON beside it with the resolved configs, versions and git commit.

    .venv/bin/python benchmarks/time_to_quality.py                     # mnist_spoken, seeds 0 1 2
    .venv/bin/python benchmarks/time_to_quality.py --corpus mnist_fashion_offline --budget 600
    .venv/bin/python benchmarks/time_to_quality.py --configs new new-no_categorical new-no_warmup --rates 0.4
    python3 benchmarks/time_to_quality.py --corpus-dir .gpu_data/mnist_spoken-b45dd75b --device cuda \
        --config-set batch_size=128      # a built corpus, read as it is (benchmarks/gpu_check.sh)

An evaluation reaches sync rate t only where the judges' agreement is not luck: sync_rate >= t and
sync_kappa >= (t - 1/K) / (1 - 1/K), the kappa of generators that cover the K classes evenly at sync
rate t. Generators collapsed onto one class each, judged alike, score sync rate 1.0 with kappa 0 (the
paper's configuration does so on mnist_fashion_offline within 70 steps); they reach no target.

Last line: ``seconds_to_0.9=<median, new default> paper=<median, paper config>`` (``inf`` where the
median run did not get there within the budget).
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = (0.5, 0.8, 0.9, 0.95)


def reaches(point: dict[str, float], target: float, n_classes: int) -> bool:
    """Sync rate ``target`` reached at this evaluation, with the chance-corrected agreement that
    generators covering the classes evenly would have there (a collapse onto one class does not count)."""
    chance = 1.0 / n_classes
    return point["sync_rate"] >= target and point.get("sync_kappa", -1.0) >= (target - chance) / (1 - chance) - 1e-9


# The new recipe's levers, each turned back to the paper's setting alone (leave-one-out ablation:
# ``--configs new new-no_categorical ...``); keys that act together are one lever.
LEVERS: dict[str, tuple[str, ...]] = {
    "no_categorical": ("latent_classes",),
    "no_pool": ("sync_batch",),
    "no_all_pairs": ("sync_pairs", "gen_pairs"),
    "no_warmup": ("sync_warmup_steps",),
    "no_fake_negative": ("sync_fake_weight",),
    "paper_rates": ("lr_g", "lr_d", "lr_s", "sync_weight"),
    "one_width": ("audio_width", "sync_width"),
    "no_class_heads": ("sync_class_weight",),
    "no_ema": ("ema_decay",),
    "drawn_waveform": ("waveform_nets",),
    "paper_transfer": ("transfer_method", "transfer_steps"),
}


def configurations() -> dict[str, dict[str, Any]]:
    """The contenders: SyncGANConfig's defaults (the new recipe), the paper's method, and the new
    recipe with one lever at a time set back to the paper's value (``new-<lever>``)."""
    from trainables.syncgan.config import PAPER_RECIPE

    missing = sorted({k for keys in LEVERS.values() for k in keys} ^ set(PAPER_RECIPE))
    if missing:
        raise SystemExit(f"time_to_quality: LEVERS and PAPER_RECIPE disagree on {missing}")
    return {"new": {}, "paper": dict(PAPER_RECIPE),
            **{f"new-{lever}": {k: PAPER_RECIPE[k] for k in keys} for lever, keys in LEVERS.items()}}


class _Done(Exception):
    pass


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One training run on ``job["threads"]`` torch threads (default 1); returns its evaluation curve and the
    times to the targets."""
    import torch

    torch.set_num_threads(job.get("threads", 1))
    from trainables.config import from_dict, to_dict
    from trainables.loop import fit
    from trainables.syncgan.config import SyncGANConfig

    values = {**job["config"], **job.get("config_set", {}), "semi_rate": job["rate"], "seed": job["seed"], "epochs": 100_000,
              "steps_per_epoch": job["eval_every"], "transfer_samples": 0, "eval_samples": job["eval_samples"],
              "corpus_dir": job["corpus_dir"], "classifier_path": job["classifier_path"]}
    cfg = from_dict(SyncGANConfig, values)
    curve: list[dict[str, float]] = []
    t0 = time.perf_counter()

    transfer: dict[str, float] = {}

    def report(metrics: dict, checkpoint: Any) -> None:
        point = {"seconds": time.perf_counter() - t0, "step": int(metrics["step"]),
                 **{k: float(metrics[k]) for k in ("sync_rate", "sync_kappa", "fid_image", "synchronizer_acc_real")
                    if k in metrics}}
        curve.append(point)
        if reaches(point, job["stop_at"], job["n_classes"]) or point["seconds"] >= job["budget"]:
            if job.get("transfer_samples") and checkpoint:  # the model where the run stops, outside its timing
                transfer.update(transfer_at(cfg, checkpoint, job["transfer_samples"]))
            if job.get("keep") and checkpoint:  # the model where the run stops, for later measurements
                shutil.copytree(checkpoint, job["keep"], dirs_exist_ok=True)
            raise _Done

    try:
        fit("syncgan", cfg, report, device=job.get("device", "cpu"), hparams=False)
    except _Done:
        pass
    return {**{k: job[k] for k in ("name", "rate", "seed")}, "config": to_dict(cfg), "curve": curve,
            "reached": first_reached(curve, job["targets"], job["n_classes"]), "last": curve[-1] if curve else {},
            "transfer": transfer}


def transfer_at(cfg: Any, checkpoint: str, n: int) -> dict[str, float]:
    """Transfer accuracy both ways (and seconds) of the model in ``checkpoint`` on ``n`` test
    pairs (``evaluation_rows``: the classes in turn), by its own ``transfer_method`` (``SyncGAN.translate``)."""
    import torch

    from trainables.checkpoint import load_checkpoint
    from trainables.classifiers import load_classifiers
    from trainables.data import load_split, read_manifest
    from trainables.metrics import evaluate_transfer_on
    from trainables.registry import build_model, get_trainable

    rng = torch.get_rng_state()  # the run's own stream is not disturbed
    model = build_model(get_trainable("syncgan"), cfg, read_manifest(cfg.corpus_dir))
    load_checkpoint(model, checkpoint)
    torch.set_rng_state(rng)
    clf_a, clf_b, _ = load_classifiers(cfg.classifier_path)
    test = load_split(cfg.corpus_dir, "test")
    return evaluate_transfer_on(lambda x, d: model.translate(x, d, seed=cfg.seed), test, n, clf_a, clf_b)


def first_reached(curve: list[dict], targets: tuple[float, ...], n_classes: int) -> dict[str, dict | None]:
    """Per target, the seconds and step of the first evaluation that reaches it (None: never)."""
    out = {}
    for target in targets:
        first = next((p for p in curve if reaches(p, target, n_classes)), None)
        out[str(target)] = {"seconds": first["seconds"], "step": first["step"]} if first else None
    return out


def summarize(runs: list[dict], targets: tuple[float, ...], n_classes: int) -> dict[tuple[str, float], dict[str, Any]]:
    """Per (configuration, rate): median and range of the seconds and steps to each target (inf: missed),
    read from the curves (so that a report written again from a JSON applies ``reaches`` as it is now)."""
    runs = [{**r, "reached": first_reached(r["curve"], targets, n_classes)} for r in runs]
    out: dict[tuple[str, float], dict[str, Any]] = {}
    for key in sorted({(r["name"], r["rate"]) for r in runs}, key=lambda k: (k[0], -k[1])):
        group = [r for r in runs if (r["name"], r["rate"]) == key]
        row: dict[str, Any] = {"seeds": [r["seed"] for r in group]}
        for t in targets:
            secs = [r["reached"][str(t)]["seconds"] if r["reached"][str(t)] else math.inf for r in group]
            steps = [r["reached"][str(t)]["step"] if r["reached"][str(t)] else math.inf for r in group]
            row[t] = {"seconds": statistics.median(secs), "seconds_range": (min(secs), max(secs)),
                      "steps": statistics.median(steps), "hits": sum(math.isfinite(s) for s in secs)}
        last = [r["last"].get("sync_rate", math.nan) for r in group]
        best = [max((p["sync_rate"] for p in r["curve"]), default=math.nan) for r in group]
        row["last"] = (statistics.median(last), min(last), max(last))
        row["best"] = (statistics.median(best), min(best), max(best))
        kappa = [max((p.get("sync_kappa", math.nan) for p in r["curve"]), default=math.nan) for r in group]
        row["best_kappa"] = (statistics.median(kappa), min(kappa), max(kappa))
        row["wall"] = statistics.median([r["last"].get("seconds", math.nan) for r in group])
        out[key] = row
    return out


def _fmt_s(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.0f}"


def _fmt_range(lo: float, hi: float) -> str:
    """Seconds over seeds: "120–180", "120–miss" where a seed missed the target, "miss" where all did."""
    if not math.isfinite(lo):
        return "miss"
    return f"{lo:.0f}–{hi:.0f}" if math.isfinite(hi) else f"{lo:.0f}–miss"


def plot(runs: list[dict], path: Path) -> None:
    """Sync rate against seconds: one line per configuration and rate (median over seeds per evaluation)."""
    try:
        import matplotlib
    except ImportError:  # e.g. a lent GPU machine: the table is the result, the plot an extra
        print(f"no plot {path.name}: matplotlib is not installed")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"new": "-", "paper": "--"}
    for (name, rate) in sorted({(r["name"], r["rate"]) for r in runs}):
        group = [r["curve"] for r in runs if (r["name"], r["rate"]) == (name, rate)]
        n = max(len(c) for c in group)
        xs, ys = [], []
        for i in range(n):
            pts = [c[min(i, len(c) - 1)] for c in group]  # a run that ended at its target keeps its last value
            xs.append(statistics.median(p["seconds"] for p in pts))
            ys.append(statistics.median(p["sync_rate"] for p in pts))
        ax.plot(xs, ys, styles.get(name, ":"), label=f"{name}, semi-supervised rate {rate}")
    for t in TARGETS:
        ax.axhline(t, color="grey", lw=0.5)
    ax.set_xlabel("seconds (one core, training + evaluation)")
    ax.set_ylabel("sync rate (judges agree on a generated pair)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(path: Path, runs: list[dict], summary: dict, meta: dict) -> None:
    from data_prep.atomic import write_text_atomic
    from platform.provenance import write_json

    lines = [
        "# Time to quality (SyncGAN, " + ("2 CPU cores)" if meta.get("device", "cpu") == "cpu" else f"{meta['device']})"),
        "",
        "Written by `benchmarks/time_to_quality.py`; do not edit by hand. Reproduce with:",
        "",
        f"    {meta['command']}",
        "",
        f"Corpus `{meta['corpus']}` (judges: image {meta['judges']['image']:.3f}, audio {meta['judges']['audio']:.3f} "
        f"test accuracy; sync rate of real test pairs {meta['sync_rate_real']:.3f}, the ceiling). Each run: "
        + ("one core, one torch thread, two runs at a time" if meta.get("device", "cpu") == "cpu" else
           f"{meta['device']}, {meta.get('parallel', 1)} runs at a time on it, config {meta['configurations']}") + f"; evaluation on {meta['eval_samples']} generated pairs every {meta['eval_every']} "
        f"steps, its time included; a run ends at sync rate {meta.get('stop_at', max(TARGETS))} or after {meta['budget']:.0f} s. "
        f"An evaluation reaches sync rate t where sync_rate >= t and sync_kappa >= (t - 1/K) / (1 - 1/K), K = "
        f"{meta.get('n_classes', 10)} classes: the agreement is not luck (generators collapsed onto one class each "
        f"score sync rate 1.0 and kappa 0, and reach nothing). Seeds "
        f"{meta['seeds']}. Cells: median seconds (range over seeds, \"miss\" for a seed that "
        "missed the target within the budget; hits = runs that reached it; — where the median run missed it).",
        "",
        "| configuration | semi-supervised rate | " + " | ".join(f"s to {t} (range, hits)" for t in TARGETS)
        + " | steps to 0.9 | best sync rate (range) | best sync_kappa (range) | last sync rate (range) |",
        "|---|---|" + "---|" * (len(TARGETS) + 4),
    ]
    for (name, rate), row in summary.items():
        cells = [f"{_fmt_s(row[t]['seconds'])} ({_fmt_range(*row[t]['seconds_range'])}, "
                 f"{row[t]['hits']}/{len(row['seeds'])})" for t in TARGETS]
        b, l, k = row["best"], row["last"], row["best_kappa"]
        lines.append(f"| {name} | {rate} | " + " | ".join(cells) + f" | {_fmt_s(row[0.9]['steps'])} | "
                     f"{b[0]:.3f} ({b[1]:.3f}–{b[2]:.3f}) | {k[0]:.3f} ({k[1]:.3f}–{k[2]:.3f}) | {l[0]:.3f} ({l[1]:.3f}–{l[2]:.3f}) |")
    lines += ["", f"![sync rate against seconds]({path.with_suffix('.png').name})", "",
              "Configurations (the resolved configs are in the JSON beside this file):", ""]
    for name, cfg in meta["configurations"].items():
        lines.append(f"- `{name}`: " + (", ".join(f"{k}={v}" for k, v in cfg.items()) or "SyncGANConfig's defaults"))
    lines += ["", f"git commit {meta['provenance']['git_commit']}, torch {meta['provenance']['versions']['torch']}, "
              f"{meta['provenance']['created_utc']}."]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\n".join(lines) + "\n")
    plot(runs, path.with_suffix(".png"))
    write_json(path.with_suffix(".json"), {**meta, "runs": runs})


def main() -> None:
    import xmodal_cli

    xmodal_cli.load_platform_package()
    import data_prep
    from platform.provenance import provenance, write_json
    from trainables.classifiers import ensure_classifiers
    from trainables.data import read_manifest

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="mnist_spoken")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="corpus config override (YAML value)")
    ap.add_argument("--configs", nargs="+", default=["new", "paper"])
    ap.add_argument("--rates", nargs="+", type=float, default=[1.0, 0.4, 0.1])
    ap.add_argument("--paper-rates", nargs="+", type=float, help="rates for the paper's configuration (default: --rates)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=300.0, help="wall seconds per run")
    ap.add_argument("--eval-every", type=int, default=40, help="steps between evaluations")
    ap.add_argument("--stop-at", type=float, default=max(TARGETS),
                    help="a run ends at its first evaluation at or above this sync rate (an ablation of the "
                         "seconds to 0.9 needs no run to go on to 0.95)")
    ap.add_argument("--eval-samples", type=int, default=1000)
    ap.add_argument("--parallel", type=int, default=2, help="runs at once (one core each)")
    ap.add_argument("--judge-epochs", nargs=2, type=int, default=[40, 15], metavar=("IMAGE", "AUDIO"),
                    help="epochs of the judge classifiers (LeNet-5 needs ~40 on the 4,500 real MNIST digits)")
    ap.add_argument("--data", default=str(ROOT / "data"))
    ap.add_argument("--corpus-dir", type=Path, help="a built corpus directory, read as it is (nothing is built: "
                    "for a machine without the audio tools); --corpus and --set are then ignored")
    ap.add_argument("--config-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a SyncGANConfig key for every configuration (YAML value), e.g. batch_size=128")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (runs share the device)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "time_to_quality.md")
    ap.add_argument("--from-json", type=Path, metavar="JSON",
                    help="no runs: write the report again from the JSON an earlier run wrote beside it")
    args = ap.parse_args()
    if args.from_json:
        try:
            saved = json.loads(args.from_json.read_text())
            runs, meta = saved.pop("runs"), saved
        except (OSError, ValueError, KeyError) as e:
            raise SystemExit(f"time_to_quality: cannot read runs from {args.from_json}: {e}")
        write_report(args.out, runs, summarize(runs, TARGETS, meta.get("n_classes", 10)), meta)
        print(f"wrote {args.out} from {args.from_json}")
        return

    from data_prep.cli import parse_sets

    overrides = parse_sets(args.overrides)
    config_set = parse_sets(args.config_set)
    corpus_dir = args.corpus_dir.resolve() if args.corpus_dir else Path(data_prep.build(args.corpus, args.data, overrides))
    clf = ensure_classifiers(corpus_dir, epochs_image=args.judge_epochs[0], epochs_audio=args.judge_epochs[1])
    judges = json.loads(clf.with_suffix(".json").read_text())
    n_classes = len(read_manifest(corpus_dir)["classes"]["image"])
    known = configurations()
    unknown = [c for c in args.configs if c not in known]
    if unknown:
        raise SystemExit(f"time_to_quality: unknown configuration(s) {unknown}; known: {sorted(known)}")
    jobs = [{"name": name, "config": known[name], "rate": rate, "seed": seed, "budget": args.budget,
             "eval_every": args.eval_every, "eval_samples": args.eval_samples, "targets": TARGETS, "stop_at": args.stop_at, "n_classes": n_classes,
             "corpus_dir": str(corpus_dir), "classifier_path": str(clf), "config_set": config_set, "device": args.device}
            for seed in args.seeds for name in args.configs
            for rate in (args.paper_rates or args.rates if name == "paper" else args.rates)]
    started, prov = time.time(), provenance()  # the commit the runs start from
    meta = {"command": " ".join([".venv/bin/python benchmarks/time_to_quality.py", *sys.argv[1:]]),
            "corpus": corpus_dir.name, "judges": judges["test_accuracy"],
            "sync_rate_real": judges["sync_rate_real"],  # recorded with the judges (ensure_classifiers)
            "eval_samples": args.eval_samples, "eval_every": args.eval_every, "budget": args.budget, "stop_at": args.stop_at,
            "n_classes": n_classes,
            "seeds": args.seeds, "configurations": {n: {**known[n], **config_set} for n in args.configs},
            "device": args.device, "parallel": args.parallel, "provenance": prov}
    # every finished run is kept at once: an interrupted benchmark's report is written with --from-json
    partial = args.out.with_suffix(".partial.json")
    runs = []
    with mp.get_context("spawn").Pool(args.parallel, maxtasksperchild=1) as pool:
        for r in pool.imap_unordered(run_one, jobs):
            runs.append(r)
            write_json(partial, {**meta, "wall_minutes": (time.time() - started) / 60, "runs": runs})
            hit = r["reached"]["0.9"]
            print(f"{r['name']} rate {r['rate']} seed {r['seed']}: 0.9 at "
                  f"{'%.0f s (step %d)' % (hit['seconds'], hit['step']) if hit else 'never'}, "
                  f"last {r['last'].get('sync_rate', math.nan):.3f} at {r['last'].get('seconds', 0):.0f} s", flush=True)
    summary = summarize(runs, TARGETS, n_classes)
    write_report(args.out, runs, summary, {**meta, "wall_minutes": (time.time() - started) / 60})
    partial.unlink(missing_ok=True)
    for (name, rate), row in summary.items():
        print(f"{name} @ {rate}: s to 0.9 median {_fmt_s(row[0.9]['seconds'])} ({row[0.9]['hits']}/{len(row['seeds'])} hit), "
              f"best {row['best'][0]:.3f}")
    med = {n: statistics.median([row[0.9]["seconds"] for (name, _), row in summary.items() if name == n] or [math.inf])
           for n in args.configs}
    print(f"seconds_to_0.9={med.get('new', math.inf):.0f} paper={med.get('paper', math.inf):.0f}")


if __name__ == "__main__":
    main()

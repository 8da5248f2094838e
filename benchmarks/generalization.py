"""Does the default SyncGAN recipe work on corpora it was not tuned on? Every corpus x rate x seed in one run.

For each corpus (a shipped one, or a class-folder corpus synthesized offline: drawn shapes <-> real
sampled instrument notes or NumPy sound families, of other shapes and class counts), semi-supervised
rate and seed: one plain-PyTorch run of ``SyncGANConfig``'s defaults on one core with one torch thread
(``time_to_quality.run_one``), two at a time (``--threads 2 --parallel 1``: one run at a time on both cores, as
a user's one training on a 2-core machine runs). The target is 0.9 x the corpus's ceiling (the judges'
agreement on real test pairs, ``sync_rate_real``) with the chance-corrected agreement that even class
coverage would give there (``time_to_quality.reaches``); a run stops at its target or its wall budget,
and the model it stops with translates ``--transfer-samples`` test pairs both ways (outside its timing).

    .venv/bin/python benchmarks/generalization.py                       # the four corpora of issue 32, 3 seeds
    .venv/bin/python benchmarks/generalization.py --corpora "sounds_offline:audio=log_mel" --rates 1.0
    .venv/bin/python benchmarks/generalization.py --from-json docs/results/generalization.json

A corpus is ``name`` or ``name:key=value;key=value`` (corpus config overrides, YAML values). Writes
``docs/results/generalization.md`` (a table per corpus and rate: seconds to 0.9 x ceiling, best sync rate and
its ratio to the ceiling, transfer both ways, median and range over seeds), a PNG of the ratios and a
JSON with every curve, the resolved configs, versions and git commit.

Last line: ``worst_ceiling_ratio=<the smallest, over corpora and rates, of the median over seeds of
best credited sync rate / ceiling> transfer_min=<the smallest median transfer accuracy of any direction>``.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from time_to_quality import reaches, run_one  # noqa: E402

CORPORA = ["mnist_spoken", "mnist_fashion_offline", "instruments_offline", "instruments_offline:audio=log_mel"]
"""Issue 32's four: two shipped 28x28 corpora, and five instruments' notes (FluidSynth) with 64x64 drawn
shapes as folded waveforms (64x128) and as log-mel (48x48)."""
JUDGE_EPOCHS = {"mnist_spoken": (40, 15), "mnist_fashion_offline": (40, 5)}
"""Judge training epochs (image, audio) per corpus name; others: ``DEFAULT_JUDGE_EPOCHS``."""
DEFAULT_JUDGE_EPOCHS = (20, 15)
FRACTION = 0.9


def parse_corpus(spec: str) -> tuple[str, dict[str, Any]]:
    """``name:key=value;key=value`` -> (name, overrides)."""
    from data_prep.cli import parse_sets

    name, _, rest = spec.partition(":")
    return name, parse_sets([kv for kv in rest.split(";") if kv]) if rest else {}


def prepare(spec: str, data: Path) -> dict[str, Any]:
    """Build the corpus and its judges (both cached); returns what the runs of this corpus share."""
    import data_prep
    from trainables.classifiers import ensure_classifiers
    from trainables.data import read_manifest

    name, overrides = parse_corpus(spec)
    corpus_dir = Path(data_prep.build(name, data, overrides))
    epochs = JUDGE_EPOCHS.get(name, DEFAULT_JUDGE_EPOCHS)
    clf = ensure_classifiers(corpus_dir, epochs_image=epochs[0], epochs_audio=epochs[1])
    judges = json.loads(clf.with_suffix(".json").read_text())
    manifest = read_manifest(corpus_dir)
    return {"spec": spec, "corpus_dir": str(corpus_dir), "classifier_path": str(clf), "judges": judges["test_accuracy"],
            "image_judge": judges.get("image_judge", "lenet5"),  # judges cached before the key: LeNet-5
            "ceiling": judges["sync_rate_real"], "n_classes": len(manifest["classes"]["image"]),
            "shapes": [manifest["image"]["shape"], manifest["audio"]["shape"]],
            "audio": manifest["audio"].get("representation"), "train_pairs": manifest["splits"]["train"]["rows"]}


def credited(point: dict[str, float], n_classes: int) -> float:
    """The highest sync rate this evaluation reaches by ``time_to_quality.reaches``: its sync rate, capped
    by the rate that its chance-corrected agreement would give with even class coverage (a collapse onto
    a few classes scores its kappa's worth, not its raw agreement)."""
    chance = 1.0 / n_classes
    return min(point["sync_rate"], chance + point.get("sync_kappa", -1.0) * (1 - chance))


def summarize(runs: list[dict], corpora: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per (corpus, rate): medians and ranges over seeds."""
    rows = []
    for spec, info in corpora.items():
        target = FRACTION * info["ceiling"]
        for rate in sorted({r["rate"] for r in runs if r["corpus"] == spec}, reverse=True):
            group = [r for r in runs if r["corpus"] == spec and r["rate"] == rate]
            hit = [next((p["seconds"] for p in r["curve"] if reaches(p, target, info["n_classes"])), math.inf)
                   for r in group]
            best = [max((credited(p, info["n_classes"]) for p in r["curve"]), default=0.0) for r in group]
            ratio = [b / info["ceiling"] for b in best]
            row = {"corpus": spec, "rate": rate, "seeds": [r["seed"] for r in group], "target": target,
                   "seconds": _stat(hit), "hits": sum(math.isfinite(h) for h in hit), "best": _stat(best),
                   "ratio": _stat(ratio)}
            for d in ("a_to_b", "b_to_a"):
                acc = [r["transfer"].get(f"transfer_acc_{d}", math.nan) for r in group]
                row[f"transfer_{d}"] = _stat([a for a in acc if a == a] or [math.nan])
                row[f"transfer_seconds_{d}"] = _stat([r["transfer"].get(f"transfer_seconds_{d}", math.nan) for r in group])
            rows.append(row)
    return rows


def _stat(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), min(xs), max(xs)


def _cell(stat: tuple[float, float, float], fmt: str = "{:.3f}") -> str:
    med, lo, hi = stat
    show = lambda x: "miss" if not math.isfinite(x) else fmt.format(x)  # noqa: E731
    return f"{show(med)} ({show(lo)}–{show(hi)})"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows)), 4.5))
    x = range(len(rows))
    med = [r["ratio"][0] for r in rows]
    err = [[r["ratio"][0] - r["ratio"][1] for r in rows], [r["ratio"][2] - r["ratio"][0] for r in rows]]
    ax.bar(x, med, yerr=err, capsize=3, color=["C0" if m >= FRACTION else "C3" for m in med])
    ax.axhline(FRACTION, color="grey", ls="--", lw=1)
    ax.set_xticks(list(x), [f"{r['corpus'].replace(':', chr(10))}\nrate {r['rate']}" for r in rows], fontsize=7)
    ax.set_ylabel("best sync rate / ceiling (median, range over seeds)")
    ax.set_ylim(0, 1.1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(path: Path, rows: list[dict], corpora: dict[str, dict], meta: dict) -> str:
    from data_prep.atomic import write_text_atomic
    from platform.provenance import write_json

    lines = ["# Generalization of the default SyncGAN recipe", "",
             "Written by `benchmarks/generalization.py`; do not edit by hand. Reproduce with:", "",
             f"    {meta['command']}", "",
             f"Each run: `SyncGANConfig`'s defaults, {_threads(meta)}; evaluation on "
             f"{meta['eval_samples']} generated pairs every {meta['eval_every']} steps, its time included; a run ends at "
             f"{FRACTION} x the corpus's ceiling (the judges' agreement on real test pairs) with the chance-corrected "
             f"agreement that even class coverage gives there, or after {meta['budget']:.0f} s. Then the model it ends "
             f"with translates {meta['transfer_samples']} test pairs both ways (`transfer_method` of the recipe), "
             f"outside the run's time. Seeds {meta['seeds']}; cells: median (range over seeds). "
             f"Wall time of the whole benchmark: {meta.get('wall_minutes', 0):.0f} min.", "",
             "| corpus | classes | shapes (image, audio) | judges (image, audio) | ceiling |", "|---|---|---|---|---|"]
    for spec, c in corpora.items():
        # JSONs written before the image judge followed the image size judged every image with LeNet-5
        lines.append(f"| `{spec}` | {c['n_classes']} | {c['shapes'][0]}, {c['shapes'][1]} ({c['audio']}) | "
                     f"{c['judges']['image']:.3f} ({c.get('image_judge', 'lenet5')}), {c['judges']['audio']:.3f} | "
                     f"{c['ceiling']:.3f} |")
    lines += ["", "| corpus | rate | s to 0.9 x ceiling (hits) | best sync rate (κ-credited) | best / ceiling | transfer image->audio "
              "| transfer audio->image | transfer s (both ways) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        secs = r["transfer_seconds_a_to_b"][0] + r["transfer_seconds_b_to_a"][0]
        lines.append(f"| `{r['corpus']}` | {r['rate']} | {_cell(r['seconds'], '{:.0f}')} ({r['hits']}/{len(r['seeds'])}) | "
                     f"{_cell(r['best'])} | {_cell(r['ratio'])} | {_cell(r['transfer_a_to_b'])} | "
                     f"{_cell(r['transfer_b_to_a'])} | {secs:.1f} |")
    last = last_line(rows)
    lines += ["", f"![best sync rate / ceiling per corpus and rate]({path.with_suffix('.png').name})", "",
              f"`{last}`", ""]
    lines += [f"git commit {p['git_commit']}, torch {p['versions']['torch']}, {p['created_utc']}."
              for p in meta.get("provenances", [meta["provenance"]])]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\n".join(lines) + "\n")
    plot(rows, path.with_suffix(".png"))
    write_json(path.with_suffix(".json"), meta)
    return last


def _share(meta: dict) -> tuple[int, int]:
    """(torch threads per run, runs at a time) of a benchmark's JSON (earlier versions: one thread, two at a time)."""
    return meta.get("threads", 1), meta.get("parallel", 2)


def _threads(meta: dict) -> str:
    """How the runs shared the machine, in words."""
    threads, parallel = _share(meta)
    each = "one torch thread" if threads == 1 else f"{threads} torch threads"
    return f"{each}, {'one run' if parallel == 1 else f'{parallel} runs'} at a time"


def last_line(rows: list[dict]) -> str:
    worst = min(r["ratio"][0] for r in rows)
    transfer = min(r[f"transfer_{d}"][0] for r in rows for d in ("a_to_b", "b_to_a"))
    return f"worst_ceiling_ratio={worst:.3f} transfer_min={transfer:.3f}"


def merged(metas: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of this benchmark as one: their runs and corpora together, their commands one after
    another; seeds, rates and wall time over all of them. A later JSON's runs of a (corpus, rate) replace an
    earlier one's (a rerun of some rows keeps the others)."""
    shares = {_share(m) for m in metas}
    if len(shares) > 1:
        raise SystemExit(f"generalization: these JSONs ran with different threads/parallel {sorted(shares)}: "
                         "report them apart")
    out = dict(metas[0])
    out["provenances"] = [p for m in metas for p in m.get("provenances", [m["provenance"]])]  # each invocation's
    for m in metas[1:]:
        redone = {(r["corpus"], r["rate"]) for r in m["runs"]}
        out["runs"] = [*(r for r in out["runs"] if (r["corpus"], r["rate"]) not in redone), *m["runs"]]
        out["corpora"] = {**out["corpora"], **m["corpora"]}
        out["command"] = f"{out['command']}; {m['command']}"
        out["seeds"] = sorted({*out["seeds"], *m["seeds"]})
        out["rates"] = sorted({*out["rates"], *m["rates"]}, reverse=True)
        out["wall_minutes"] = out.get("wall_minutes", 0) + m.get("wall_minutes", 0)
    return out


def main() -> None:
    import xmodal_cli

    xmodal_cli.load_platform_package()
    from platform.provenance import provenance, write_json

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", nargs="+", default=CORPORA, help="corpus specs: name or name:key=value;key=value")
    ap.add_argument("--rates", nargs="+", type=float, default=[1.0, 0.4, 0.1])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=600.0, help="wall seconds per run (10 minutes)")
    ap.add_argument("--eval-every", type=int, default=50, help="steps between evaluations")
    ap.add_argument("--eval-samples", type=int, default=500)
    ap.add_argument("--transfer-samples", type=int, default=200)
    ap.add_argument("--set", dest="config_set", action="append", default=[], metavar="KEY=VALUE",
                    help="SyncGANConfig override for every run (a contender against the defaults)")
    ap.add_argument("--parallel", type=int, default=2, help="runs at once")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of each run (cores / --parallel)")
    ap.add_argument("--data", default=str(ROOT / "data"))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "generalization.md")
    ap.add_argument("--from-json", type=Path, nargs="+", metavar="JSON",
                    help="no runs: the report again from earlier JSONs (several: their runs together, each command "
                         "kept; a later JSON's runs of a corpus and rate replace an earlier one's)")
    args = ap.parse_args()
    if args.from_json:
        meta = merged([json.loads(p.read_text()) for p in args.from_json])
        print(write_report(args.out, summarize(meta["runs"], meta["corpora"]), meta["corpora"], meta))
        return

    from data_prep.cli import parse_sets

    corpora = {spec: prepare(spec, Path(args.data)) for spec in args.corpora}
    config_set = parse_sets(args.config_set)
    jobs = [{"name": "default", "config": {}, "config_set": config_set, "rate": rate, "seed": seed,
             "budget": args.budget, "eval_every": args.eval_every, "eval_samples": args.eval_samples,
             "targets": (), "stop_at": FRACTION * c["ceiling"], "n_classes": c["n_classes"],
             "corpus_dir": c["corpus_dir"], "classifier_path": c["classifier_path"], "corpus": spec,
             "transfer_samples": args.transfer_samples, "threads": args.threads}
            for seed in args.seeds for rate in args.rates for spec, c in corpora.items()]
    meta: dict[str, Any] = {"command": " ".join([".venv/bin/python benchmarks/generalization.py", *sys.argv[1:]]),
                            "corpora": corpora, "seeds": args.seeds, "rates": args.rates, "budget": args.budget,
                            "eval_every": args.eval_every, "eval_samples": args.eval_samples,
                            "transfer_samples": args.transfer_samples, "config_set": config_set,
                            "threads": args.threads, "parallel": args.parallel,
                            "provenance": provenance(), "runs": []}
    partial = args.out.with_suffix(".partial.json")
    started = time.time()
    with mp.get_context("spawn").Pool(args.parallel, maxtasksperchild=1) as pool:
        for job, r in zip(jobs, pool.imap(run_one, jobs)):
            r["corpus"] = job["corpus"]
            meta["runs"].append(r)
            meta["wall_minutes"] = (time.time() - started) / 60
            write_json(partial, meta)
            hit = next((p for p in r["curve"] if reaches(p, job["stop_at"], job["n_classes"])), None)
            t = r["transfer"]
            print(f"{job['corpus']} rate {job['rate']} seed {job['seed']}: target {job['stop_at']:.3f} "
                  f"{'at %.0f s (step %d)' % (hit['seconds'], hit['step']) if hit else 'missed'}, last sync "
                  f"{r['last'].get('sync_rate', math.nan):.3f} kappa {r['last'].get('sync_kappa', math.nan):.3f}; transfer "
                  f"{t.get('transfer_acc_a_to_b', math.nan):.3f} / {t.get('transfer_acc_b_to_a', math.nan):.3f}", flush=True)
    rows = summarize(meta["runs"], corpora)
    last = write_report(args.out, rows, corpora, meta)
    partial.unlink(missing_ok=True)
    print(last)


if __name__ == "__main__":
    main()

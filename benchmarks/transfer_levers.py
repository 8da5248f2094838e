"""Transfer levers side by side: every transfer method on the same trained SyncGANs, and the VAE's audio -> image.

Issue 32 item 2: transfer accuracy both ways, on the same test pairs, of each contender below, applied to
the same models: per corpus and seed one run of ``SyncGANConfig``'s defaults (``time_to_quality.run_one``,
one core, stopped at 0.9 x the corpus's ceiling or the wall budget, as ``generalization.py``), kept; then
every contender translates ``--samples`` test pairs with it (``evaluation_rows``: the classes in turn). Beside them the VAE of the seed
slides, trained with the same seed on ``quality.py``'s CPU budget (``quality.CONFIGS["cpu"]["vae"]``: 20
epochs of batch 32, KL warm-up; ``--vae-epochs`` other), translates the same clips into images: the
audio -> image figure to match.

    .venv/bin/python benchmarks/transfer_levers.py                                  # mnist_spoken, 3 seeds
    .venv/bin/python benchmarks/transfer_levers.py --corpora mnist_fashion_offline "instruments_offline:audio=log_mel"

Contenders: ``recovery`` (the paper: random starts, the best reconstruction wins), ``classes`` (S's class
heads pick the category), ``codes`` (S's class heads pick the starting codes among every category's draws)
at 8 and 32 draws a category, and ``codes`` without descent (of the two codes the heads rank first, the one
whose source-modality output is closer to the source).

Writes ``docs/results/transfer_levers.md`` and a JSON with every figure, the resolved configs, versions and
git commit. Last line: ``a_to_b=<median image->audio of the best contender> b_to_a=<median audio->image>
vae_b_to_a=<median of the VAE> best=<its name>`` for the first corpus (the best: highest median minimum
over both directions).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generalization import FRACTION, prepare  # noqa: E402
from quality import CONFIGS  # noqa: E402
from time_to_quality import run_one  # noqa: E402

CONTENDERS: dict[str, dict[str, Any]] = {
    "recovery": {"method": "recovery", "steps": 30, "restarts": 2},
    "classes": {"method": "classes", "steps": 30, "restarts": 2},
    "codes": {"method": "codes", "steps": 30, "restarts": 2, "category_draws": 8},
    "codes_32": {"method": "codes", "steps": 30, "restarts": 2, "category_draws": 32},
    "codes_8_no_descent": {"method": "codes", "steps": 0, "restarts": 2, "category_draws": 8},
    "codes_32_no_descent": {"method": "codes", "steps": 0, "restarts": 2, "category_draws": 32},
}
"""Name -> ``transfer_method`` and ``TransferConfig`` fields (whatever the models' own ``transfer_*`` settings):
30 steps from 2 starts was the recipe's recovery budget before ``codes``."""


def translator(model: Any, contender: dict[str, Any], seed: int):
    """``translate(x, direction)`` as ``SyncGAN.translate`` builds it, with the contender's method and settings."""
    import torch

    from trainables.syncgan.config import TRANSFER_SETTINGS
    from trainables.transfer import TransferConfig, transfer

    starts, select = TRANSFER_SETTINGS[contender["method"]]
    fields = {k: v for k, v in contender.items() if k != "method"}
    tcfg = TransferConfig(**{"starts": starts, "select": select, "seed": seed, **fields})

    def translate(x: torch.Tensor, direction: str) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            out, rec = transfer(model, x, direction, tcfg)
        return out, rec.loss

    return translate


def measure(job: dict[str, Any]) -> dict[str, Any]:
    """Every contender on one kept SyncGAN (or the VAE's audio -> image), on ``samples`` test pairs (the classes in turn)."""
    import torch

    torch.set_num_threads(1)
    from trainables.checkpoint import load_checkpoint
    from trainables.classifiers import load_classifiers
    from trainables.config import from_dict
    from trainables.data import evaluation_rows, load_split, read_manifest
    from trainables.metrics import evaluate_transfer, transfer_accuracy
    from trainables.registry import build_model, get_trainable

    trainable = get_trainable(job["model"])
    cfg = from_dict(trainable.config_cls, job["config"])
    model = build_model(trainable, cfg, read_manifest(cfg.corpus_dir))
    load_checkpoint(model, job["checkpoint"])
    clf_a, clf_b, _ = load_classifiers(cfg.classifier_path)
    test = load_split(cfg.corpus_dir, "test")
    rows = evaluation_rows(test.label, job["samples"])
    x_a, x_b, y = test.images(rows), test.audios(rows), torch.from_numpy(test.label[rows])
    if job["model"] != "syncgan":
        t0 = time.perf_counter()
        images, _ = model.translate(x_b, "b_to_a")
        return {"vae": {"transfer_acc_b_to_a": transfer_accuracy(clf_a, images, y),
                        "transfer_seconds_b_to_a": time.perf_counter() - t0}}
    return {name: evaluate_transfer(translator(model, c, cfg.seed), x_a, x_b, y, clf_a, clf_b)
            for name, c in CONTENDERS.items()}


def train_vae(job: dict[str, Any]) -> dict[str, Any]:
    """The VAE of ``quality.py``'s CPU budget (``epochs`` epochs) on one thread; its last checkpoint is kept."""
    import shutil

    import torch

    torch.set_num_threads(1)
    from trainables.config import from_dict, to_dict
    from trainables.loop import fit
    from trainables.vae.config import VAEConfig

    cfg = from_dict(VAEConfig, {**CONFIGS["cpu"]["vae"], "epochs": job["epochs"], "seed": job["seed"], "semi_rate": job["rate"],
                                "corpus_dir": job["corpus_dir"], "classifier_path": job["classifier_path"]})
    last: dict[str, Any] = {}

    def report(metrics: dict, checkpoint: Any) -> None:
        last.update({k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
        if checkpoint and int(metrics.get("epoch", 0)) >= cfg.epochs:
            shutil.copytree(checkpoint, job["keep"], dirs_exist_ok=True)

    t0 = time.perf_counter()
    fit("vae", cfg, report, hparams=False)
    return {"config": to_dict(cfg), "seconds": time.perf_counter() - t0, "last": last}


def kept_name(kind: str, spec: str, seed: int) -> str:
    """The kept model's directory name: its kind, corpus spec (file-name safe) and seed."""
    return f"{kind}-{''.join(c if c.isalnum() or c in '-_' else '_' for c in spec)}-{seed}"


def kept_runs(pool: Any, train: Any, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``train(job)`` for every job whose model is not kept yet (``job["keep"]`` and its JSON), in ``pool``;
    the results of the others are read back."""
    from platform.provenance import write_json

    todo = [j for j in jobs if not (Path(j["keep"]).is_dir() and Path(j["keep"] + ".json").is_file())]
    for job, result in zip(todo, pool.map(train, todo, chunksize=1)):
        write_json(Path(job["keep"] + ".json"), result)
    return [json.loads(Path(j["keep"] + ".json").read_text()) for j in jobs]


def _stat(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), min(xs), max(xs)


def _cell(xs: list[float]) -> str:
    med, lo, hi = _stat(xs)
    return f"{med:.3f} ({lo:.3f}–{hi:.3f})"


def table(corpus: str, results: list[dict[str, Any]]) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """Markdown rows for one corpus (one result per seed) and each contender's median (a_to_b, b_to_a)."""
    rows, medians = [], {}
    for name in CONTENDERS:
        a = [r["transfer"][name]["transfer_acc_a_to_b"] for r in results]
        b = [r["transfer"][name]["transfer_acc_b_to_a"] for r in results]
        secs = [r["transfer"][name]["transfer_seconds_a_to_b"] + r["transfer"][name]["transfer_seconds_b_to_a"] for r in results]
        medians[name] = (statistics.median(a), statistics.median(b))
        rows.append(f"| `{corpus}` | {name} | {_cell(a)} | {_cell(b)} | {statistics.median(secs):.1f} |")
    vae = [r["vae"]["transfer_acc_b_to_a"] for r in results if r.get("vae")]
    if vae:
        rows.append(f"| `{corpus}` | VAE ({results[0]['vae_epochs']} epochs) | – | {_cell(vae)} | "
                    f"{statistics.median(r['vae']['transfer_seconds_b_to_a'] for r in results if r.get('vae')):.1f} |")
        medians["vae"] = (float("nan"), statistics.median(vae))
    return rows, medians


def write_report(path: Path, meta: dict[str, Any]) -> str:
    lines = ["# Transfer levers side by side", "",
             "Written by `benchmarks/transfer_levers.py`; do not edit by hand. Reproduce with:", "",
             f"    {meta['command']}", "",
             f"Per corpus and seed one SyncGAN of the default recipe (rate {meta['rate']}, one core, stopped at "
             f"{FRACTION} x the corpus's ceiling or after {meta['budget']:.0f} s), then every contender translates the "
             f"{meta['samples']} test pairs with that model (the classes in turn, `trainables.data.evaluation_rows`); the VAE translates the same clips. Seeds "
             f"{meta['seeds']}; cells: median (range over seeds). Transfer seconds: both ways, one core. Wall time: "
             f"{meta['wall_minutes']:.0f} min.", "",
             "| corpus | contender | image -> audio | audio -> image | s (both ways) |", "|---|---|---|---|---|"]
    first = None
    for corpus, results in meta["results"].items():
        rows, medians = table(corpus, results)
        lines += rows
        first = first or medians
    best = max(CONTENDERS, key=lambda c: min(first[c]))
    last = (f"a_to_b={first[best][0]:.3f} b_to_a={first[best][1]:.3f} "
            f"vae_b_to_a={first.get('vae', (0, float('nan')))[1]:.3f} best={best}")
    prov = meta["provenance"]
    lines += ["", f"`{last}`", "", f"git commit {prov['git_commit']}, torch {prov['versions']['torch']}, "
              f"{prov['created_utc']}."]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    from platform.provenance import write_json
    write_json(path.with_suffix(".json"), meta)
    return last


def main() -> None:
    import xmodal_cli

    xmodal_cli.load_platform_package()
    from platform.provenance import provenance

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", nargs="+", default=["mnist_spoken"], help="corpus specs: name or name:key=value;key=value")
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=600.0, help="wall seconds per SyncGAN run")
    ap.add_argument("--samples", type=int, default=200, help="test pairs translated")
    ap.add_argument("--vae-epochs", type=int, default=CONFIGS["cpu"]["vae"]["epochs"], help="the VAE's epochs (0: no VAE)")
    ap.add_argument("--parallel", type=int, default=2, help="runs at once (one core each)")
    ap.add_argument("--data", default=str(ROOT / "data"))
    ap.add_argument("--keep", type=Path, help="keep the trained models here; a model already kept there (its "
                    "checkpoint and JSON) is measured again, not retrained (default: a new temporary directory)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "transfer_levers.md")
    args = ap.parse_args()

    corpora = {spec: prepare(spec, Path(args.data)) for spec in args.corpora}
    keep = args.keep or Path(tempfile.mkdtemp(prefix="transfer-levers-"))
    keep.mkdir(parents=True, exist_ok=True)
    started = time.time()
    runs = [(spec, seed) for spec in corpora for seed in args.seeds]
    gan_jobs = [{"name": "default", "config": {}, "rate": args.rate, "seed": seed, "budget": args.budget,
                 "eval_every": 50, "eval_samples": 500, "targets": (), "stop_at": FRACTION * corpora[spec]["ceiling"],
                 "n_classes": corpora[spec]["n_classes"], "corpus_dir": corpora[spec]["corpus_dir"],
                 "classifier_path": corpora[spec]["classifier_path"], "keep": str(keep / kept_name("gan", spec, seed))}
                for spec, seed in runs]
    vae_jobs = [{"epochs": args.vae_epochs, "seed": seed, "rate": args.rate, "corpus_dir": corpora[spec]["corpus_dir"],
                 "classifier_path": corpora[spec]["classifier_path"], "keep": str(keep / kept_name("vae", spec, seed))}
                for spec, seed in runs] if args.vae_epochs else []
    with mp.get_context("spawn").Pool(args.parallel, maxtasksperchild=1) as pool:
        gans = kept_runs(pool, run_one, gan_jobs)
        vaes = kept_runs(pool, train_vae, vae_jobs)
        measure_jobs = [{"model": "syncgan", "config": g["config"], "checkpoint": j["keep"], "samples": args.samples}
                        for g, j in zip(gans, gan_jobs)]
        measure_jobs += [{"model": "vae", "config": v["config"], "checkpoint": j["keep"], "samples": args.samples}
                         for v, j in zip(vaes, vae_jobs)]
        measured = pool.map(measure, measure_jobs, chunksize=1)
    results: dict[str, list[dict[str, Any]]] = {spec: [] for spec in corpora}
    for i, ((spec, seed), gan) in enumerate(zip(runs, gans)):
        entry = {"seed": seed, "run": gan, "transfer": measured[i], "vae_epochs": args.vae_epochs}
        if vaes:
            entry.update(vae=measured[len(runs) + i]["vae"], vae_run=vaes[i])
        results[spec].append(entry)
    meta = {"command": " ".join([".venv/bin/python benchmarks/transfer_levers.py", *sys.argv[1:]]),
            "corpora": corpora, "rate": args.rate, "seeds": args.seeds, "budget": args.budget, "samples": args.samples,
            "contenders": CONTENDERS, "wall_minutes": (time.time() - started) / 60, "provenance": provenance(),
            "results": results}
    print(write_report(args.out, meta))


if __name__ == "__main__":
    main()

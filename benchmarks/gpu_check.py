"""The Python steps of ``benchmarks/gpu_check.sh`` (see there): speed, the slides' VAE / VAE-GAN budget, report.

    python benchmarks/gpu_check.py speed  --corpus-dir DIR --out speed.json [--dry-run]
    python benchmarks/gpu_check.py slides --corpus-dir DIR --model vaegan --budget 80 --out vaegan.json [--dry-run]
    python benchmarks/gpu_check.py report --results DIR --out report.md

Reads a built corpus (``benchmarks/gpu_pack.py`` packs one with its judges): nothing is featurized here,
so it runs where librosa and soundfile are missing. ``--dry-run``: a few tiny steps, on any device.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

# Dense bf16 tensor-core peaks from NVIDIA's datasheets (TFLOP/s, no sparsity), by a name fragment of
# torch.cuda.get_device_name(); checked in order. Unlisted cards: only the measured matmul figure.
BF16_PEAK_TFLOPS = (("H200", 989.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("A100", 312.0), ("L40S", 362.0),
                    ("L4", 121.0), ("A10G", None), ("A10", 125.0))
# The recipes timed: name -> (trainable, config). ``syncgan_semi``: a trial of the default study as the
# `gpu` preset runs it (batch 64, amp auto = fp16 on CUDA); the others in bf16 at GPU batch sizes.
RECIPES: dict[str, tuple[str, dict[str, Any]]] = {
    "syncgan_semi": ("syncgan", {"semi_rate": 0.4, "amp": "auto", "eval_samples": 500, "transfer_samples": 100}),
    "syncgan_b128": ("syncgan", {"batch_size": 128, "amp": "bf16"}),
    "vae_slides": ("vae", {"amp": "bf16"}),
    "vaegan_slides": ("vaegan", {"amp": "bf16"}),
}
SEMI_TRIAL = {"epochs": 12, "steps_per_epoch": 50}  # platform/studies/syncgan_semi.yaml


def device_name(device: str) -> str:
    return torch.cuda.get_device_name(0) if device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"


def datasheet_peak(name: str) -> float | None:
    return next((peak for fragment, peak in BF16_PEAK_TFLOPS if fragment in name), None)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_tflops(device: str, n: int, reps: int) -> float:
    """Achieved bf16 (CUDA) or float32 (CPU) matmul TFLOP/s: the card's practical peak, measured."""
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12


def build(trainable: str, values: dict[str, Any], corpus: Path, clf: Path, device: str):
    """(config, model on ``device`` with its precision, a step function over the corpus's training rows)."""
    from trainables.config import from_dict
    from trainables.data import labelled_mask, load_split
    from trainables.precision import Precision
    from trainables.registry import get_trainable

    spec = get_trainable(trainable)
    cfg = from_dict(spec.config_cls, {"corpus_dir": str(corpus), "classifier_path": str(clf), **values})
    train = load_split(corpus, "train")
    torch.manual_seed(0)
    model = spec.model_cls(cfg, train.image.shape[2:], train.audio.shape[2:]).to(device)
    model.precision = Precision(cfg.amp, device)
    mask = labelled_mask(train.pair_id, cfg.semi_rate, cfg.seed)
    if hasattr(model, "bind_train_data"):
        model.bind_train_data(train.image, train.audio, train.label, mask, device)
    n = len(train) // cfg.batch_size
    batches = [(train.images(slice(i * cfg.batch_size, (i + 1) * cfg.batch_size)).to(device),
                train.audios(slice(i * cfg.batch_size, (i + 1) * cfg.batch_size)).to(device),
                torch.from_numpy(train.label[i * cfg.batch_size:(i + 1) * cfg.batch_size]).to(device),
                torch.from_numpy(mask[i * cfg.batch_size:(i + 1) * cfg.batch_size]).to(device)) for i in range(min(n, 8))]
    state = {"i": 0}

    def step() -> None:
        model.train_step(*batches[state["i"] % len(batches)])
        state["i"] += 1

    return spec, cfg, model, step


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """Steps/s, GFLOP/step and achieved TFLOP/s of each recipe; the evaluation's seconds; a syncgan_semi
    trial's seconds on this card (12 epochs of 50 steps, an evaluation each, transfer in the last)."""
    from torch.utils.flop_counter import FlopCounterMode

    device, clf = args.device, classifier(args.corpus_dir)
    steps = 3 if args.dry_run else args.steps
    name = device_name(device)
    n = 256 if args.dry_run else 8192
    out: dict[str, Any] = {"device": name, "torch": torch.__version__, "cuda": torch.version.cuda,
                           "datasheet_bf16_tflops": datasheet_peak(name) if device == "cuda" else None,
                           "matmul": f"{n}^3, {'bf16' if device == 'cuda' else 'float32'}",
                           "matmul_tflops": matmul_tflops(device, n, 3 if args.dry_run else 20), "recipes": {}}
    for recipe, (trainable, values) in RECIPES.items():
        if args.dry_run:
            values = {**values, "batch_size": 16, "eval_samples": 20,
                      **({"transfer_samples": 4, "transfer_steps": 2} if trainable == "syncgan" else {"width": 8})}
        spec, cfg, model, step = build(trainable, {**values, "sync_warmup_steps": 0} if trainable == "syncgan" else values,
                                       args.corpus_dir, clf, device)
        for _ in range(2):
            step()  # allocator and cuDNN warm-up
        with FlopCounterMode(display=False) as counter:
            step()
        sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        sync(device)
        steps_s = steps / (time.perf_counter() - t0)
        gflop = counter.get_total_flops() / 1e9
        row = {"trainable": trainable, "batch_size": cfg.batch_size, "amp": model.precision.mode, "steps_s": steps_s,
               "gflop_per_step": gflop, "tflops": gflop * steps_s / 1e3}
        if recipe == "syncgan_semi":
            evaluator = spec.evaluator_cls(model, cfg, json.loads((args.corpus_dir / "manifest.json").read_text()), device)
            row["eval_seconds"] = timed(lambda: evaluator.metrics(False), device)
            row["final_eval_seconds"] = timed(lambda: evaluator.metrics(True), device)
            e, s = SEMI_TRIAL["epochs"], SEMI_TRIAL["steps_per_epoch"]
            row["trial_seconds"] = e * s / steps_s + (e - 1) * row["eval_seconds"] + row["final_eval_seconds"]
        out["recipes"][recipe] = row
        print(f"{recipe}: {steps_s:.1f} steps/s, {gflop:.2f} GFLOP/step, {row['tflops']:.2f} TFLOP/s", flush=True)
    return out


def timed(fn: Callable[[], Any], device: str) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


class _Budget(Exception):
    pass


def slides(args: argparse.Namespace) -> dict[str, Any]:
    """The slides' VAE or VAE-GAN at their own budget (100 epochs, batch 128, their defaults) on this corpus,
    stopped after the last epoch that ends within ``--budget`` seconds: the epochs done say what fit."""
    from trainables.config import from_dict
    from trainables.loop import fit
    from trainables.registry import get_trainable

    spec = get_trainable(args.model)
    values = {"corpus_dir": str(args.corpus_dir), "classifier_path": str(classifier(args.corpus_dir)), "eval_samples": 500}
    if args.dry_run:
        values.update(epochs=2, steps_per_epoch=2, batch_size=16, width=8, eval_samples=20)
    cfg = from_dict(spec.config_cls, values)
    curve: list[dict[str, float]] = []
    t0 = time.perf_counter()

    def report(metrics: dict, _checkpoint: Any) -> None:
        curve.append({"epoch": metrics["epoch"], "seconds": time.perf_counter() - t0,
                      "image_acc_from_audio": metrics["image_acc_from_audio"]})
        per_epoch = curve[-1]["seconds"] / len(curve)
        if metrics["epoch"] < cfg.epochs and curve[-1]["seconds"] + per_epoch > args.budget:
            raise _Budget

    try:
        fit(spec, cfg, report, device=args.device, hparams=False)
    except _Budget:
        pass
    best = max(curve, key=lambda p: p["image_acc_from_audio"]) if curve else {}
    return {"model": args.model, "device": device_name(args.device), "epochs_planned": cfg.epochs,
            "batch_size": cfg.batch_size, "amp": cfg.amp, "width": cfg.width, "budget_seconds": args.budget,
            "epochs_done": curve[-1]["epoch"] if curve else 0, "seconds": curve[-1]["seconds"] if curve else 0.0,
            "last_acc": curve[-1]["image_acc_from_audio"] if curve else math.nan,
            "best_acc": best.get("image_acc_from_audio", math.nan), "best_epoch": best.get("epoch"), "curve": curve}


def classifier(corpus: Path) -> Path:
    """The corpus's one packed judge file (``benchmarks/gpu_pack.py`` packs exactly one)."""
    found = sorted(corpus.glob("classifiers-*.pt"))
    if len(found) != 1:
        raise SystemExit(f"{corpus}: expected one classifiers-*.pt (benchmarks/gpu_pack.py), found {len(found)}")
    return found[0]


def report(args: argparse.Namespace) -> str:
    """The Markdown report of one gpu_check.sh run, from the JSON files its steps left in ``--results``."""
    res = args.results

    def load(name: str) -> dict:
        path = res / name
        return json.loads(path.read_text()) if path.is_file() else {}

    steps, meta, sp = load("steps.json"), load("meta.json"), load("speed.json")
    lines = [f"# GPU check: {sp.get('device') or meta.get('device', 'device unknown')}", "",
             "Written by `benchmarks/gpu_check.sh`" + (" **--dry-run** (tiny steps: no figure below means anything)"
                                                       if meta.get("dry_run") else "") + f"; {meta.get('date', '')}, "
             f"git {meta.get('git', 'unknown')}, torch {sp.get('torch', '?')} (CUDA {sp.get('cuda')}), "
             f"Python {meta.get('python', '?')}; corpus `{meta.get('corpus', '?')}`.", "",
             "| step | status | seconds |", "|---|---|---|"]
    for name, s in steps.items():
        lines.append(f"| {name} | {'ok' if s['rc'] == 0 else ('timed out' if s['rc'] == 124 else 'failed (rc %d)' % s['rc'])} "
                     f"| {s['seconds']} |")
    lines += ["", "## Tests marked gpu", "", "```", load_text(res / "gpu_tests.txt") or "(no output)", "```", ""]
    if sp:
        peak = sp.get("datasheet_bf16_tflops")
        lines += ["## Steps/s and achieved TFLOP/s", "",
                  f"Measured matmul ({sp.get('matmul', '?')}): **{sp['matmul_tflops']:.3g} TFLOP/s**; datasheet dense bf16 peak: "
                  f"{f'{peak:.0f} TFLOP/s' if peak else 'not listed for this card'}. FLOPs per step from "
                  "`torch.utils.flop_counter` (matmuls and convolutions).", "",
                  "| recipe | batch | precision | steps/s | GFLOP/step | TFLOP/s | % of matmul | % of datasheet |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, r in sp["recipes"].items():
            pct = f"{100 * r['tflops'] / peak:.2f} %" if peak else "—"
            lines.append(f"| {name} | {r['batch_size']} | {r['amp']} | {r['steps_s']:.1f} | {r['gflop_per_step']:.2f} | "
                         f"{r['tflops']:.3f} | {100 * r['tflops'] / sp['matmul_tflops']:.2f} % | {pct} |")
        semi = sp["recipes"].get("syncgan_semi", {})
        if "trial_seconds" in semi:
            lines += ["", f"**Per-card figure for docs/clusters.md**: one `syncgan_semi` trial (12 epochs of 50 steps at "
                      f"batch 64, amp auto, an evaluation of 500 codes each epoch, transfer in the last) takes "
                      f"**{semi['trial_seconds']:.0f} s** of training and evaluation on this card "
                      f"({semi['steps_s']:.1f} steps/s, {semi['eval_seconds']:.2f} s an evaluation, "
                      f"{semi['final_eval_seconds']:.1f} s the last), worker start-up not included.",
                      "", "With it, docs/clusters.md's derivation for `cluster/gpu.yaml` (4 trials at once on 4 g5.xlarge at "
                      f"$1.01/h, T_start 30 s, 10 idle minutes; valid as it stands only where this card is the cluster's): "
                      f"the study takes T_prep + T_node + {30 + semi['trial_seconds']:.0f} s and costs "
                      f"${4 * 1.01 * (30 + semi['trial_seconds'] + 600) / 3600:.2f} + $0.067 a minute of T_node "
                      "(+ the head's $0.19/h)."]
    ttq = load_text(res / "time_to_quality.md")
    lines += ["", "## Time to quality (SyncGAN, mnist_spoken)", "", meta.get("ttq_settings", ""), "",
              _demote(ttq) if ttq else "(no result)"]
    lines += ["", "## The slides' VAE and VAE-GAN at their own budget", "",
              "100 epochs at batch 128 with the slides' settings (the configs' defaults) on this corpus, each run "
              "stopped after the last epoch that ends within its budget; both runs share the card.", "",
              "| model | epochs done / planned | seconds | budget s | image accuracy from audio, last | best (epoch) |",
              "|---|---|---|---|---|---|"]
    for model in ("vae", "vaegan"):
        s = load(f"slides_{model}.json")
        if s:
            lines.append(f"| {model} | {s['epochs_done']} / {s['epochs_planned']} | {s['seconds']:.0f} | {s['budget_seconds']:.0f} | "
                         f"{s['last_acc']:.3f} | {s['best_acc']:.3f} ({s['best_epoch']}) |")
        else:
            lines.append(f"| {model} | no result | | | | |")
    return "\n".join(lines) + "\n"


def load_text(path: Path) -> str:
    return path.read_text().strip() if path.is_file() else ""


def _demote(markdown: str) -> str:
    """An embedded report: its title dropped, other headings two levels down, no image links (the PNG
    stays behind)."""
    out = []
    for line in markdown.splitlines():
        if line.startswith("![") or (line.startswith("# ") and not out):
            continue
        out.append("##" + line if line.startswith("#") else line)
    return "\n".join(out).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("speed", "slides"):
        p = sub.add_parser(name)
        p.add_argument("--corpus-dir", type=Path, required=True)
        p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--dry-run", action="store_true")
    sub.choices["speed"].add_argument("--steps", type=int, default=200, help="timed steps per recipe")
    sub.choices["slides"].add_argument("--model", choices=["vae", "vaegan"], required=True)
    sub.choices["slides"].add_argument("--budget", type=float, default=80.0, help="wall seconds")
    p = sub.add_parser("report")
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.command == "report":
        args.out.write_text(report(args))
        print(f"wrote {args.out}")
        return 0
    if args.command == "speed":
        result = speed(args)
    else:
        result = slides(args)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

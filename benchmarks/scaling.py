"""Data-parallel scaling of Ray Train on this machine: 1, 2 and 4 workers, bucket against per-tensor averaging.

For SyncGAN and VAE-GAN, side by side in one run: samples/s of 1, 2 and 4 Ray Train workers (one CPU and
one torch thread each, ``OMP_NUM_THREADS=1``; more workers than cores oversubscribe them, as asked), their
weak scaling (samples/s of W workers / (W x 1 worker's)), the communication share of a step (rank 0's
time in the gradient all-reduces / its training time), collectives and bytes all-reduced per step against
4 bytes x the model's parameter count (1.00: every parameter reduced once), each with
``grad_averaging: bucket`` (one all-reduce per optimizer step, the default) and ``per_tensor`` (one per
parameter tensor, the averaging before issue 35). Then the same on a local 2-node cluster
(``cluster/local.sh``: a head and a worker node of 1 CPU each, so 2 workers run one per node).

Throughput is steady state, as in ``train_throughput.py``: rank 0's steps over the epochs after the
first, timed inside the loop (``epoch_seconds``: no start-up, evaluation or checkpointing); the runs'
wall time is printed beside it. Runs alternate over ``--repeats`` and each keeps its best.
Corpus ``mnist_spoken`` (built if missing), batch 64 a worker; SyncGAN at its defaults without the
synchronizer warm-up (``sync_warmup_steps: 0``: identical steps from the first), VAE-GAN at width 32
(its CPU size in ``benchmarks/quality.py``).

    .venv/bin/python benchmarks/scaling.py                          # the measurement (quiet machine)
    .venv/bin/python benchmarks/scaling.py --epochs 2 --steps 2 --workers 1 2 --no-multinode   # smoke run

Last line: ``weak_scaling_2=<2 workers' samples/s / (2 x 1 worker's), bucket averaging, the lower of the
two models>`` followed by each model's figure and the per-tensor figure.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import xmodal_cli  # noqa: E402  (run as a script: `platform` is the stdlib's until this loads ours)

xmodal_cli.load_platform_package()
sys.path.insert(0, str(ROOT / "benchmarks"))
from step_cost import matmul_gflops  # noqa: E402  (the machine's figure, as step_cost.py measures it)

MODELS: dict[str, dict[str, Any]] = {
    "syncgan": {"sync_warmup_steps": 0, "transfer_samples": 0},
    "vaegan": {"width": 32},
}
MODES = ("bucket", "per_tensor")


def steady(reports: list[dict]) -> dict[str, float]:
    """Rank 0's steady state over the epochs after the first: steps/s and the gradient-averaging figures."""
    later = reports[1:] or reports
    steps = sum(r["steps"] for r in later)
    seconds = sum(r["epoch_seconds"] for r in later)
    out = {"steps_s": steps / seconds}
    if "grad_sync_seconds" in later[0]:
        out.update(comm_share=sum(r["grad_sync_seconds"] for r in later) / seconds,
                   bytes_per_step=sum(r["grad_sync_bytes_per_step"] * r["steps"] for r in later) / steps,
                   collectives_per_step=sum(r["grad_sync_collectives_per_step"] * r["steps"] for r in later) / steps,
                   replica_divergence=max(r["replica_divergence"] for r in later))
    return out


def run(model: str, config: dict, workers: int, mode: str, cpus: float, storage: str) -> dict[str, Any]:
    """One Ray Train run; its steady-state figures (samples/s over all workers) and wall time."""
    from trainables.ray_train import make_trainer

    tb = Path(storage) / f"tb-{uuid.uuid4().hex[:8]}"
    t0 = time.time()
    result = make_trainer(model, {**config, "tb_dir": str(tb)},
                          {"num_workers": workers, "cpus_per_worker": cpus, "max_failures": 0, "startup_retries": 2,
                           "grad_averaging": mode, "keep_checkpoints": 1},
                          name=f"scaling-{uuid.uuid4().hex[:6]}", storage_path=storage, hparams=False).fit()
    wall = time.time() - t0
    if result.error is not None:
        raise RuntimeError(f"{model} x{workers} ({mode}) failed: {result.error}")
    reports = [json.loads(line) for line in (tb / "progress.jsonl").read_text().splitlines()]
    fig = steady(reports)
    return {**fig, "samples_s": fig["steps_s"] * config["batch_size"] * workers, "wall": wall}


def measure(args: argparse.Namespace, corpus: Path, clf: Path, cases: list[tuple[str, int, str]], cpus: float,
            storage: str) -> dict[str, dict]:
    """Every case (model, workers, mode) ``--repeats`` times, alternating; each keeps its best samples/s."""
    best: dict[str, dict] = {}
    for i in range(args.repeats):
        for model, workers, mode in cases:
            config = {**base_config(args, corpus, clf), **MODELS[model]}
            r = run(model, config, workers, mode, cpus, storage)
            key = f"{model}|{workers}|{mode}"
            print(f"  {model} x{workers} {mode}: {r['samples_s']:.1f} samples/s, wall {r['wall']:.0f} s "
                  f"(repeat {i + 1})", flush=True)
            if key not in best or r["samples_s"] > best[key]["samples_s"]:
                best[key] = r
    return best


def base_config(args: argparse.Namespace, corpus: Path, clf: Path) -> dict[str, Any]:
    return dict(corpus_dir=str(corpus), classifier_path=str(clf), batch_size=args.batch_size, epochs=args.epochs,
                steps_per_epoch=args.steps, eval_samples=100, amp="off")


def cases_for(models: list[str], workers: list[int]) -> list[tuple[str, int, str]]:
    """1 worker once per model (no collectives), more workers with each averaging mode."""
    return [(m, w, mode) for m in models for w in workers for mode in (MODES if w > 1 else ("bucket",))]


def param_count(model: str, config: dict, corpus: Path) -> int:
    from trainables.config import from_dict
    from trainables.data import read_manifest, shapes
    from trainables.registry import get_trainable

    spec = get_trainable(model)
    cfg = from_dict(spec.config_cls, config)
    return sum(p.numel() for p in spec.model_cls(cfg, *shapes(read_manifest(corpus))).parameters())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multinode(args: argparse.Namespace) -> dict[str, dict]:
    """The 2-node phase: ``cluster/local.sh up`` (1 CPU a node), this script again as the cluster's driver
    (``--address``), then ``down`` (which stops only that cluster's processes)."""
    state = tempfile.mkdtemp(prefix="xm-scale-", dir="/tmp")  # short: Ray's sockets live under it
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update({"XMODAL_LOCAL_STATE": state, "XMODAL_LOCAL_PORT": str(_free_port()),
                "XMODAL_LOCAL_DASHBOARD_PORT": str(_free_port()), "XMODAL_LOCAL_WORKERS": "1",
                "XMODAL_HEAD_CPUS": "1", "XMODAL_WORKER_CPUS": "1", "OMP_NUM_THREADS": "1",
                "RAY": str(Path(sys.executable).parent / "ray")})
    local_sh = str(ROOT / "cluster" / "local.sh")
    out = Path(state) / "multinode.json"
    try:
        up = subprocess.run(["bash", local_sh, "up"], env=env, capture_output=True, text=True, timeout=300)
        if up.returncode != 0:
            raise RuntimeError(f"cluster/local.sh up failed:\n{up.stdout}\n{up.stderr}")
        exports = dict(re.findall(r"^export (\w+)=(.*)$", up.stdout, re.M))
        argv = [sys.executable, __file__, "--address", exports["RAY_ADDRESS"], "--json", str(out),
                "--models", *args.models, "--workers", "1", "2", "--epochs", str(args.epochs),
                "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
                "--data", args.data]
        child_env = {**env, **{k: v for k, v in exports.items() if k != "RAY_ADDRESS"}}
        subprocess.run(argv, env=child_env, check=True, timeout=args.timeout)
        return json.loads(out.read_text())
    finally:
        subprocess.run(["bash", local_sh, "down"], env=env, capture_output=True, text=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)


def table(rows: dict[str, dict], params: dict[str, int], where: str) -> list[str]:
    lines = [f"| model | {where} | workers | averaging | samples/s | weak scaling | comm share | "
             "collectives/step | bytes/step | bytes / (4 x params) | wall s |", "|---" * 11 + "|"]
    for key, r in rows.items():
        model, workers, mode = key.split("|")
        one = rows.get(f"{model}|1|bucket")
        weak = r["samples_s"] / (int(workers) * one["samples_s"]) if one else float("nan")
        if int(workers) == 1:
            lines.append(f"| {model} | {where} | 1 | — | {r['samples_s']:.1f} | 1.00 | — | 0 | 0 | — | {r['wall']:.0f} |")
            continue
        lines.append(f"| {model} | {where} | {workers} | {mode} | {r['samples_s']:.1f} | {weak:.2f} | "
                     f"{r['comm_share']:.3f} | {r['collectives_per_step']:.0f} | {r['bytes_per_step'] / 1e6:.3f} MB | "
                     f"{r['bytes_per_step'] / (4 * params[model]):.2f} | {r['wall']:.0f} |")
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--workers", nargs="+", type=int, default=[1, 2, 4])
    p.add_argument("--epochs", type=int, default=4, help="epochs a run (the first is not timed)")
    p.add_argument("--steps", type=int, default=25, help="steps per epoch (at most a worker's shard / batch)")
    p.add_argument("--batch-size", type=int, default=64, help="per worker")
    p.add_argument("--repeats", type=int, default=1, help="alternating runs; each case keeps its best")
    p.add_argument("--no-multinode", action="store_true", help="skip the local 2-node cluster")
    p.add_argument("--timeout", type=int, default=3600, help="seconds the 2-node phase may take")
    p.add_argument("--data", default=str(ROOT / "data"))
    p.add_argument("--address", help=argparse.SUPPRESS)  # the 2-node phase: join this cluster
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # Ray's local workers inherit it: one torch thread each

    import ray
    import torch

    import data_prep
    from platform.ray_session import init_ray
    from trainables.classifiers import ensure_classifiers

    corpus = Path(data_prep.build("mnist_spoken", args.data))
    clf = ensure_classifiers(corpus, epochs_image=1, epochs_audio=1)  # evaluation runs, its quality does not matter
    storage = tempfile.mkdtemp(prefix="scaling-")
    cases = cases_for(args.models, sorted(set(args.workers)))
    if args.address:  # the 2-node phase, run by `multinode` in a child process
        init_ray(args.address, log_to_driver=False)
        print(f"2-node cluster: {[n['Resources'].get('CPU') for n in ray.nodes() if n['Alive']]} CPUs", flush=True)
        rows = measure(args, corpus, clf, cases, 0.9, storage)
        args.json.write_text(json.dumps(rows))
        return 0

    cores = os.cpu_count() or 2
    init_ray(num_cpus=max(cores, *args.workers), log_to_driver=False)  # 4 workers at 1 CPU on 2 cores: oversubscribed
    params = {m: param_count(m, {**base_config(args, corpus, clf), **MODELS[m]}, corpus) for m in args.models}
    print(f"machine: {cores} cores, 1-thread matmul {matmul_gflops(1):.0f} GFLOP/s, torch {torch.__version__}, "
          f"ray {ray.__version__}; corpus {corpus.name}, batch {args.batch_size} a worker, {args.epochs} epochs of "
          f"<= {args.steps} steps; parameters {params}", flush=True)
    rows = measure(args, corpus, clf, cases, 1.0, storage)
    ray.shutdown()
    multi = {} if args.no_multinode else multinode(args)
    print()
    for line in table(rows, params, "1 node") + (table(multi, params, "2 nodes")[2:] if multi else []):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"one_node": rows, "two_nodes": multi, "params": params}, indent=2))

    def weak(model: str, mode: str) -> float:
        two, one = rows.get(f"{model}|2|{mode}"), rows.get(f"{model}|1|bucket")
        return two["samples_s"] / (2 * one["samples_s"]) if two and one else float("nan")

    new = {m: weak(m, "bucket") for m in args.models}
    old = {m: weak(m, "per_tensor") for m in args.models}
    print(f"weak_scaling_2={min(new.values()):.3f} " + " ".join(f"{m}={v:.3f}" for m, v in new.items())
          + " per_tensor: " + " ".join(f"{m}={v:.3f}" for m, v in old.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

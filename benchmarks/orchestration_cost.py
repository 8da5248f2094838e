"""What a local study spends outside its training loop: the CPU seconds of every process of the run
against those of the processes that train.

One study (default ``syncgan_semi``, what ``make run`` runs) through ``python -m platform.tune``, side by
side in one run, each way into its own results directory (the same seeded trials, the same work):

- ``torch_trainer``: every one-worker trial runs a TorchTrainer (the way before issue 35 item 5: the
  preset's ``in_process: false``; Ray's dashboard on, its state API serves Train's placement-group cleaner);
- ``in_process``: the default, the trial trains in the Tune trial's own process, no dashboard;
- ``in_process_dashboard`` (``--modes``): the same with ``--dashboard``, the dashboard's own cost.

The corpus and the judges are built (or found) first, outside the measurement. While a study runs, this
process is the child subreaper of everything it starts (``prctl(PR_SET_CHILD_SUBREAPER)``: Ray's daemons
and workers stay its descendants whatever their parents do) and reads each descendant's CPU time
(user + system) from ``/proc`` every ``--interval`` seconds. The training processes are those that ran
``fit`` (the pids in the trials' ``progress.jsonl``: a Train worker, or the trial itself); every other
process is orchestration, by its title (GCS, raylet, dashboard, Tune's trial actors, Train's controller
...). A process that ends loses its CPU since its last reading (at most ``--interval`` s each; the count
is printed). Figures for the whole study (from ``platform.tune``'s start to its end: Ray's start-up,
imports, the summary) and for the time trials train (the first training process's first reading to
the last one's last).

- ``worker_share`` = training processes' CPU / all CPU of the study. Ray's daemons cost about the same
  CPU per second whatever the machine does, while the workers get less of a loaded machine: measured
  under other load the share is lower than on a quiet machine.
- ``machine_share`` = training processes' CPU / (wall time x cores): the share of the machine the
  workers got, meaningful on a quiet machine only.

    .venv/bin/python benchmarks/orchestration_cost.py                       # make run's study both ways (quiet machine)
    .venv/bin/python benchmarks/orchestration_cost.py --set num_samples=3 --set config.epochs=2 \\
        --set config.steps_per_epoch=10                                      # a smoke run

Last line: ``worker_share=<in_process, whole study> torch_trainer=<the same> while_trials_train=<in_process>/<torch_trainer>``.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_CHILD_SUBREAPER = 36

MODES = {"torch_trainer": "a TorchTrainer per trial (in_process: false), dashboard",
         "in_process": "the trial's own process, no dashboard",
         "in_process_dashboard": "the trial's own process, --dashboard"}

TRAINING = "training processes (run fit)"
DRIVER = "driver (platform.tune: Tune, Optuna, callbacks)"
CATEGORIES: list[tuple[str, str]] = [  # (category, regex on the process's titles), first match wins
    ("GCS", r"gcs_server"),
    ("raylet", r"raylet/raylet"),
    ("dashboard agent", r"DashboardAgent|dashboard/agent\.py"),
    ("runtime-env agent", r"RuntimeEnvAgent|runtime_env/agent"),
    ("dashboard", r"dashboard"),
    ("log monitor", r"log_monitor\.py"),
    ("autoscaler monitor", r"monitor\.py"),
    # Ray cuts a long process title short ("ray::TrainContr"): match the start of the actor's class name
    ("Train controller", r"ray::TrainCont"),
    ("Train worker (not training)", r"ray::RayTrainW"),
    ("Tune trial actor (not training)", r"ray::ImplicitF"),
    ("Train's other actors", r"ray::(_QueueAc|DatasetMan|Synchronizat|PreemptionW|PlacementG|_Autoscaling)"),
    ("Ray Data", r"ray::(_StatsAc|SplitCoord|Map|Read)"),
    ("other Ray actors and tasks", r"ray::(?!IDLE)"),
    ("idle pooled workers", r"ray::IDLE|default_worker\.py"),
    ("other", r""),
]


def read_proc() -> dict[int, tuple[int, int, float, str]]:
    """Every process: pid -> (parent pid, start time in ticks, CPU seconds user+system, title)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        ppid, utime, stime, start = int(fields[1]), int(fields[11]), int(fields[12]), int(fields[19])
        out[int(entry)] = (ppid, start, (utime + stime) / CLOCK_TICKS, title or stat[stat.index("(") + 1:stat.rindex(")")])
    return out


def descendants(table: dict[int, tuple[int, int, float, str]], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def reap_zombie_children() -> None:
    """Reap this process's children that have ended (orphans of the run, re-parented here), one by one:
    never ``waitpid(-1)``, which could take the driver's status from its Popen."""
    me = os.getpid()
    for pid, (ppid, *_rest) in read_proc().items():
        if ppid == me:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state == "Z":
                    os.waitpid(pid, os.WNOHANG)
            except (OSError, ChildProcessError):
                pass


def categorize(titles: list[str]) -> str:
    """A process's category by its titles: a Ray worker by the ``ray::`` titles it took (its command line
    names the raylet and GCS too), any other process by its command line."""
    text = " ".join([t for t in titles if t.startswith("ray::")] or titles)
    return next(name for name, pattern in CATEGORIES if re.search(pattern, text))


def run_study(mode: str, args: argparse.Namespace, preset: str, workdir: Path) -> dict[str, Any]:
    """One study through ``platform.tune`` with its CPU accounted; returns the figures of ``report``."""
    results = workdir / mode
    cmd = [sys.executable, "-m", "platform.tune", "--study", args.study, "--results", str(results),
           "--data", str(args.data), "--name", mode, *(f"--set={s}" for s in args.set)]
    if args.preset:
        cmd += ["--preset", args.preset]
    if mode == "torch_trainer":
        cmd += [f"--set=presets.{preset}.in_process=false"]
    elif mode == "in_process_dashboard":
        cmd += ["--dashboard"]
    log = workdir / f"{mode}.log"
    seen: dict[tuple[int, int], dict[str, Any]] = {}
    t0 = time.time()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out,
                                stderr=subprocess.STDOUT)

        def sample() -> list[int]:
            table = read_proc()
            pids = descendants(table, os.getpid())  # the driver's tree and the orphans re-parented here
            now = time.time() - t0
            for pid in pids:
                ppid, start, cpu, title = table[pid]
                rec = seen.setdefault((pid, start), {"pid": pid, "cpu": 0.0, "titles": [], "samples": [(now, 0.0)]})
                if cpu > rec["cpu"]:
                    rec["cpu"] = cpu
                    rec["samples"].append((now, cpu))
                if title not in rec["titles"]:
                    rec["titles"].append(title)
            return pids

        while proc.poll() is None:
            sample()
            reap_zombie_children()
            time.sleep(args.interval)
        wall = time.time() - t0
        deadline = time.time() + 60  # Ray's processes end after the driver: wait, then end the rest
        while (left := [p for p in sample() if p != proc.pid]) and time.time() < deadline:
            reap_zombie_children()
            time.sleep(args.interval)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(1)
        reap_zombie_children()
    (workdir / f"{mode}-processes.json").write_text(json.dumps(list(seen.values())))
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit(f"{mode}: platform.tune exited {proc.returncode} (log {log}):\n{tail}")
    return report(mode, seen, proc.pid, wall, results, args.interval)


def training_pids(results: Path) -> set[int]:
    pids = set()
    for progress in results.glob("*/*/*/progress.jsonl"):
        for line in progress.read_text().splitlines():
            try:
                pids.add(int(json.loads(line)["pid"]))
            except (ValueError, KeyError):
                pass
    return pids


def _cpu_between(samples: list[tuple[float, float]], a: float, b: float) -> float:
    """CPU seconds a process spent between times ``a`` and ``b`` (from its readings, step-wise)."""
    def at(t: float) -> float:
        return max((cpu for ts, cpu in samples if ts <= t), default=0.0)
    return at(b) - at(a)


def report(mode: str, seen: dict, driver: int, wall: float, results: Path, interval: float) -> dict[str, Any]:
    """The run's figures: CPU seconds by category over the whole run and over the trials' time (from the
    first training process's first reading to the last one's last), the shares, the trials' final metrics."""
    trainers = training_pids(results)
    whole: dict[str, float] = {}
    during: dict[str, float] = {}
    spans = [(r["samples"][0][0], r["samples"][-1][0]) for (pid, _), r in seen.items() if pid in trainers]
    a, b = (min(s for s, _ in spans), max(e for _, e in spans)) if spans else (0.0, wall)
    for (pid, start), rec in seen.items():
        if pid == driver:
            category = DRIVER
        elif pid in trainers:
            category = TRAINING
        else:
            category = categorize(rec["titles"])
        whole[category] = whole.get(category, 0.0) + rec["cpu"]
        during[category] = during.get(category, 0.0) + _cpu_between(rec["samples"], a, b)
    ended = sum(1 for (pid, _), r in seen.items() if pid not in trainers and r["samples"][-1][0] < wall - interval)
    total, total_during = sum(whole.values()), sum(during.values())
    summary = json.loads(next(results.glob("*/*/summary.json")).read_text())
    finals = {}
    for result in results.glob("*/*/*/result.json"):
        rows = [json.loads(x) for x in result.read_text().splitlines() if x.strip()]
        if rows:
            params = json.loads((result.parent / "params.json").read_text())
            finals[json.dumps(params, sort_keys=True)] = {k: rows[-1].get(k) for k in ("epoch", "sync_kappa", "loss_g")}
    workers = whole.get(TRAINING, 0.0)
    return {"mode": mode, "wall": wall, "trials_seconds": b - a, "total": total, "workers": workers,
            "by_category": whole, "during": during, "total_during": total_during,
            "worker_share": workers / total if total else 0.0,
            "worker_share_trials": during.get(TRAINING, 0.0) / total_during if total_during else 0.0,
            "machine_share": workers / (wall * (os.cpu_count() or 1)),
            "unseen_bound": ended * interval, "ended": ended,
            "trials": summary["trials"], "failed": summary["trials_failed"], "finals": finals,
            "training_processes": len(trainers)}


def prepare_data(args: argparse.Namespace):
    """Build (or find) the study's corpus and judges before any measurement; returns the study."""
    from platform.corpus import prepare
    from platform.study import load_study

    study = load_study(args.study, list(args.set), args.preset)
    prepare(study, Path(args.data).resolve())
    import ray

    if ray.is_initialized():  # data_prep may have started Ray: none of it may run during the measurement
        ray.shutdown()
    return study


def print_report(runs: list[dict[str, Any]], peaks: dict[int, float]) -> None:
    cats = [c for c in [DRIVER, TRAINING, *(n for n, _ in CATEGORIES)] if any(c in r["by_category"] for r in runs)]
    print(f"\nmatmul (float32 1024x1024, this machine now): {peaks[1]:.0f} GFLOP/s at 1 thread, "
          f"{peaks[2]:.0f} at 2 threads; {os.cpu_count()} cores")
    print("CPU seconds (share of all): the whole run | while trials train")
    print("| process | " + " | ".join(f"{r['mode']}" for r in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for c in cats:
        cells = [f"{r['by_category'].get(c, 0.0):.1f} ({r['by_category'].get(c, 0.0) / r['total']:.1%}) | "
                 f"{r['during'].get(c, 0.0):.1f} ({r['during'].get(c, 0.0) / max(r['total_during'], 1e-9):.1%})"
                 for r in runs]
        print(f"| {c} | " + " | ".join(cells) + " |")
    rows = (("all processes", lambda r: f"{r['total']:.1f} | {r['total_during']:.1f}"),
            ("wall seconds: the study | its trials", lambda r: f"{r['wall']:.1f} | {r['trials_seconds']:.1f}"),
            ("worker_share (CPU-time share)", lambda r: f"{r['worker_share']:.3f} | {r['worker_share_trials']:.3f}"),
            ("machine_share (quiet machine only)", lambda r: f"{r['machine_share']:.3f} |"),
            ("processes that ended between readings (CPU unseen, at most)",
             lambda r: f"{r['ended']} ({r['unseen_bound']:.1f} s) |"),
            ("trials (failed), training processes", lambda r: f"{r['trials']} ({r['failed']}), {r['training_processes']} |"))
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(r) for r in runs) + " |")
    base = runs[0]["finals"]
    for r in runs[1:]:
        same = base == r["finals"]
        print(f"{r['mode']} vs {runs[0]['mode']}: the same trials with the same final metrics: {'yes' if same else 'NO'}")
        if not same:
            for key in sorted(set(base) | set(r["finals"])):
                if base.get(key) != r["finals"].get(key):
                    print(f"  {key}: {base.get(key)} vs {r['finals'].get(key)}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", default="syncgan_semi")
    p.add_argument("--preset", help="resources preset (default: the study's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="study overrides, as platform.tune's")
    p.add_argument("--data", default=str(ROOT / "data"), help="data root (the corpus is built there if missing)")
    p.add_argument("--modes", nargs="+", default=["torch_trainer", "in_process"], choices=list(MODES))
    p.add_argument("--interval", type=float, default=0.5, help="seconds between readings of /proc")
    p.add_argument("--keep", action="store_true", help="keep the results directory (printed)")
    args = p.parse_args()
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("cannot become the child subreaper (prctl): the CPU of Ray's re-parented processes would be lost")
    from platform.study import StudyError

    try:
        study = prepare_data(args)
    except (StudyError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from step_cost import matmul_gflops  # the machine's figure, as step_cost.py measures it

    peaks = {t: matmul_gflops(t) for t in (1, 2)}
    workdir = Path(tempfile.mkdtemp(prefix="orchestration-cost-"))
    runs = []
    for mode in args.modes:
        print(f"{mode}: {MODES[mode]} ...", flush=True)
        runs.append(run_study(mode, args, study.preset, workdir))
        r = runs[-1]
        print(f"{mode}: {r['wall']:.0f} s, CPU {r['total']:.0f} s, workers {r['workers']:.0f} s "
              f"(worker_share {r['worker_share']:.3f})", flush=True)
    print_report(runs, peaks)
    if args.keep:
        print(f"results: {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    share = {r["mode"]: r for r in runs}
    nan = {"worker_share": float("nan"), "worker_share_trials": float("nan")}
    print(f"worker_share={share.get('in_process', nan)['worker_share']:.3f} "
          f"torch_trainer={share.get('torch_trainer', nan)['worker_share']:.3f} "
          f"while_trials_train={share.get('in_process', nan)['worker_share_trials']:.3f}/"
          f"{share.get('torch_trainer', nan)['worker_share_trials']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m platform.train --study NAME|PATH``: one training run with Ray Train, no search.

The config is a study (same schema, same files as ``platform.tune``): its fixed ``config`` and
corpus are used; searched keys take the trainable's defaults unless set with ``--set config.KEY=V``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from platform.corpus import prepare
from platform.provenance import provenance, write_json
from platform.ray_session import init_ray
from platform.storage import results_location
from platform.study import Study, StudyError, load_study
from platform.study_files import add_study_arguments
from trainables.resources import Resources


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m platform.train", description=__doc__.splitlines()[0])
    add_study_arguments(p, "--set config.epochs=2 --set config.lr_g=3e-4", "--config")  # --config: the older spelling
    p.add_argument("--workers", type=int, help="number of Ray Train workers (overrides the preset)")
    p.add_argument("--gpus", type=float, help="GPUs per worker (0: CPU only; overrides the preset)")
    p.add_argument("--name", help="run name (default: train-<timestamp>)")
    p.add_argument("--verbose", action="store_true",
                   help="the workers' own output, Ray Train's and Ray's warnings (default: one line per epoch)")
    return p


def run_resources(study: Study, workers: int | None, gpus: float | None) -> Resources:
    """The study preset's resources with ``--workers`` and ``--gpus`` applied."""
    changes: dict = {}
    if workers is not None:
        if workers < 1:
            raise StudyError(f"--workers must be >= 1, got {workers}")
        changes["num_workers"] = workers
    if gpus is not None:
        if gpus < 0:
            raise StudyError(f"--gpus must be >= 0, got {gpus}")
        changes.update(use_gpu=gpus > 0, **({"gpus_per_worker": gpus} if gpus > 0 else {}))
    try:
        return study.resources.replace(**changes)
    except ValueError as e:
        raise StudyError(f"--workers/--gpus: {e}") from None

def check_fits_locally(resources: Resources) -> None:
    """On a local Ray (no autoscaler) a request larger than the machine would wait forever."""
    import ray

    total = ray.cluster_resources()
    n, cpus = resources.num_workers, resources.cpus_per_worker
    if n * cpus > total.get("CPU", 0) + 1e-9:
        raise StudyError(f"{n} workers x {cpus:g} CPU need {n * cpus:g} CPU; this Ray instance has "
                         f"{total.get('CPU', 0):g} CPU (lower --workers or presets.<preset>.cpus_per_worker)")
    gpus = n * resources.gpus_per_worker if resources.use_gpu else 0.0
    if gpus > total.get("GPU", 0) + 1e-9:
        raise StudyError(f"{n} workers need {gpus:g} GPU; this Ray instance has {total.get('GPU', 0):g}")


def run(study: Study, results_root: str | Path, data_root: Path, resources: Resources, name: str | None = None,
        address: str | None = None, verbose: bool = False) -> dict:
    """Train once; returns the final metrics, one sentence of what they mean, and where the checkpoint
    and TensorBoard logs are. One line per epoch (the evaluator's declared progress line, ``EpochLines``); ``verbose``:
    the workers' own output and Ray's warnings instead."""
    from platform.progress import EpochLines, quiet_ray

    from trainables.config import from_dict, to_dict
    from trainables.ray_train import make_trainer
    from trainables.registry import get_trainable

    results = results_location(results_root)
    if not results.is_local:
        raise StudyError(f"--results {results.uri}: platform.train writes TensorBoard events as it trains and needs a "
                         "local or shared directory; remote URIs are for platform.tune, which syncs trial directories")
    if not verbose:
        quiet_ray()
    init_ray(address, **({} if verbose else {"log_to_driver": False}))
    if not address:
        check_fits_locally(resources)
    corpus_dir, clf_path, clf_acc = prepare(study, data_root.resolve())
    name = name or f"train-{time.strftime('%Y%m%d-%H%M%S')}"
    runs = results.local_path() / study.name
    run_dir = runs / name
    config = to_dict(from_dict(get_trainable(study.trainable).config_cls, {  # resolved: every default, numbers as numbers
        **study.config, "corpus_dir": str(corpus_dir), "classifier_path": str(clf_path), "tb_dir": str(run_dir)}))
    write_json(run_dir / "run_info.json", {"study": study.raw, "resources": to_dict(resources), "config": config,
                                           "classifier_test_accuracy": clf_acc, **provenance()})
    t0 = time.time()
    trainer = make_trainer(study.trainable, config, resources, name=name, storage_path=str(runs))
    spec = get_trainable(study.trainable)
    if verbose:
        result = trainer.fit()
    else:
        with EpochLines(run_dir / "progress.jsonl", int(config["epochs"]), spec.evaluator_cls.declared.progress_line):
            result = trainer.fit()
    summary = {
        "run_dir": str(run_dir), "wall_seconds": round(time.time() - t0, 1),
        "metrics": {k: v for k, v in (result.metrics or {}).items() if isinstance(v, (int, float))},
        "checkpoint": result.checkpoint.path if result.checkpoint else None,
        "best_checkpoints": [c.path for c, _ in (result.best_checkpoints or [])],
        "meaning": spec.evaluator_cls.meaning(result.metrics or {}),
    }
    write_json(run_dir / "summary.json", summary)
    return summary

def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        study = load_study(args.study, args.overrides, args.preset, single_run=True)
        resources = run_resources(study, args.workers, args.gpus)
    except StudyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        s = run(study, args.results, Path(args.data), resources, args.name, args.address, args.verbose)
    except (FileNotFoundError, StudyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - Ray Train's failure: its root cause in one line, not Ray's traceback
        from ray.train import TrainingFailedError

        from trainables.ray_logs import root_cause

        if not isinstance(e, TrainingFailedError):
            raise
        print(f"error: training failed: {root_cause(str(e)) or type(e).__name__} (--verbose shows the workers' output)",
              file=sys.stderr)
        return 1
    m = s["metrics"]
    print(f"\n=== {study.name}: {m.get('epoch')} epochs in {s['wall_seconds']:.0f} s, {study.metric}={m.get(study.metric, float('nan')):.3f} ===")
    if s["meaning"]:
        print("what it means:    ", s["meaning"])
    print("checkpoint:       ", s["checkpoint"])
    print(f"watch:             tensorboard --logdir {s['run_dir']}")
    return 0

if __name__ == "__main__":
    sys.exit(main())

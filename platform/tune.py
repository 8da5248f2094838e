"""``python -m platform.tune --study NAME``: a YAML study run with Ray Tune, Optuna (TPE) and ASHA or PBT.

Steps: validate the study; start or join Ray; build the corpus (data_prep, cached by config
hash); train the judge classifiers once per corpus; run the search with a persistent Optuna
study (SQLite in the results directory); print and save a summary of the best trial (of the
Pareto-optimal trials for a multi-objective study) and of the failed ones with their reasons.
The searcher, samplers and failure bookkeeping live in ``platform.search``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from platform.corpus import prepare
from platform.formatting import number, settings as format_settings
from platform.provenance import provenance
from platform.resume_check import check_resume, recorded_settings, settings
from platform.ray_session import init_ray
from platform.storage import (ENV_STORAGE, Results, StorageError, check_writable, connect, optuna_url, redact,
                              results_location, url_template)
from platform.study import Study, StudyError, load_study
from platform.study_files import add_study_arguments
from trainables.config import to_dict


LOCAL_SNAPSHOT_SECONDS = 2
"""Seconds between snapshots of a local experiment's Tune state (Tune's own default: at least 10, longer as
snapshots grow). An in-process trial reaches its first checkpoint within seconds; a driver killed before
the next snapshot left it out of the state, and ``--resume`` started its Optuna trial again from scratch
in a new directory instead of continuing it. A local snapshot of a small study takes milliseconds; remote
results keep Tune's default (each snapshot is an upload). ``TUNE_GLOBAL_CHECKPOINT_S`` set by the user wins."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m platform.tune", description=__doc__.splitlines()[0])
    add_study_arguments(p, "--set num_samples=4 --set config.epochs=2")
    p.add_argument("--name", help="experiment name (default: <study>-<timestamp>)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved study and exit")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted experiment (--name, default: the latest): finished trials are kept")
    p.add_argument("--storage", help="Optuna storage URL, password as ${VAR} from the environment "
                   f"(default: the study's storage key, ${{{ENV_STORAGE}}}, else SQLite in the results directory)")
    p.add_argument("--dashboard", action="store_true",
                   help="start Ray's dashboard with a local Ray instance (default: only where a trial runs a "
                        "TorchTrainer, whose clean-up needs its state API)")
    p.add_argument("--verbose", action="store_true",
                   help="Tune's own status tables and result dumps, the workers' output and Ray's warnings "
                        "(default: one line per trial report, the objective first)")
    return p


def _searcher(study: Study, storage, errors=None, worker: int = 0) -> Any:
    """Ray's OptunaSearch for the study (``platform.search.build_searcher``): TPE, random, grid or NSGA-II,
    one or several objectives, define-by-run space; ``errors`` (a ``TrialErrors`` callback of the same
    run) lets it record why a trial failed; ``worker``: the run's slot (``platform.workers``)."""
    from platform.search import build_searcher

    return build_searcher(study, storage, errors, worker)


def _scheduler(study: Study):
    """Tune's scheduler for the study, from its resolved settings (``Study.resolved``, what
    ``--dry-run`` prints): ASHA on epochs (a run that checkpoints every N steps reports fractional
    epochs too), with ``threshold`` ``platform.threshold_asha.ThresholdASHA``, or FIFO."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    settings = dict(study.resolved()["scheduler"])
    if settings.pop("type") == "fifo":
        return FIFOScheduler()
    if "threshold" in settings:
        from platform.threshold_asha import ThresholdASHA

        return ThresholdASHA(**settings)
    return ASHAScheduler(**settings)


def _trains_in_trial(study: Study) -> bool:
    """Whether the study's trials train in their own process: one worker (and in_process), or PBT."""
    return study.resources.trains_in_trial() or study.scheduler.type == "pbt"


def _trainable(study: Study, fixed: dict[str, Any]):
    """The study's Tune trainable with its resources: a one-worker trial (and every PBT trial) trains in
    its own process (``tune_checkpointed_trial``, ``cpus_per_worker``); a multi-worker one, or one whose
    preset sets ``in_process: false``, runs a TorchTrainer (``tune_trial``, ``trial_cpus`` for its driver)."""
    from ray import tune

    from trainables.ray_train import tune_checkpointed_trial, tune_trial

    res = study.resources
    if _trains_in_trial(study):
        return tune.with_resources(
            tune.with_parameters(tune_checkpointed_trial, model=study.trainable, fixed=fixed, resources=res,
                                 searched=[p.name for p in study.search]),
            {k.lower(): v for k, v in res.worker_resources().items()},
        )
    return tune.with_resources(
        tune.with_parameters(tune_trial, model=study.trainable, fixed=fixed, resources=res, **_checkpoint_score(study)),
        {"cpu": res.trial_cpus},
    )


def _checkpoint_score(study: Study) -> dict[str, str]:
    """Train keeps the best ``keep_checkpoints`` by the study's first objective when it is reported with
    every checkpoint (an evaluator scalar); else by the trainable's own objective (trainables/ray_train.py)."""
    from trainables.registry import TRAINABLES

    if study.metric in TRAINABLES[study.trainable].evaluator_cls.scalars:
        return {"checkpoint_metric": study.metric, "checkpoint_mode": study.mode}
    return {}


def latest_experiment(results: Results) -> str:
    """The newest experiment (a directory with run_info.json) of a local results directory."""
    if not results.is_local:
        raise StudyError(f"{results.uri}: name the experiment to resume with --name (no listing of remote results)")
    runs = sorted((p for p in results.local_path().glob("*/run_info.json")), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise StudyError(f"--resume: no experiment under {results.uri} to resume")
    return runs[-1].parent.name


def _run_info(experiment: Results) -> dict:
    """The experiment's ``run_info.json`` (StudyError naming it if absent or unreadable)."""
    try:
        info = experiment.read_json("run_info.json")
    except ValueError as e:
        raise StudyError(f"--resume: {e}") from None
    if info is None:
        raise StudyError(f"--resume: {experiment.uri} holds no run_info.json: no experiment of this study to resume "
                         "there (check --name and --results)")
    return info


def run(study: Study, results_root: str | Path, data_root: Path, name: str | None = None, address: str | None = None,
        storage_url: str | None = None, resume: bool = False, verbose: bool = False, dashboard: bool = False) -> dict:
    """Run the study; returns the summary (also written to <experiment>/summary.json).

    ``results_root``: a path or a pyarrow filesystem URI (s3://...); ``storage_url``: the Optuna
    database (default: the study's, ``$XMODAL_OPTUNA_STORAGE``, else SQLite in the results directory).
    ``resume`` continues the experiment ``name`` (default: the latest): finished trials are kept,
    unfinished and errored ones run again; the summary says ``interrupted`` if it stops early again.
    ``verbose``: Tune's own output, the workers' lines and Ray's warnings instead of ``StudyProgress``.
    ``dashboard``: start Ray's dashboard with a local instance even where no trial runs a TorchTrainer.
    Several runs of one study may run at once (``platform.workers``): each draws its own points, into its
    own experiment directory, and the corpus and its judges are built once (``data_prep.atomic.file_lock``).
    """
    from platform.workers import claim_slot

    results = results_location(results_root).child(study.name)
    if results.is_local:
        check_writable(results.local_path())
    url, url_source = optuna_url(storage_url, study.storage, results)
    now = settings(study, redact(url))
    if resume:  # the experiment's own settings, or one line naming what differs: before Ray starts
        name = name or latest_experiment(results)
        where = f"{results.child(name).uri}/run_info.json"
        check_resume(recorded_settings(_run_info(results.child(name)), where), now, where)
    # fails here, before Ray and any trial, if unreachable; pickled (Tune's searcher state) without its password
    storage = connect(url, url_template(url_source, storage_url, study.storage))
    # this run's slot among the study's live runs (platform.workers): its seed and default experiment name;
    # an experiment another live run holds is refused here
    slot = claim_slot(results.local_path() if results.is_local else None, name,
                      lambda k: f"{study.name}-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-w{k}" if k else ""))
    try:
        return _search(study, results, data_root, slot, storage, url, url_source, now, address, resume, verbose,
                       dashboard)
    finally:
        slot.release()


def _search(study: Study, results: Results, data_root: Path, slot, storage, url: str, url_source: str, now: dict,
            address: str | None, resume: bool, verbose: bool, dashboard: bool = False) -> dict:
    """``run``'s search, once the run holds its slot ``slot`` (``platform.workers.WorkerSlot``) and its
    Optuna ``storage``."""
    from ray import tune

    from platform.progress import StudyProgress, quiet_ray
    from platform.search import TargetStopper, TrialErrors
    from trainables.registry import get_trainable

    name = slot.experiment
    if not verbose:
        quiet_ray()
    # a study with no Train run needs no state API, so no dashboard unless asked
    init_ray(address, include_dashboard=dashboard or not _trains_in_trial(study),
             **({} if verbose else {"log_to_driver": False}))  # StudyProgress reports the workers' epochs
    progress = [] if verbose else [StudyProgress(
        [m for m, _ in study.objectives], get_trainable(study.trainable).evaluator_cls.headline,
        [p.name for p in study.search], study.epochs)]
    corpus_dir, clf_path, clf_acc = prepare(study, data_root.resolve())
    fixed = {**study.config, "corpus_dir": str(corpus_dir), "classifier_path": str(clf_path)}
    experiment = results.child(name)
    if resume and not tune.Tuner.can_restore(experiment.path, storage_filesystem=None if results.is_local else results.fs):
        raise StudyError(f"--resume: {experiment.uri} holds no Tune experiment state to resume")
    experiment.write_json("run_info-resumed.json" if resume else "run_info.json", {
        "study": study.raw, "preset": study.preset, "settings": now, "resources": to_dict(study.resources),
        "fixed_config": fixed,
        "optuna_storage": redact(url), "optuna_storage_from": url_source,
        "classifier_test_accuracy": clf_acc, **provenance(),
    })
    res = study.resources
    pbt = study.scheduler.type == "pbt"
    trainable = _trainable(study, fixed)
    if results.is_local:  # a killed driver's --resume knows every trial that had started (TuneController reads it)
        os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", str(LOCAL_SNAPSHOT_SECONDS))
    if resume:
        tuner = tune.Tuner.restore(experiment.path, trainable, resume_unfinished=True, resume_errored=True,
                                   storage_filesystem=None if results.is_local else results.fs)
    else:
        errors = TrialErrors()  # the searcher reads failing trials' errors through it (see platform.search)
        callbacks: list = [errors, *progress]
        if pbt:
            from platform.pbt import OptunaRecorder, build_scheduler, first_population, param_space
            from platform.search import optuna_study

            search_alg = first_population(study, len(optuna_study(study, storage).trials), slot.number)
            scheduler = build_scheduler(study)
            callbacks.append(OptunaRecorder(study, storage))
            # every checkpoint while the study runs (another trial may clone any recent one; Tune's own
            # pruning deletes PBT's re-saved checkpoints twice): pruned to keep_checkpoints at the end
            checkpoints = tune.CheckpointConfig(num_to_keep=None)
        else:
            search_alg, scheduler, checkpoints = _searcher(study, storage, errors, slot.number), _scheduler(study), None
            if res.trains_in_trial():  # Tune keeps an in-process trial's checkpoints, as Train keeps a run's
                score = _checkpoint_score(study)
                checkpoints = tune.CheckpointConfig(
                    num_to_keep=res.keep_checkpoints,
                    checkpoint_score_attribute=score.get("checkpoint_metric", get_trainable(study.trainable).objective),
                    checkpoint_score_order=score.get("checkpoint_mode", "max"))
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(study) if pbt else None,
            tune_config=tune.TuneConfig(
                search_alg=search_alg, scheduler=scheduler, num_samples=study.num_samples,
                max_concurrent_trials=res.max_concurrent_trials,
            ),
            run_config=tune.RunConfig(name=name, **results.tune_storage(), sync_config=tune.SyncConfig(sync_artifacts=True),
                                      callbacks=callbacks, verbose=None if verbose else 0, checkpoint_config=checkpoints,
                                      # an in-process trial that fails starts again from its last checkpoint,
                                      # as Train restarts a run's workers (a TorchTrainer trial retries inside)
                                      failure_config=tune.FailureConfig(
                                          max_failures=res.max_failures if res.trains_in_trial() and not pbt else 0),
                                      stop=None if study.target is None else
                                      TargetStopper(study.metric, study.mode, study.target)),
        )
    t0 = time.time()
    os.environ.setdefault("TUNE_PRINT_ALL_TRIAL_ERRORS", "0")  # a traceback per failed trial: TrialErrors prints one line
    grid = tuner.fit()
    if not resume and hasattr(search_alg, "stop_heartbeats"):
        search_alg.stop_heartbeats()  # its trials are all told
    statuses = saved_statuses(experiment, results)
    reached = target_reached(study, grid)
    if reached:  # Tune stopped the other running trials without telling the searcher
        from platform.search import tell_stopped_trials

        tell_stopped_trials(storage, study, {r.metrics.get("trial_id", ""): r.metrics for r in grid if r.metrics})
    interrupted = any(s not in ("TERMINATED", "ERROR") for s in statuses) or (
        len(statuses) < study.num_samples and not reached)
    if pbt and not interrupted:  # --resume would restore PBT's state, which may name older checkpoints
        from platform.pbt import prune_checkpoints

        for r in grid:
            prune_checkpoints(r.filesystem, r.path, res.keep_checkpoints)
    summary = summarize(study, grid, experiment.uri, time.time() - t0, interrupted)
    if pbt:
        from platform.pbt import lineage, read_lineage

        summary["lineage"] = lineage([(tid, r.path, read_lineage(r.filesystem, r.path))
                                      for tid, r in zip(_trial_ids(grid), grid)])
    summary.update(optuna_storage=redact(url), interrupted=interrupted, resumed=resume, target=study.target,
                   target_reached=reached,
                   trial_states={s: statuses.count(s) for s in sorted(set(statuses))})
    write_summary(experiment, summary)
    return summary


def saved_statuses(experiment: Results, results: Results) -> list[str]:
    """Each trial's status in the experiment state Tune saved last, what ``--resume`` continues from.

    Not the returned grid's: after a SIGINT Tune saves the state and then stops the running trials, which
    marks them TERMINATED in memory although they had not finished (a PBT study's trials, all started
    at once, would then look complete)."""
    from ray import tune

    analysis = tune.ExperimentAnalysis(experiment.path, storage_filesystem=None if results.is_local else results.fs)
    return [t.status for t in analysis.trials]


def write_summary(experiment: Results, summary: dict) -> None:
    """Write ``summary.json`` (atomically: never half of one). If it cannot be written (read-only, full),
    ``summary["not_written"]`` says where and why: the trials stay in Optuna and in Tune's directories,
    the summary is still printed, and ``platform.tune`` exits 1 with that line."""
    try:
        experiment.write_json("summary.json", summary)
    except OSError as e:
        from data_prep.storage import os_error_line

        summary["not_written"] = f"cannot write the summary: {os_error_line(e, experiment.uri + '/summary.json')}"


def target_reached(study: Study, grid) -> bool:
    """Whether any trial reported the objective at or beyond ``study.target`` (any epoch, not only its last)."""
    from platform.search import reaches

    if study.target is None:
        return False
    for r in grid:
        df = r.metrics_dataframe
        if df is not None and study.metric in df and any(reaches(v, study.target, study.mode) for v in df[study.metric]):
            return True
    return False


def _entry(study: Study, r) -> dict:
    """A trial in the summary: its searched config, the objectives then the model's headline metrics
    (declared by its evaluator), its checkpoint, and one sentence of what its metrics mean."""
    from trainables.registry import get_trainable

    evaluator = get_trainable(study.trainable).evaluator_cls
    keys = [*(m for m, _ in study.objectives), *(k for k in (*evaluator.headline, "epoch") if k not in dict(study.objectives))]
    return {
        "trial_dir": r.path, "config": {p.name: r.config[p.name] for p in study.search if p.name in r.config},
        "metrics": {k: r.metrics.get(k) for k in keys if k in r.metrics},
        # Train's checkpoint via TuneReportCallback; a PBT trial's own Tune checkpoint
        "checkpoint": r.metrics.get("checkpoint_path") or (r.checkpoint.path if r.checkpoint else None),
        "meaning": evaluator.meaning(r.metrics),
    }


def _trial_ids(grid) -> list[str]:
    """Tune's trial id of each result (Ray's ResultGrid keeps its trials in the same order)."""
    analysis = getattr(grid, "_experiment_analysis", None)  # noqa: SLF001 (no public accessor)
    if analysis is not None:
        return [t.trial_id for t in analysis.trials]
    return [(r.metrics or {}).get("trial_id") or Path(r.path).name for r in grid]


def failures(study: Study, grid) -> list[dict]:
    """Each failed trial in one record: id, exception type and message of the root cause, the file with
    the full traceback (Tune's ``error.txt``), its directory and searched config; ``reason`` is ``Type: message``."""
    from platform.failures import failure_record, read_text

    out = []
    for trial_id, r in zip(_trial_ids(grid), grid):
        if r.error:
            error_file = f"{r.path}/error.txt"
            f = failure_record(trial_id, read_text(error_file) or str(r.error), error_file)
            out.append({**f, "reason": f"{f['error_type']}: {f['message']}", "trial_dir": r.path,
                        "config": {p.name: r.config[p.name] for p in study.search if p.name in (r.config or {})}})
    return out


def summarize(study: Study, grid, experiment_dir: str, seconds: float, interrupted: bool = False) -> dict:
    """The summary of a finished (or interrupted) experiment.

    Single objective: ``best`` (None if no trial reported). Several objectives: ``best`` is None and
    ``pareto_front`` lists the non-dominated trials (last reported values), best first by the first
    objective. ``failures``: one record per failed trial (``failures()``); ``errors``: the same, one line
    each. ``succeeded``: trials that reported every objective (0: the search found nothing).
    """
    from platform.failures import failure_line
    from platform.search import pareto_front

    failed = failures(study, grid)
    metrics = [m for m, _ in study.objectives]
    ok = [r for r in grid if not r.error and r.metrics and all(m in r.metrics for m in metrics)]
    summary = {
        "study": study.name, "experiment_dir": str(experiment_dir), "wall_seconds": round(seconds, 1),
        "objectives": [{"metric": m, "mode": d} for m, d in study.objectives],
        "trials": len(grid), "trials_failed": len(failed), "succeeded": len(ok),
        "errors": [failure_line(f) for f in failed], "failures": failed, "best": None,
    }
    if study.multi_objective:
        front = pareto_front(((r, [r.metrics[m] for m in metrics]) for r in ok), [d for _, d in study.objectives])
        summary["pareto_front"] = [_entry(study, r) for r, _ in front]
        if study.cost_objective and ok:
            summary["trade_off"] = trade_off(study, [_entry(study, r) for r in ok])
    elif ok:
        summary["best"] = _entry(study, grid.get_best_result(metric=study.metric, mode=study.mode, scope="last"))
    return summary


def trade_off(study: Study, entries: list[dict]) -> dict:
    """A cost study's plain answer: the best trial (by the first objective) at each value of the cost
    objective, and the smallest cost whose best trial is within ``study.tolerance`` of the best of all."""
    (metric, mode), cost = study.objectives[0], study.cost_objective
    sign = 1.0 if mode == "max" else -1.0
    best_at: dict[float, dict] = {}
    for e in entries:
        c = round(float(e["metrics"][cost]), 6)
        if c not in best_at or sign * e["metrics"][metric] > sign * best_at[c]["metrics"][metric]:
            best_at[c] = e
    per_cost = [{"cost": c, "value": e["metrics"][metric], "config": e["config"], "trial_dir": e["trial_dir"],
                 "checkpoint": e["checkpoint"]} for c, e in sorted(best_at.items())]
    best = max(sign * p["value"] for p in per_cost) * sign
    enough = next(p for p in per_cost if sign * (best - p["value"]) <= study.tolerance + 1e-12)
    return {"metric": metric, "mode": mode, "cost": cost, "tolerance": study.tolerance, "best": best,
            "per_cost": per_cost, "smallest_cost": enough["cost"], "smallest_cost_value": enough["value"]}




def print_summary(s: dict) -> None:
    b = s["best"]
    objectives = s.get("objectives") or []
    print(f"\n=== study {s['study']}: {s['trials']} trials ({s['trials_failed']} failed) in {s['wall_seconds']:.0f} s ===")
    if s.get("target") is not None:
        print(f"target {objectives[0]['metric']} {'>=' if objectives[0]['mode'] == 'max' else '<='} {s['target']:g}: "
              + ("reached, search stopped" if s.get("target_reached") else "not reached"))
    for line in s.get("errors", []):
        print(f"failed:            {line}")
    if "pareto_front" in s:
        front = s["pareto_front"]
        goals = ", ".join(f"{o['metric']} ({o['mode']})" for o in objectives)
        print(f"Pareto front ({len(front)} trial{'s' if len(front) != 1 else ''}, objectives {goals}):" if front
              else "no trial has reported every objective yet")
        for i, e in enumerate(front, 1):
            values = {o["metric"]: e["metrics"].get(o["metric"]) for o in objectives}
            print(f"  {i}. {format_settings(values)} | {format_settings(e['config'])}")
            print(f"     checkpoint: {e['checkpoint']}")
        t = s.get("trade_off")
        if t:
            print(f"best {t['metric']} at each {t['cost']}:")
            for p in t["per_cost"]:
                print(f"  {t['cost']}={p['cost']:g}: {t['metric']}={number(p['value'])} | {format_settings(p['config'])}")
            print(f"answer: the smallest {t['cost']} within {t['tolerance']:g} of the best {t['metric']} "
                  f"({number(t['best'])}) is {t['smallest_cost']:g} ({t['metric']}={number(t['smallest_cost_value'])})")
    elif b is None:
        print(f"no trial reported {' and '.join(o['metric'] for o in objectives)}"
              + (f": all {s['trials_failed']} failed, see the lines above" if 0 < s["trials_failed"] == s["trials"] else ""))
        return
    else:
        print("best trial config:", format_settings(b["config"]))
        print("best trial metrics:", format_settings(b["metrics"]))
        if b.get("meaning"):
            print("what it means:    ", b["meaning"])
        print("checkpoint:       ", b["checkpoint"])
        print("TensorBoard logs: ", b["trial_dir"])
    if s.get("lineage"):
        from platform.pbt import lineage_lines

        print(f"PBT lineage ({sum(e['cloned'] for e in s['lineage'])} clones):")
        for line in lineage_lines(s["lineage"]):
            print("  " + line)
    print("Optuna study:     ", s["optuna_storage"])
    if "not_written" not in s:
        print("summary:          ", f"{s['experiment_dir'].split('?')[0]}/summary.json")
    print(f"watch:             tensorboard --logdir {s['experiment_dir']}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        study = load_study(args.study, args.overrides, args.preset)
    except StudyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        import yaml

        print(yaml.safe_dump({"name": study.name, "preset": study.preset, "resources": to_dict(study.resources),
                              "resolved": study.resolved(), **study.raw}, sort_keys=False))
        return 0
    try:
        summary = run(study, args.results, Path(args.data), args.name, args.address, args.storage, args.resume,
                      args.verbose, args.dashboard)
    except (FileNotFoundError, StudyError, StorageError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # results or data that cannot be written (read-only, full): before any trial starts
        from data_prep.storage import os_error_line

        print(f"error: cannot write: {os_error_line(e, args.results)}", file=sys.stderr)
        return 2
    print_summary(summary)
    return exit_code(summary, args.study)


def exit_code(summary: dict, study: str) -> int:
    """0, or 130 (interrupted: how to resume), or 1 (no trial succeeded, or the summary could not be
    written), each with its one line on stderr."""
    if summary.get("not_written"):
        print(f"error: {summary['not_written']}", file=sys.stderr)
        return 1
    if summary["interrupted"]:
        print(f"interrupted: {summary['trial_states']}; continue with: python -m platform.tune --study {study} "
              f"--resume --name {Path(summary['experiment_dir'].split('?')[0]).name}")
        return 130
    if not summary.get("succeeded", 1):
        print(f"error: no trial of {summary['study']} succeeded ({summary['trials_failed']} of {summary['trials']} "
              "failed, one line each above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

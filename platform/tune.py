"""``python -m platform.tune --study NAME``: a YAML study run with Ray Tune, Optuna (TPE) and ASHA or PBT.

Steps: validate the study; start or join Ray; build the corpus (data_prep, cached by config
hash); train the judge classifiers once per corpus; run the search with a persistent Optuna
study (SQLite in the results directory); print and save a summary of the best trial (of the
Pareto-optimal trials for a multi-objective study) and of the failed ones with their reasons.
How the scheduler runs the search: ``platform.strategies``; the summary: ``platform.summary``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from platform.corpus import prepare
from platform.formatting import summary_lines
from platform.provenance import provenance
from platform.resume_check import check_resume, recorded_settings, settings
from platform.ray_session import init_ray
from platform.storage import (ENV_STORAGE, Results, StorageError, check_writable, connect, optuna_url, redact,
                              results_location, url_template)
from platform.strategies import Strategy, strategy_for
from platform.study import Study, StudyError, load_study
from platform.study_files import add_study_arguments
from platform.summary import conclude
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
    """Run the study; returns its summary (also written to <experiment>/summary.json). ``results_root``: a path
    or a URI (s3://...); ``storage_url``: the Optuna database (default: the study's, ``$XMODAL_OPTUNA_STORAGE``,
    else SQLite in the results directory); ``resume`` continues experiment ``name`` (default: the latest);
    ``verbose``, ``dashboard``: as ``--verbose``, ``--dashboard``. Several runs of one study may run at once,
    each drawing its own points into its own experiment (``platform.workers``)."""
    from platform.workers import claim_slot

    results = results_location(results_root).child(study.name)
    if results.is_local:
        check_writable(results.local_path())
    url, url_source = optuna_url(storage_url, study.storage, results)
    now = settings(study, redact(url))
    if resume:  # the experiment's own settings, or one line naming what differs: before Ray starts
        name = _resumable(results, name, now)
    # fails here, before Ray and any trial, if unreachable; pickled (Tune's searcher state) without its password
    storage = connect(url, url_template(url_source, storage_url, study.storage))
    slot = claim_slot(results.local_path() if results.is_local else None, name,  # refuses an experiment in use
                      lambda k: f"{study.name}-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-w{k}" if k else ""))
    strategy = strategy_for(study)
    try:
        progress = _start_ray(strategy, results, address, verbose, dashboard)
        corpus_dir, clf_path, clf_acc = prepare(study, data_root.resolve())
        fixed = {**study.config, "corpus_dir": str(corpus_dir), "classifier_path": str(clf_path)}
        experiment = results.child(slot.experiment)
        _record_run(experiment, study, fixed, now, url, url_source, clf_acc, resume)
        trainable = strategy.trainable(fixed)
        tuner = _restored(experiment, trainable) if resume else strategy.tuner(
            trainable, storage, slot.experiment, results, progress, verbose, slot.number)
        t0 = time.time()
        grid = tuner.fit()
        return conclude(study, grid, experiment, storage, url, t0, resume, strategy.end_of_study)
    finally:
        slot.release()


def _start_ray(strategy: Strategy, results: Results, address: str | None, verbose: bool, dashboard: bool) -> list:
    """Start or join Ray, quiet unless ``verbose``; returns the progress callbacks (``StudyProgress``, which
    prints the trials' reports in place of the workers' output, or none when ``verbose``)."""
    from platform.progress import StudyProgress, quiet_ray

    study = strategy.study
    if not verbose:
        quiet_ray()
    # a study with no Train run needs no state API, so no dashboard unless asked
    init_ray(address, include_dashboard=dashboard or not strategy.trains_in_trial,
             **({} if verbose else {"log_to_driver": False}))
    if results.is_local:  # a killed driver's --resume knows every trial that had started (TuneController reads it)
        os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", str(LOCAL_SNAPSHOT_SECONDS))
    os.environ.setdefault("TUNE_PRINT_ALL_TRIAL_ERRORS", "0")  # a traceback per failed trial: TrialErrors prints one line
    return [] if verbose else [StudyProgress([m for m, _ in study.objectives], study.spec.evaluator_cls.headline,
                                             [p.name for p in study.search], study.epochs)]


def _resumable(results: Results, name: str | None, now: dict) -> str:
    """The experiment ``--resume`` continues (``name``, default: the latest), refused in one line naming every
    setting that differs from those it recorded (``platform.resume_check``)."""
    name = name or latest_experiment(results)
    where = f"{results.child(name).uri}/run_info.json"
    check_resume(recorded_settings(_run_info(results.child(name)), where), now, where)
    return name


def _record_run(experiment: Results, study: Study, fixed: dict[str, Any], now: dict, url: str, url_source: str,
                clf_acc: dict, resume: bool) -> None:
    """Write the experiment's ``run_info.json`` (``run_info-resumed.json`` on ``--resume``, once Tune's state
    to resume is known to be there): the study, its settings, resources, fixed config, storage, provenance."""
    from ray import tune

    filesystem = None if experiment.is_local else experiment.fs
    if resume and not tune.Tuner.can_restore(experiment.path, storage_filesystem=filesystem):
        raise StudyError(f"--resume: {experiment.uri} holds no Tune experiment state to resume")
    experiment.write_json("run_info-resumed.json" if resume else "run_info.json", {
        "study": study.raw, "preset": study.preset, "settings": now, "resources": to_dict(study.resources),
        "fixed_config": fixed, "optuna_storage": redact(url), "optuna_storage_from": url_source,
        "classifier_test_accuracy": clf_acc, **provenance(),
    })


def _restored(experiment: Results, trainable):
    """The interrupted experiment's ``Tuner``: finished trials kept, unfinished and errored ones run again,
    with the searcher and scheduler Tune saved."""
    from ray import tune

    return tune.Tuner.restore(experiment.path, trainable, resume_unfinished=True, resume_errored=True,
                              storage_filesystem=None if experiment.is_local else experiment.fs)


def print_summary(s: dict) -> None:
    print("\n".join(summary_lines(s)))


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

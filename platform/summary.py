"""A finished (or interrupted) study's summary, from Tune's results: the best trial (the Pareto front of a
multi-objective study, a cost study's trade-off), the failed trials one record each, the trials' states,
and whether the target stopped the search. ``platform.tune`` writes it to ``summary.json`` and prints
it (``platform.formatting.summary_lines``)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from platform.storage import Results, redact
from platform.study import Study


def conclude(study: Study, grid, experiment: Results, storage, url: str, t0: float, resumed: bool,
             end_of_study: Callable[[Any, bool], dict]) -> dict:
    """The summary of the search that ``grid`` holds, written to ``summary.json``: the trials Tune's saved state
    knows, the target's trials told to Optuna, the strategy's ``end_of_study(grid, interrupted)`` step and
    what it adds (``lineage``), then the run's facts (``interrupted``, ``resumed``, ``trial_states`` ...)."""
    statuses = saved_statuses(experiment)
    reached = target_reached(study, grid)
    if reached:  # Tune stopped the other running trials without telling the searcher
        from platform.search import tell_stopped_trials

        tell_stopped_trials(storage, study, {r.metrics.get("trial_id", ""): r.metrics for r in grid if r.metrics})
    interrupted = any(s not in ("TERMINATED", "ERROR") for s in statuses) or (
        len(statuses) < study.num_samples and not reached)
    extra = end_of_study(grid, interrupted)
    summary = {**summarize(study, grid, experiment.uri, time.time() - t0, interrupted), **extra}
    summary.update(optuna_storage=redact(url), interrupted=interrupted, resumed=resumed, target=study.target,
                   target_reached=reached, trial_states={s: statuses.count(s) for s in sorted(set(statuses))})
    write_summary(experiment, summary)
    return summary


def saved_statuses(experiment: Results) -> list[str]:
    """Each trial's status in the experiment state Tune saved last, what ``--resume`` continues from.

    Not the returned grid's: after a SIGINT Tune saves the state and then stops the running trials, which
    marks them TERMINATED in memory although they had not finished (a PBT study's trials, all started
    at once, would then look complete)."""
    from ray import tune

    analysis = tune.ExperimentAnalysis(experiment.path, storage_filesystem=None if experiment.is_local else experiment.fs)
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


def trial_ids(grid) -> list[str]:
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
    for trial_id, r in zip(trial_ids(grid), grid):
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
    from platform.formatting import failure_line
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

"""How the console and the reports print, the one place that decides it: a number, a set of settings,
a failed trial, a PBT lineage entry, a study's summary (``platform.tune``) and its report
(``platform.report``).

Four significant digits: a learning rate of 2e-4 prints as ``0.0002`` (never ``0.000``), a sync rate as
``0.8734``, an FID as ``1088``; very small or large values switch to exponent form (``1e-07``), as
Python's ``g`` format does. Integers and strings print as they are. A metric in a progress line keeps
three decimals so columns line up (``metric``), and never prints a nonzero value as 0.
"""
from __future__ import annotations

from typing import Any, Mapping

from trainables.declared_metrics import metric_text as metric  # the workers' epoch lines print metrics the same way


def number(v: Any) -> str:
    """``v`` readably: floats with four significant digits, anything else as ``str``."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def settings(items: Mapping[str, Any]) -> str:
    """``lr_g=0.0002, semi_rate=0.4, optimizer=adam``: a trial's settings (or any mapping) on one line."""
    return ", ".join(f"{k}={number(v)}" for k, v in items.items())


def failure_line(f: Mapping[str, Any]) -> str:
    """One line for a ``platform.failures.failure_record`` (with its searched ``config`` if it has one):
    ``trial <id> (lr_g=inf) failed: Type: message (traceback: <file>)``."""
    config = settings(f.get("config") or {})
    return (f"trial {f['trial_id']}{f' ({config})' if config else ''} failed: {f['error_type']}: {f['message']} "
            f"(traceback: {f['error_file']})")


def lineage_lines(entries: list[Mapping[str, Any]]) -> list[str]:
    """One line per PBT clone or resume (``platform.pbt.lineage`` entries)."""
    return [f"epoch {e['epoch']}: trial {e['trial']} " + (f"cloned trial {e['from']}" if e["cloned"] else "resumed")
            + f" -> {settings(e['config'])}" for e in entries]


def summary_lines(s: Mapping[str, Any]) -> list[str]:
    """What ``platform.tune`` prints of a study's summary (``platform.summary.summarize``)."""
    b, objectives = s["best"], s.get("objectives") or []
    out = [f"\n=== study {s['study']}: {s['trials']} trials ({s['trials_failed']} failed) in {s['wall_seconds']:.0f} s ==="]
    if s.get("target") is not None:
        out.append(f"target {objectives[0]['metric']} {'>=' if objectives[0]['mode'] == 'max' else '<='} {s['target']:g}: "
                   + ("reached, search stopped" if s.get("target_reached") else "not reached"))
    out += [f"failed:            {line}" for line in s.get("errors", [])]
    if "pareto_front" in s:
        out += _front_lines(s["pareto_front"], objectives, s.get("trade_off"))
    elif b is None:
        out.append(f"no trial reported {' and '.join(o['metric'] for o in objectives)}"
                   + (f": all {s['trials_failed']} failed, see the lines above" if 0 < s["trials_failed"] == s["trials"] else ""))
        return out
    else:
        out += ["best trial config: " + settings(b["config"]), "best trial metrics: " + settings(b["metrics"]),
                *([f"what it means:     {b['meaning']}"] if b.get("meaning") else []),
                f"checkpoint:        {b['checkpoint']}", f"TensorBoard logs:  {b['trial_dir']}"]
    if s.get("lineage"):
        out += [f"PBT lineage ({sum(e['cloned'] for e in s['lineage'])} clones):",
                *("  " + line for line in lineage_lines(s["lineage"]))]
    out.append(f"Optuna study:      {s['optuna_storage']}")
    if "not_written" not in s:
        out.append(f"summary:           {s['experiment_dir'].split('?')[0]}/summary.json")
    return [*out, f"watch:             tensorboard --logdir {s['experiment_dir']}"]


def _front_lines(front: list[Mapping[str, Any]], objectives: list[Mapping[str, str]], t: Mapping[str, Any] | None) -> list[str]:
    """A multi-objective summary: its Pareto front, and a cost study's trade-off (``trade_off``)."""
    goals = ", ".join(f"{o['metric']} ({o['mode']})" for o in objectives)
    out = [f"Pareto front ({len(front)} trial{'s' if len(front) != 1 else ''}, objectives {goals}):" if front
           else "no trial has reported every objective yet"]
    for i, e in enumerate(front, 1):
        values = {o["metric"]: e["metrics"].get(o["metric"]) for o in objectives}
        out += [f"  {i}. {settings(values)} | {settings(e['config'])}", f"     checkpoint: {e['checkpoint']}"]
    if t:
        out.append(f"best {t['metric']} at each {t['cost']}:")
        out += [f"  {t['cost']}={p['cost']:g}: {t['metric']}={number(p['value'])} | {settings(p['config'])}"
                for p in t["per_cost"]]
        out.append(f"answer: the smallest {t['cost']} within {t['tolerance']:g} of the best {t['metric']} "
                   f"({number(t['best'])}) is {t['smallest_cost']:g} ({t['metric']}={number(t['smallest_cost_value'])})")
    return out


def report_lines(index: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What ``platform.report`` prints of its index: (lines for stdout, warnings for stderr)."""
    counts = ", ".join(f"{n} {s.lower()}" for s, n in index["trials"].items())
    out = [f"study {index['study']}: {sum(index['trials'].values())} trials ({counts}); storage {index['optuna_storage']}",
           index["table"], *(f"failed: {failure_line(f)}" for f in index["failures"])]
    if index["best_trials"]:
        out.append(f"\nbest trial(s) (*): {', '.join(map(str, index['best_trials']))}")
        out += [f"what it means: {index['meaning']}"] if index.get("meaning") else []
    else:
        out.append(f"\n{index['best_missing']}")
    if index.get("lineage"):
        out += ["PBT lineage (trials by number):", *("  " + line for line in lineage_lines(index["lineage"]))]
    files = ", ".join(index["files"].values()) + (", plots/" if "plots" in index else "")
    out.append(f"written: {index['best_dir']}/ ({files}, report.json)")
    warnings = [f"warning: {index['checkpoint_missing']}"] if "checkpoint_missing" in index else []
    warnings += [f"plot {name}: {k.replace('_', ' ')}: {entry[k]}" for name, entry in index.get("plots", {}).items()
                 for k in ("skipped", "html_skipped", "png_skipped") if k in entry]
    return out, warnings

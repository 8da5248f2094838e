"""``python -m platform.report --study NAME``: the trials of a study, its best config and checkpoint, Optuna's plots.

Reads the study's Optuna storage (SQLite ``results/<study>/optuna.db`` by default, or the URL of
``--storage`` / the study's ``storage`` key / ``$XMODAL_OPTUNA_STORAGE``, as ``platform.tune`` does)
and the Tune experiments under ``results/<study>/`` (``run_info.json``, one directory per trial with
``params.json``, ``result.json`` and Train's ``checkpoint_*/state.pt``). Prints a table of the trials
and writes ``results/<study>/best/``:

- ``config.json`` and ``config.yaml``: the best trial's number, values, searched params, the
  study's fixed config and the trainable's resolved config (from the checkpoint);
- ``checkpoint/``: the best trial's reported checkpoint (its last evaluation: the model whose figures
  Optuna and the summary hold), copied;
- ``lineage.csv`` (a PBT study): which trial cloned which, at which epoch, with which new settings;
- ``trials.csv`` and ``report.json``: the table, and an index of everything written;
- ``plots/``: optimization history, parameter importances, parallel coordinates (and the Pareto
  front of a multi-objective study) as HTML (plotly, its script once in ``plotly.min.js``, works
  offline) and PNG (matplotlib); and each objective against wall time and against training steps,
  one line per trial (from Tune's ``result.json``), the way recipes and budgets are compared.

The best trial's figures also come as one plain sentence (``meaning``), written by the model's
evaluator (e.g. how often the judges agree on generated pairs against real ones).

``best/`` is built beside it under a temporary name and renamed into place, so readers see the
old report or the new one, never half of one.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import shutil
import sys
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_prep.atomic import atomic_path, swap_directory
from platform.failures import error_reason, failure_record, read_text
from platform.formatting import number, report_lines
from platform.storage import ENV_STORAGE, StorageError, connect, optuna_url, redact, results_location

FAIL_REASON_KEYS = ("fail_reason", "failure_reason", "reason", "error")
"""Trial attributes (user attrs, then system attrs) that may hold why a trial failed."""


class ReportError(ValueError):
    """Something the report needs is missing; the message names the study and the file."""


@dataclass
class TuneTrial:
    """One Tune trial directory: its searched params, reported rows and error (if any)."""

    path: Path
    experiment: str
    params: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    """The root cause in Tune's ``error.txt`` (``Type: message``), if the trial failed."""
    error_file: str = ""


@dataclass
class TrialRow:
    number: int
    state: str
    values: list[float] | None
    params: dict[str, Any]
    reason: str
    tune: TuneTrial | None

    def as_record(self, objectives: list[str]) -> dict[str, Any]:
        rec: dict[str, Any] = {"number": self.number, "state": self.state}
        for i, name in enumerate(objectives):
            rec[name] = self.values[i] if self.values and i < len(self.values) else None
        rec.update({f"params_{k}": v for k, v in self.params.items()})
        rec["reason"] = self.reason
        rec["tune_trial"] = str(self.tune.path) if self.tune else ""
        return rec


# ----------------------------------------------------------------------------- reading


def experiment_dirs(study_dir: Path, experiment: str | None, study_name: str) -> list[Path]:
    """Tune experiments of the study (directories with run_info.json), oldest first."""
    if not study_dir.is_dir():
        raise ReportError(f"study {study_name!r}: no results directory {study_dir} (run python -m platform.tune --study {study_name} first)")
    found = sorted((p for p in study_dir.iterdir() if (p / "run_info.json").is_file()), key=lambda p: p.name)
    if experiment is not None:
        chosen = [p for p in found if p.name == experiment]
        if not chosen:
            raise ReportError(f"study {study_name!r}: no experiment {experiment!r} with a run_info.json in {study_dir}; "
                              f"experiments: {', '.join(p.name for p in found) or 'none'}")
        return chosen
    return found


def read_tune_trials(experiment: Path) -> list[TuneTrial]:
    trials = []
    for d in sorted(p for p in experiment.iterdir() if (p / "params.json").is_file()):
        rows = []
        result = d / "result.json"
        if result.is_file():
            for line in result.read_text().splitlines():
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass  # a line cut short by a kill: the rows before it stand
        error_file = str(d / "error.txt") if (d / "error.txt").is_file() else ""
        error = (error_reason(read_text(error_file)) or "error") if error_file else ""
        trials.append(TuneTrial(d, experiment.name, json.loads((d / "params.json").read_text()), rows, error, error_file))
    return trials


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def match_trials(optuna_trials, tune_trials: list[TuneTrial]) -> dict[int, TuneTrial]:
    """Optuna trial number -> its Tune trial: by a recorded Tune trial id, else by equal params."""
    out: dict[int, TuneTrial] = {}
    free = list(tune_trials)
    for t in optuna_trials:
        tid = t.user_attrs.get("tune_trial_id") or t.user_attrs.get("trial_id")
        hit = next((tt for tt in free if tid and tt.rows and tt.rows[-1].get("trial_id") == tid), None)
        if hit is None and t.params:
            hit = next((tt for tt in free if set(tt.params) >= set(t.params)
                        and all(_same(tt.params[k], v) for k, v in t.params.items())), None)
        if hit is not None:
            out[t.number] = hit
            free.remove(hit)
    return out


def failure_reason(trial, tune: TuneTrial | None) -> str:
    for attrs in (trial.user_attrs, trial.system_attrs):
        for key in FAIL_REASON_KEYS:
            if attrs.get(key):
                return str(attrs[key])
    if tune is not None and tune.error:
        return tune.error
    state = trial.state.name
    if state == "PRUNED":
        epoch = tune.rows[-1].get("epoch") if tune is not None and tune.rows else None
        return f"stopped early by the scheduler (after epoch {epoch})" if epoch is not None else "stopped early by the scheduler"
    if state == "FAIL":
        return "failed (no reason recorded)"
    return ""


def failure(row: "TrialRow", tune_trial_id: str | None) -> dict[str, Any]:
    """A FAIL trial in one record (``platform.failures``): Optuna number and Tune id, exception type,
    message, and the Tune ``error.txt`` holding the full traceback."""
    trial_id = f"{row.number}" + (f" (tune {tune_trial_id})" if tune_trial_id else "")
    where = row.tune.error_file if row.tune and row.tune.error_file else "no error.txt found"
    return {**failure_record(trial_id, row.reason, where), "number": row.number, "config": row.params}


def objective_names(run_infos: list[dict], n: int, recorded: list[str] | None = None) -> list[str]:
    """The objective metric names: as the Optuna study records them (``recorded``, its ``metric_names``,
    set by ``platform.search``), else from the study in run_info.json (older studies), else value_0..."""
    if recorded and len(recorded) == n:
        return list(recorded)
    for info in reversed(run_infos):
        raw = info.get("study", {})
        obj = raw.get("objectives", raw.get("objective"))
        items = obj if isinstance(obj, list) else [obj] if isinstance(obj, dict) else []
        names = [o.get("metric") for o in items if isinstance(o, dict) and o.get("metric")]
        if len(names) == n:
            return names
    return ["value"] if n == 1 else [f"value_{i}" for i in range(n)]


def reported_checkpoint(tune: TuneTrial) -> Path | None:
    """The checkpoint of the trial's last report that still has one: the model whose metrics are the
    trial's value in Optuna and in the study's summary (both read a trial's last report). The SyncGAN
    recipe samples from weight averages (``ema_decay``), so the last evaluation is a settled one, not the
    luck of where training stopped. A row names its checkpoint by ``checkpoint_path`` (Train's, through
    Tune) or ``checkpoint_dir_name`` (an in-process trial's own Tune checkpoint, in the trial directory).
    Falls back to the newest checkpoint on disk."""
    for row in reversed(tune.rows):
        path = row.get("checkpoint_path") or (str(tune.path / row["checkpoint_dir_name"])
                                              if row.get("checkpoint_dir_name") else None)
        if path and (Path(path) / "state.pt").is_file():
            return Path(path)
    on_disk = sorted([*tune.path.glob("train/**/checkpoint_*/state.pt"), *tune.path.glob("checkpoint_*/state.pt")],
                     key=lambda p: (p.stat().st_mtime, str(p)))  # Train's checkpoints; a PBT trial's own
    return on_disk[-1].parent if on_disk else None


# ----------------------------------------------------------------------------- output


def format_table(rows: list[TrialRow], objectives: list[str], best_numbers: set[int]) -> str:
    head = ["#", "state", *objectives, "params", "reason"]
    body = []
    for r in rows:
        vals = [number(r.values[i]) if r.values and i < len(r.values) else "-" for i in range(len(objectives))]
        params = " ".join(f"{k}={number(v)}" for k, v in r.params.items())
        body.append([f"{r.number}{'*' if r.number in best_numbers else ''}", r.state, *vals, params, r.reason])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() for b in body]
    return "\n".join(lines)


def write_plots(study, out: Path, objectives: list[str]) -> dict[str, Any]:
    """Optuna's plots as HTML (plotly) and PNG (matplotlib); a plot that cannot be drawn (too few
    trials, a library missing) is listed with the reason instead."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {}
    multi = len(study.directions) > 1
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    plots: list[tuple[str, str, dict[str, Any]]] = []
    if multi:
        for i, name in enumerate(objectives):
            plots.append((f"optimization_history_{name}", "plot_optimization_history",
                          {"target": (lambda t, i=i: t.values[i]), "target_name": name}))
        plots += [("param_importances", "plot_param_importances",
                   {"target": (lambda t: t.values[0]), "target_name": objectives[0]}),
                  ("parallel_coordinate", "plot_parallel_coordinate",
                   {"target": (lambda t: t.values[0]), "target_name": objectives[0]}),
                  ("pareto_front", "plot_pareto_front", {"target_names": objectives})]
    else:
        plots += [("optimization_history", "plot_optimization_history", {"target_name": objectives[0]}),
                  ("param_importances", "plot_param_importances", {"target_name": objectives[0]}),
                  ("parallel_coordinate", "plot_parallel_coordinate", {"target_name": objectives[0]})]
    try:
        import optuna.visualization as vis
        import plotly  # noqa: F401
    except ImportError as e:
        vis = None
        html_missing = f"plotly is not installed ({e})"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import optuna.visualization.matplotlib as vis_mpl
    except ImportError as e:
        vis_mpl = None
        png_missing = f"matplotlib is not installed ({e})"
    for name, func, kwargs in plots:
        entry: dict[str, Any] = {}
        if len(complete) < (2 if name == "param_importances" else 1):
            entry["skipped"] = f"{len(complete)} complete trial(s): too few for this plot"
            written[name] = entry
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning for matplotlib plots
            if vis is None:
                entry["html_skipped"] = html_missing
            else:
                try:
                    fig = getattr(vis, func)(study, **kwargs)
                    path = out / f"{name}.html"
                    with atomic_path(path) as tmp:
                        fig.write_html(str(tmp), include_plotlyjs="directory")
                    entry["html"] = path.name
                except Exception as e:  # noqa: BLE001 - one plot's failure must not lose the report
                    entry["html_skipped"] = f"{type(e).__name__}: {e}"
            if vis_mpl is None:
                entry["png_skipped"] = png_missing
            else:
                try:
                    result = getattr(vis_mpl, func)(study, **kwargs)
                    ax = result.flat[0] if hasattr(result, "flat") else result
                    fig = ax.figure
                    fig.set_size_inches(max(fig.get_size_inches()[0], 8), max(fig.get_size_inches()[1], 5))
                    buf = io.BytesIO()
                    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
                    plt.close(fig)
                    path = out / f"{name}.png"
                    with atomic_path(path) as tmp:
                        tmp.write_bytes(buf.getvalue())
                    entry["png"] = path.name
                except Exception as e:  # noqa: BLE001
                    entry["png_skipped"] = f"{type(e).__name__}: {e}"
                    plt.close("all")
        written[name] = entry
    return written


# ----------------------------------------------------------------------------- the report


def write_curves(tune_trials: list[TuneTrial], numbers: dict[str, int], objectives: list[str], out: Path) -> dict[str, Any]:
    """Each objective against wall time (Tune's ``time_total_s``) and against steps (the trainable's
    ``step``, else Tune's iteration), one line per trial labelled by its Optuna number, as PNG and HTML."""
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for metric in objectives:
        for axis, key, label in (("time", "time_total_s", "wall seconds (trial)"), ("steps", "step", "training steps")):
            name = f"{metric}_vs_{axis}"
            lines = []
            for t in tune_trials:
                pts = [(r.get(key, r.get("training_iteration")), r[metric]) for r in t.rows
                       if isinstance(r.get(metric), (int, float)) and r.get(key, r.get("training_iteration")) is not None]
                if pts:
                    n = numbers.get(str(t.path))
                    lines.append((f"trial {n}" if n is not None else t.path.name, [x for x, _ in pts], [y for _, y in pts]))
            if not lines:
                entries[name] = {"skipped": f"no trial reported {metric}"}
                continue
            entry: dict[str, Any] = {}
            try:
                import matplotlib

                matplotlib.use("Agg")
                import matplotlib.pyplot as plt

                fig, ax = plt.subplots(figsize=(7, 4.5))
                for lab, xs, ys in lines:
                    ax.plot(xs, ys, marker=".", label=lab)
                ax.set_xlabel(label)
                ax.set_ylabel(metric)
                ax.grid(alpha=0.3)
                ax.legend(fontsize=7, ncol=2)
                fig.tight_layout()
                with atomic_path(out / f"{name}.png") as tmp:
                    fig.savefig(tmp, dpi=100, format="png")
                plt.close(fig)
                entry["png"] = f"{name}.png"
            except ImportError as e:
                entry["png_skipped"] = f"matplotlib is not installed ({e})"
            try:
                import plotly.graph_objects as go

                fig = go.Figure([go.Scatter(x=xs, y=ys, mode="lines+markers", name=lab) for lab, xs, ys in lines])
                fig.update_layout(xaxis_title=label, yaxis_title=metric, title=f"{metric} against {label}")
                with atomic_path(out / f"{name}.html") as tmp:
                    fig.write_html(str(tmp), include_plotlyjs="directory")
                entry["html"] = f"{name}.html"
            except ImportError as e:
                entry["html_skipped"] = f"plotly is not installed ({e})"
            entries[name] = entry
    return entries


def best_meaning(trainable: str | None, tune: TuneTrial | None) -> str:
    """The model's own sentence about the best trial's last reported metrics ('' if unknown)."""
    if not trainable or tune is None or not tune.rows:
        return ""
    from trainables.registry import TRAINABLES

    spec = TRAINABLES.get(trainable)
    return spec.evaluator_cls.meaning(tune.rows[-1]) if spec else ""


def load_optuna_study(study_name: str, url: str):
    import optuna

    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise ReportError(f"study {study_name!r}: no Optuna database at {url[len('sqlite:///'):]} "
                          f"(give --storage or ${ENV_STORAGE} if the study used another one)")
    storage = connect(url)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [s.study_name for s in storage.get_all_studies()]
        raise ReportError(f"study {study_name!r} is not in the Optuna storage {redact(url)}; "
                          f"studies there: {', '.join(names) or 'none'}") from None


def study_storage_key(name_or_path: str) -> tuple[str, str | None]:
    """(study name, its storage key) from platform/studies/NAME.yaml or a YAML path; a name that
    is no shipped study is taken as it is (an ad-hoc study run from a file elsewhere)."""
    from platform.study import StudyError, load_study

    try:
        study = load_study(name_or_path)
    except StudyError:
        if name_or_path.endswith((".yaml", ".yml")):
            raise
        return name_or_path, None
    return study.name, study.storage or None


def report(study_name: str, results_root: str | Path = "results", experiment: str | None = None,
           storage_url: str | None = None, study_storage: str | None = None, plots: bool = True) -> dict[str, Any]:
    """Build the report; returns its index (also written to ``best/report.json``) with the table."""
    results = results_location(results_root).child(study_name)
    if not results.is_local:
        raise ReportError(f"study {study_name!r}: results at {redact(results.uri)} are not local; copy them here "
                          "first (e.g. aws s3 sync / gsutil rsync) and pass --results with the local path")
    study_dir = results.local_path()
    url, _ = optuna_url(storage_url, study_storage, results)
    ostudy = load_optuna_study(study_name, url)
    experiments = experiment_dirs(study_dir, experiment, study_name)
    run_infos = [json.loads((e / "run_info.json").read_text()) for e in experiments]
    tune_trials = [t for e in experiments for t in read_tune_trials(e)]
    trials = sorted(ostudy.get_trials(deepcopy=False), key=lambda t: t.number)
    matched = match_trials(trials, tune_trials)
    directions = [d.name.lower() for d in ostudy.directions]
    objectives = objective_names(run_infos, len(directions), ostudy.metric_names)
    rows = [TrialRow(t.number, t.state.name, list(t.values) if t.values is not None else None, dict(t.params),
                     failure_reason(t, matched.get(t.number)), matched.get(t.number)) for t in trials]

    complete = [t for t in trials if t.state.name == "COMPLETE"]
    if not complete:
        best_trials = []
    elif len(directions) == 1:
        best_trials = [ostudy.best_trial]
    else:  # the Pareto front, best first by the first objective
        best_trials = sorted(ostudy.best_trials, key=lambda t: t.values[0], reverse=directions[0] == "maximize")
    best_numbers = {t.number for t in best_trials}
    table = format_table(rows, objectives, best_numbers)

    tmp = study_dir / f".best.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        index: dict[str, Any] = {
            "study": study_name, "optuna_storage": redact(url), "directions": directions, "objectives": objectives,
            "experiments": [e.name for e in experiments],
            "trials": {s: sum(r.state == s for r in rows) for s in sorted({r.state for r in rows})},
            "best_trials": sorted(best_numbers), "files": {},
            "failures": [failure(r, t.user_attrs.get("tune_trial_id")) for r, t in zip(rows, trials) if r.state == "FAIL"],
        }
        fieldnames: list[str] = []
        records = [r.as_record(objectives) for r in rows]
        for rec in records:
            fieldnames += [k for k in rec if k not in fieldnames]
        with open(tmp / "trials.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fieldnames or ["number"])
            w.writeheader()
            w.writerows(records)
        index["files"]["trials"] = "trials.csv"
        if best_trials:
            best = best_trials[0]
            tune = matched.get(best.number)
            info = next((i for e, i in zip(experiments, run_infos) if tune and e.name == tune.experiment),
                        run_infos[-1] if run_infos else {})
            config: dict[str, Any] = {
                "study": study_name, "trial_number": best.number, "directions": directions,
                "values": dict(zip(objectives, best.values)), "params": dict(best.params),
                "trainable": info.get("study", {}).get("trainable"),
                "fixed_config": info.get("fixed_config", {}),
                "experiment": tune.experiment if tune else None, "tune_trial_dir": str(tune.path) if tune else None,
            }
            ckpt = reported_checkpoint(tune) if tune else None
            if ckpt is not None:
                shutil.copytree(ckpt, tmp / "checkpoint")
                config["checkpoint_source"] = str(ckpt)
                config["resolved_config"] = _resolved_config(tmp / "checkpoint" / "state.pt")
                index["files"]["checkpoint"] = "checkpoint"
            else:
                config["checkpoint_source"] = None
                index["checkpoint_missing"] = (f"trial {best.number} has no Tune trial directory with a checkpoint under "
                                               f"{study_dir}" if tune is None else f"no checkpoint_*/state.pt under {tune.path}")
            index["meaning"] = best_meaning(config["trainable"], tune)
            if len(best_trials) > 1:
                config["pareto_front"] = [{"number": t.number, "values": dict(zip(objectives, t.values)),
                                           "params": dict(t.params)} for t in best_trials]
            import yaml

            (tmp / "config.json").write_text(json.dumps(config, indent=2, default=str))
            (tmp / "config.yaml").write_text(yaml.safe_dump(json.loads(json.dumps(config, default=str)), sort_keys=False))
            index["files"].update(config_json="config.json", config_yaml="config.yaml")
        else:
            index["best_missing"] = f"study {study_name!r} has no COMPLETE trial"
        pbt = pbt_lineage(matched)
        if pbt:
            with open(tmp / "lineage.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=["epoch", "trial", "from", "cloned", "config"])
                w.writeheader()
                w.writerows({**e, "config": json.dumps(e["config"])} for e in pbt)
            index["lineage"] = pbt
            index["files"]["lineage"] = "lineage.csv"
        if plots:
            index["plots"] = write_plots(ostudy, tmp / "plots", objectives)
            numbers = {str(tt.path): n for n, tt in matched.items()}
            index["plots"].update(write_curves(tune_trials, numbers, objectives, tmp / "plots"))
        (tmp / "report.json").write_text(json.dumps(index, indent=2, default=str))
        swap_directory(tmp, study_dir / "best")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    index["table"] = table
    index["best_dir"] = str(study_dir / "best")
    return index


def pbt_lineage(matched: dict[int, TuneTrial]) -> list[dict[str, Any]]:
    """A PBT study's clones and resumes (``platform.pbt.lineage``), trials named by Optuna number."""
    import pyarrow.fs

    from platform.pbt import lineage, read_lineage

    local = pyarrow.fs.LocalFileSystem()
    return lineage([(str(n), str(t.path), read_lineage(local, str(t.path))) for n, t in sorted(matched.items())])


def _resolved_config(state_path: Path) -> dict[str, Any] | None:
    import torch

    try:
        return torch.load(state_path, map_location="cpu", weights_only=True).get("config")
    except Exception:  # noqa: BLE001 - the copy is what matters; the config is a convenience
        return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m platform.report", description=__doc__.splitlines()[0])
    p.add_argument("--study", required=True, help="the study's name (or its YAML path)")
    p.add_argument("--results", default="results", help="results root (default: results/)")
    p.add_argument("--experiment", help="only this experiment directory under results/<study>/ (default: all)")
    p.add_argument("--storage", help="Optuna storage URL, password as ${VAR} from the environment "
                   f"(default: the study's storage key, ${{{ENV_STORAGE}}}, else SQLite in the results directory)")
    p.add_argument("--no-plots", action="store_true", help="skip the plots")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        name, study_storage = study_storage_key(args.study)
        index = report(name, args.results, args.experiment, args.storage, study_storage, plots=not args.no_plots)
    except (ReportError, StorageError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # results/<study>/ read-only or full: best/ is built aside, so the old one stands
        from data_prep.storage import os_error_line

        print(f"error: cannot write the report: {os_error_line(e, args.results)}", file=sys.stderr)
        return 2
    out, problems = report_lines(index)
    print("\n".join(out))
    for line in problems:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Study YAML: one validated schema, checked before Ray starts. Unknown keys are errors.

A study names the trainable, the corpus, the fixed training config, the search space, the
objective(s), the scheduler, the searcher and the resources (``preset:``, one of ``platform/presets.yaml``'s
local-cpu and gpu, which a study's own ``presets:`` may amend or extend).

Search space (``search:``): one entry per trainable setting, each exactly one distribution
(``loguniform: [low, high]``, ``uniform: [low, high]``, ``int: [low, high]``, ``choice: [values]``)
plus, optionally:

- ``when: {parent: value}`` (or ``{parent: [value, ...]}``; several parents: all must hold): the
  parameter is conditional. ``parent`` must be another searched ``choice`` and each value one of its
  choices; conditions may nest (a parent may itself be conditional) but not form a cycle. The space
  is sampled define-by-run (``platform.search.SearchSpace``), parents first, so TPE sees the real
  distributions; when the condition is false the parameter is not sampled at all, is absent from the
  trial's config and Optuna's params, and the trainable's default applies. The YAML order is the
  sampling order (parents moved ahead of their conditional parameters), so with a seed it fixes the
  points drawn.
- Every value a trial can draw (both ends of a range, every choice, every ``grid:`` value) must
  pass the trainable config's own ``validate()`` with the fixed config; the error names the key
  and the bound (``search.pair_ratio.uniform: high 1.5 fails syncgan's own check: ...``).
- ``grid: [values]``: the values ``searcher: {type: grid}`` takes for a non-``choice`` parameter
  (inside its range). Under grid search every parameter is a ``choice`` (its choices, or a ``grid:``
  subset of them) or carries ``grid:``; conditional parameters are not allowed there. ``num_samples``
  defaults to the grid size and may not exceed it.

Objectives (``objective:``): ``{metric, mode}``, or a list of them for a multi-objective study
(``[{metric: fid_image, mode: min}, {metric: sync_rate, mode: max}]``): Optuna then keeps one value
per objective and the summary lists the Pareto front. ``Study.objectives`` holds them all;
``Study.metric``/``Study.mode`` are the first. Metrics must be ones the trainable reports (its
evaluator's scalars, its final scalars with FIFO only, or a training ``loss*``).

Searchers (``searcher.type``): ``optuna_tpe`` (single and multi-objective), ``random``, ``grid``
(Optuna's GridSampler, so grid trials land in the Optuna storage too) and ``nsga2`` (Optuna's
NSGAIISampler, ``population_size``), all through Ray's OptunaSearch. ``searcher.cover: <parameter>``
(a searched ``choice``): the study's first trials take each of its values in turn (Optuna's
``enqueue_trial``, once per Optuna study), the sampler drawing the other settings; a label-budget study
covers every ``semi_rate`` so that each budget has a trial before TPE concentrates.

A cost objective: with two objectives of which the second is minimized (``label_budget``, the share
of paired training data), the summary also answers the trade-off: the best trial at each value of the
cost, and the smallest cost whose best trial comes within ``tolerance`` (default 0.02) of the best
first objective.

Target (``target: <value>``, single objective only): the whole search stops once a trial reports the
objective at or beyond this value (``>=`` for max, ``<=`` for min); running trials are stopped and
kept, no new trial starts, and the summary says ``target_reached`` (the run is not ``interrupted``).

Schedulers (``scheduler.type``): ``asha``, ``pbt`` or ``fifo``. ASHA and PBT rank trials on one
metric: the objective for a single-objective study; with several objectives give ``scheduler.metric``
(and ``scheduler.mode`` unless the metric is one of the objectives), or use ``fifo``.

``pbt`` is population-based training (Ray's ``PopulationBasedTraining``, ``platform.pbt``): ``num_samples``
trials start from random draws of the search space (``searcher: {type: random, seed}``, the default
under PBT: Ray's PBT takes no search algorithm); every ``perturbation_interval`` epochs a trial in the
bottom ``quantile_fraction`` clones the checkpoint of one in the top and goes on with its settings
mutated (each searched setting resampled with ``resample_probability``, else multiplied by 0.8 or 1.2,
or moved to a neighbouring choice; kept within the search range), all trials in step when ``synch``.
The mutations are the search space; conditional parameters are not allowed, and a trial trains in one
process (the preset's ``num_workers`` must be 1).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from platform.study_settings import SCHEDULER_TYPES, SEARCHERS, Scheduler, Searcher
from trainables.config import from_dict
from trainables.resources import Resources

STUDIES_DIR = Path(__file__).resolve().parent / "studies"
PRESETS_FILE = Path(__file__).resolve().parent / "presets.yaml"
"""The resource presets every study shares (a study's ``presets:`` entries are merged over them)."""
DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
PARAM_KEYS = ("when", "grid")
SEARCHER_KEYS = set(Searcher.__dataclass_fields__)
SCHEDULER_KEYS = set(Scheduler.__dataclass_fields__)
TOP_KEYS = {
    "description", "trainable", "corpus", "config", "search", "objective", "num_samples",
    "scheduler", "searcher", "presets", "preset", "classifiers", "storage", "target", "tolerance",
}
RESOURCE_KEYS = set(Resources.__dataclass_fields__)


class StudyError(ValueError):
    """A study file or an override that does not fit the schema; the message names the key."""


def same_value(a: Any, b: Any) -> bool:
    """Equal as YAML values: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


@dataclass
class SearchParam:
    name: str
    kind: str
    args: list
    when: dict[str, list] = field(default_factory=dict)
    """Conditions: parent choice parameter -> the values under which this parameter is sampled."""
    grid: list | None = None
    """Values for ``searcher: {type: grid}`` (a choice's own choices when not given)."""

    def active(self, sampled: dict[str, Any]) -> bool:
        """Whether the conditions hold for the parameters sampled so far (an unsampled parent: no)."""
        return all(parent in sampled and any(same_value(sampled[parent], v) for v in values)
                   for parent, values in self.when.items())

    def grid_values(self) -> list:
        return list(self.grid) if self.grid is not None else list(self.args) if self.kind == "choice" else []

    def suggest(self, trial, grid: bool = False) -> Any:
        """Sample this parameter on an Optuna trial (define-by-run); under grid search a choice
        parameter offers its grid values, a numeric one its range (GridSampler picks the value)."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, self.grid_values() if grid else list(self.args))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.args[0]), int(self.args[1]))
        return trial.suggest_float(self.name, float(self.args[0]), float(self.args[1]), log=self.kind == "loguniform")

    def to_optuna(self):
        """The Optuna distribution (so TPE sees the real scale and type)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "loguniform":
            return FloatDistribution(float(self.args[0]), float(self.args[1]), log=True)
        if self.kind == "uniform":
            return FloatDistribution(float(self.args[0]), float(self.args[1]))
        if self.kind == "int":
            return IntDistribution(int(self.args[0]), int(self.args[1]))
        return CategoricalDistribution(list(self.args))


@dataclass
class Study:
    name: str
    trainable: str
    corpus: dict[str, Any]
    config: dict[str, Any]
    search: list[SearchParam]
    """In sampling order: every conditional parameter after its parents."""
    metric: str
    """The first objective's metric (the objective of single-objective code paths)."""
    mode: str
    num_samples: int
    scheduler: Scheduler
    searcher: Searcher
    resources: Resources
    """The chosen preset's resources."""
    preset: str
    classifiers: dict[str, Any] = field(default_factory=dict)
    storage: str = ""
    """Optuna storage URL (``${VAR}`` from the environment); empty: SQLite in the results directory."""
    description: str = ""
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    objectives: list[tuple[str, str]] = field(default_factory=list)
    """Every objective as (metric, mode); the first is ``metric``/``mode``."""
    target: float | None = None
    """Stop the whole search once a trial's objective reaches this value (single objective only)."""
    tolerance: float = 0.02
    """A cost study's answer: the smallest cost whose best trial is within this of the best first objective."""

    def __post_init__(self) -> None:
        if not self.objectives:
            self.objectives = [(self.metric, self.mode)]

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def cost_objective(self) -> str | None:
        """The second of exactly two objectives when it is minimized (a cost such as ``label_budget``)."""
        return self.objectives[1][0] if len(self.objectives) == 2 and self.objectives[1][1] == "min" else None

    def resolved(self) -> dict[str, Any]:
        """What the search will use, defaults filled in (printed by ``--dry-run``)."""
        searcher = self.searcher.resolved()
        if self.searcher.type == "grid":
            searcher["grid"] = {p.name: p.grid_values() for p in self.search}
        if self.searcher.cover is not None:
            searcher["cover"] = self.searcher.cover
        scheduler = self.scheduler.resolved(*self.scheduler_objective(), epochs=int(self.config.get("epochs", 5)))
        space = {}
        for p in self.search:
            space[p.name] = {p.kind: p.args, **({"when": p.when} if p.when else {}),
                             **({"grid": p.grid} if p.grid is not None else {})}
        return {"objectives": [{"metric": m, "mode": d} for m, d in self.objectives], "target": self.target,
                **({"tolerance": self.tolerance} if self.cost_objective else {}),
                "searcher": searcher, "scheduler": scheduler, "num_samples": self.num_samples, "search": space}

    def scheduler_objective(self) -> tuple[str, str]:
        """The (metric, mode) ASHA and PBT rank trials on: ``scheduler.metric``/``mode``, else the objective."""
        metric = self.scheduler.metric
        if metric is None:
            return self.metric, self.mode
        return metric, self.scheduler.mode or dict(self.objectives)[metric]


def add_study_arguments(parser, example: str, *aliases: str) -> None:
    """The arguments platform.tune and platform.train share: which study (``--study``, plus older
    spellings in ``aliases``), overrides, preset, where."""
    parser.add_argument("--study", *aliases, required=True, dest="study",
                        help=f"a study name ({', '.join(known_studies())}) or a YAML path")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a study key, e.g. {example}")
    parser.add_argument("--preset", help="resources preset of the study (local-cpu, gpu)")
    parser.add_argument("--results", default="results",
                        help="results root: a path or a URI such as s3://bucket/prefix (default: results/)")
    parser.add_argument("--data", default="data", help="corpus root (default: data/)")
    parser.add_argument("--address", help="Ray cluster address to join (default: start a local Ray)")


def known_studies() -> list[str]:
    return sorted(p.stem for p in STUDIES_DIR.glob("*.yaml"))


def study_path(name_or_path: str) -> Path:
    """A study name from platform/studies/ or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise StudyError(f"study file {p} does not exist")
        return p
    p = STUDIES_DIR / f"{name_or_path}.yaml"
    if not p.is_file():
        raise StudyError(f"unknown study {name_or_path!r}; known studies: {', '.join(known_studies())}")
    return p


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (["a", "b"], YAML-parsed value)."""
    from data_prep.cli import parse_set

    try:
        key, value = parse_set(item)
    except ValueError:
        raise StudyError(f"override {item!r} must look like key=value (e.g. config.epochs=2)") from None
    return key.split("."), value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for item in overrides:
        path, value = parse_override(item)
        node = out
        for k in path[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise StudyError(f"override {item!r}: {k!r} is not a mapping")
        node[path[-1]] = value
    return out


def load_study(
    name_or_path: str, overrides: list[str] | None = None, preset: str | None = None, single_run: bool = False
) -> Study:
    """Load, override and validate a study; ``single_run`` drops its search space (platform.train)."""
    path = study_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise StudyError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise StudyError(f"{path}: a study must be a YAML mapping")
    if single_run:  # one run: no space, nothing to search or schedule
        raw.pop("search", None)
        raw.pop("searcher", None)
        raw["scheduler"] = {"type": "fifo"}
    raw = apply_overrides(raw, overrides or [])
    return validate(raw, name=path.stem, source=str(path), preset=preset)


def _unknown(where: str, given: dict, allowed: set[str]) -> None:
    bad = sorted(set(given) - allowed)
    if bad:
        raise StudyError(f"{where}: unknown key(s) {bad}; allowed: {sorted(allowed)}")


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _search_param(name: str, spec: Any) -> SearchParam:
    if not isinstance(spec, dict):
        raise StudyError(f"search.{name}: give exactly one of {DISTRIBUTIONS}, e.g. {{loguniform: [1e-5, 1e-3]}}")
    kinds = [k for k in spec if k not in PARAM_KEYS]
    if len(kinds) != 1:
        raise StudyError(f"search.{name}: give exactly one of {DISTRIBUTIONS} (plus optional {PARAM_KEYS}), "
                         f"e.g. {{loguniform: [1e-5, 1e-3]}}; got {sorted(map(str, spec))}")
    kind = kinds[0]
    args = spec[kind]
    if kind not in DISTRIBUTIONS:
        raise StudyError(f"search.{name}: unknown distribution {kind!r}; use one of {DISTRIBUTIONS} "
                         f"(plus optional {PARAM_KEYS})")
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise StudyError(f"search.{name}.choice: needs a non-empty list")
        bad = [a for a in args if not _scalar(a)]
        if bad:
            raise StudyError(f"search.{name}.choice: values must be numbers, strings, booleans or null, got {bad!r}")
        if any(same_value(a, b) for i, a in enumerate(args) for b in args[:i]):
            raise StudyError(f"search.{name}.choice: values repeat in {args!r}")
        param = SearchParam(name, kind, args)
    else:
        if isinstance(args, list):  # YAML reads 1e-3 (no dot) as text
            args = [_number(a) for a in args]
        if not (isinstance(args, list) and len(args) == 2 and all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                                                  for a in args)):
            raise StudyError(f"search.{name}.{kind}: needs [low, high] numbers, got {args!r}")
        low, high = args
        if not low < high:
            raise StudyError(f"search.{name}.{kind}: low {low} must be below high {high}")
        if kind == "loguniform" and low <= 0:
            raise StudyError(f"search.{name}.loguniform: low must be > 0, got {low}")
        param = SearchParam(name, kind, [low, high])
    when = spec.get("when")
    if when is not None:
        if not isinstance(when, dict) or not when:
            raise StudyError(f"search.{name}.when: a mapping {{parameter: value}} or {{parameter: [values]}}, got {when!r}")
        param.when = {str(k): (list(v) if isinstance(v, list) else [v]) for k, v in when.items()}
        for parent, values in param.when.items():
            if not values:
                raise StudyError(f"search.{name}.when.{parent}: needs at least one value")
    if "grid" in spec:
        grid = spec["grid"]
        if not isinstance(grid, list) or not grid:
            raise StudyError(f"search.{name}.grid: needs a non-empty list of values")
        if kind == "choice":
            bad = [g for g in grid if not any(same_value(g, c) for c in param.args)]
            if bad:
                raise StudyError(f"search.{name}.grid: {bad!r} not among its choices {param.args!r}")
        else:
            grid = [_number(g) for g in grid]
            low, high = param.args
            bad = [g for g in grid if isinstance(g, bool) or not isinstance(g, (int, float)) or not low <= g <= high
                   or (kind == "int" and g != int(g))]
            if bad:
                raise StudyError(f"search.{name}.grid: {bad!r} not {'integers ' if kind == 'int' else 'numbers '}"
                                 f"within [{low}, {high}]")
            grid = [int(g) for g in grid] if kind == "int" else grid
        if any(same_value(a, b) for i, a in enumerate(grid) for b in grid[:i]):
            raise StudyError(f"search.{name}.grid: values repeat in {grid!r}")
        param.grid = grid
    return param


def _check_search_values(search: list[SearchParam], config_cls: type, config: dict, trainable: str) -> None:
    """Every value a trial can draw passes the trainable config's own ``validate()`` (with the fixed
    config): both ends of a range, every choice, every grid value. Each is checked on its own, the other
    searched settings at their defaults, so a rule tying two searched settings together is not seen."""
    for p in search:
        values = [("choice", v) for v in p.args] if p.kind == "choice" else [("low", p.args[0]), ("high", p.args[1])]
        values += [("grid value", g) for g in p.grid or []]
        for what, value in values:
            try:
                from_dict(config_cls, {**config, p.name: value}, where=f"search.{p.name}")
            except (TypeError, ValueError) as e:
                reason = str(e).removeprefix(f"search.{p.name}: ")
                raise StudyError(f"search.{p.name}.{p.kind}: {what} {value!r} fails {trainable}'s own check: "
                                 f"{reason}") from None


def _order_conditions(search: list[SearchParam]) -> list[SearchParam]:
    """Check every ``when`` (a searched choice parent, one of its values, no cycle); parents first."""
    by_name = {p.name: p for p in search}
    for p in search:
        for parent, values in p.when.items():
            if parent == p.name:
                raise StudyError(f"search.{p.name}.when: a parameter cannot depend on itself")
            if parent not in by_name:
                raise StudyError(f"search.{p.name}.when: {parent!r} is not a searched parameter; "
                                 f"searched: {sorted(by_name)}")
            if by_name[parent].kind != "choice":
                raise StudyError(f"search.{p.name}.when: {parent!r} must be a choice parameter to condition on, "
                                 f"it is {by_name[parent].kind}")
            bad = [v for v in values if not any(same_value(v, c) for c in by_name[parent].args)]
            if bad:
                raise StudyError(f"search.{p.name}.when.{parent}: {bad!r} not among {parent}'s choices "
                                 f"{by_name[parent].args!r}")
    ordered: list[SearchParam] = []
    state: dict[str, str] = {}

    def visit(p: SearchParam, path: list[str]) -> None:
        if state.get(p.name) == "done":
            return
        if state.get(p.name) == "visiting":
            cycle = path[path.index(p.name):] + [p.name]
            raise StudyError(f"search.{p.name}.when: circular condition {' -> '.join(cycle)}")
        state[p.name] = "visiting"
        for parent in p.when:
            visit(by_name[parent], [*path, p.name])
        state[p.name] = "done"
        ordered.append(p)

    for p in search:
        visit(p, [])
    return ordered


def _objectives(raw: Any, trainable: str, evaluator) -> list[tuple[str, str]]:
    """``{metric, mode}`` or a list of them -> [(metric, mode)], each a metric the trainable reports."""
    from trainables.registry import TRAINABLES

    if raw is None or raw == {}:
        return [(TRAINABLES[trainable].objective, "max")]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise StudyError("objective: an empty list; give {metric, mode} or a list of them")
    out: list[tuple[str, str]] = []
    from trainables.loop import LOOP_METRICS

    known = (*evaluator.scalars, *evaluator.final_scalars, *LOOP_METRICS)
    for i, item in enumerate(items):
        where = f"objective[{i}]" if isinstance(raw, list) else "objective"
        if not isinstance(item, dict):
            raise StudyError(f"{where}: a mapping {{metric: ..., mode: min|max}}, got {item!r}")
        _unknown(where, item, {"metric", "mode"})
        metric = item.get("metric", TRAINABLES[trainable].objective if not isinstance(raw, list) else None)
        if not metric:
            raise StudyError(f"{where}.metric: required in a list of objectives")
        if metric not in known and not str(metric).startswith("loss"):
            raise StudyError(f"{where}.metric: {metric!r} is not a metric {trainable} reports; "
                             f"metrics: {list(known)} or a training loss_*")
        mode = item.get("mode", "max")
        if mode not in ("min", "max"):
            raise StudyError(f"{where}.mode: {mode!r} must be 'min' or 'max'")
        if any(m == metric for m, _ in out):
            raise StudyError(f"{where}.metric: {metric!r} is already an objective")
        out.append((metric, mode))
    return out


def _scheduler(raw: Any, objectives: list[tuple[str, str]], config: dict, evaluator) -> Scheduler:
    scheduler = _checked_scheduler(raw, objectives, config, evaluator)
    try:
        return from_dict(Scheduler, scheduler, where="scheduler")
    except (TypeError, ValueError) as e:
        raise StudyError(str(e)) from None


def _checked_scheduler(raw: Any, objectives: list[tuple[str, str]], config: dict, evaluator) -> dict[str, Any]:
    """The ``scheduler:`` mapping checked against the objectives and the config."""
    if raw is not None and not isinstance(raw, dict):
        raise StudyError(f"scheduler: a mapping such as {{type: asha, grace_period: 2}}, got {raw!r}")
    scheduler = dict(raw or {"type": "asha"})
    _unknown("scheduler", scheduler, SCHEDULER_KEYS)
    scheduler.setdefault("type", "asha")
    kind = scheduler["type"]
    if kind not in SCHEDULER_TYPES:
        raise StudyError(f"scheduler.type: {kind!r} must be one of {list(SCHEDULER_TYPES)}")
    if scheduler.get("threshold") is not None:
        _threshold(scheduler, kind)
    final = [m for m, _ in objectives if m in evaluator.final_scalars]
    if kind == "fifo":  # every trial runs to its last epoch (final scalars included)
        return scheduler
    name = {"asha": "ASHA stops", "pbt": "PBT ranks"}[kind]
    if final:
        raise StudyError(f"objective: {final} are only reported at the last epoch; {name} trials before it "
                         "(use scheduler.type: fifo)")
    if kind == "pbt":
        _pbt_settings(scheduler, config)
    else:
        max_t = scheduler.get("max_t", config.get("epochs", 5))
        if int(scheduler.get("grace_period", 1)) > int(max_t):
            raise StudyError(f"scheduler.grace_period {scheduler.get('grace_period')} exceeds max_t {max_t} "
                             "(scheduler.max_t, else config.epochs)")
    metric, mode = scheduler.get("metric"), scheduler.get("mode")
    if metric is None:
        if mode is not None:
            raise StudyError("scheduler.mode: give scheduler.metric with it")
        if len(objectives) > 1:
            raise StudyError(f"scheduler: {name} trials on one metric, and this study has {len(objectives)} objectives "
                             f"({', '.join(m for m, _ in objectives)}); set scheduler.metric (and scheduler.mode) "
                             "or use scheduler.type: fifo")
        return scheduler
    from trainables.loop import LOOP_METRICS

    if metric not in (*evaluator.scalars, *LOOP_METRICS) and not str(metric).startswith("loss"):
        raise StudyError(f"scheduler.metric: {metric!r} is not reported every epoch; "
                         f"metrics: {[*evaluator.scalars, *LOOP_METRICS]} or a training loss_*")
    if mode is None and metric not in dict(objectives):
        raise StudyError(f"scheduler.mode: required ('min' or 'max'): {metric!r} is not one of the objectives")
    if mode is not None and mode not in ("min", "max"):
        raise StudyError(f"scheduler.mode: {mode!r} must be 'min' or 'max'")
    return scheduler


def _scheduler_number(scheduler: dict[str, Any], key: str) -> float:
    """``scheduler[key]`` (default: ``Scheduler``'s) as a finite number, else one clear error."""
    value = _number(scheduler.get(key, getattr(Scheduler(), key)))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StudyError(f"scheduler.{key}: a number, got {scheduler.get(key)!r}")
    return float(value)


def _threshold(scheduler: dict[str, Any], kind: str) -> None:
    """ASHA's ``threshold``: a finite number, and only under ASHA."""
    if kind != "asha":
        raise StudyError(f"scheduler.threshold: only ASHA stops trials at a threshold (scheduler.type: asha), "
                         f"this study's scheduler is {kind}")
    scheduler["threshold"] = _scheduler_number(scheduler, "threshold")


def _pbt_settings(scheduler: dict[str, Any], config: dict) -> None:
    """PBT's own settings: an interval within the run, fractions within Ray's bounds."""
    interval, epochs = _scheduler_number(scheduler, "perturbation_interval"), int(config.get("epochs", 5))
    if not 0 < interval < epochs:
        raise StudyError(f"scheduler.perturbation_interval: {interval:g} epochs must be above 0 and below the run's "
                         f"{epochs} epochs (config.epochs), or no trial is ever perturbed")
    if not 0 < _scheduler_number(scheduler, "quantile_fraction") <= 0.5:
        raise StudyError(f"scheduler.quantile_fraction: {scheduler['quantile_fraction']!r} must be in (0, 0.5] "
                         "(the share of trials that clone, and of those cloned)")
    if not 0 <= _scheduler_number(scheduler, "resample_probability") <= 1:
        raise StudyError(f"scheduler.resample_probability: {scheduler['resample_probability']!r} must be in [0, 1]")
    if not isinstance(scheduler.get("synch", False), bool):
        raise StudyError(f"scheduler.synch: true or false, got {scheduler['synch']!r}")


def _check_pbt(study: Study) -> None:
    """What PBT needs of the rest of the study: a space to mutate without conditions, a random first
    population, at least two trials, one process per trial."""
    if not study.search:
        raise StudyError("scheduler.type pbt: the search space is what PBT mutates; add search: entries")
    conditional = [p.name for p in study.search if p.when]
    if conditional:
        raise StudyError(f"search.{conditional[0]}.when: PBT mutates every searched setting at any time; "
                         "conditional parameters work with asha and fifo")
    if study.searcher.type != "random":
        raise StudyError(f"searcher.type: {study.searcher.type!r} cannot pick PBT's trials (Ray's "
                         "PopulationBasedTraining takes no search algorithm); use searcher: {type: random, seed: N} "
                         "or leave searcher out")
    if study.num_samples < 2:
        raise StudyError(f"num_samples: PBT needs a population of at least 2 trials, got {study.num_samples}")
    if study.resources.num_workers != 1:
        raise StudyError(f"preset {study.preset!r}: num_workers {study.resources.num_workers} — a PBT trial trains "
                         "in its own process (num_workers: 1); give the trial more cpus_per_worker instead")
    if not study.resources.in_process:
        raise StudyError(f"preset {study.preset!r}: in_process false — a PBT trial trains in its own process, "
                         "with Tune's checkpoints; leave in_process out")


def _searcher(raw: Any, search: list[SearchParam], num_samples: Any) -> tuple[Searcher, int]:
    searcher, num_samples = _checked_searcher(raw, search, num_samples)
    try:
        return from_dict(Searcher, searcher, where="searcher"), num_samples
    except (TypeError, ValueError) as e:
        raise StudyError(str(e)) from None


def _checked_searcher(raw: Any, search: list[SearchParam], num_samples: Any) -> tuple[dict[str, Any], int]:
    """The ``searcher:`` mapping checked against the search space; ``num_samples`` filled in."""
    if raw is not None and not isinstance(raw, dict):
        raise StudyError(f"searcher: a mapping such as {{type: optuna_tpe, seed: 0}}, got {raw!r}")
    searcher = dict(raw or {"type": "optuna_tpe"})
    _unknown("searcher", searcher, SEARCHER_KEYS)
    searcher.setdefault("type", "optuna_tpe")
    if searcher["type"] not in SEARCHERS:
        raise StudyError(f"searcher.type: {searcher['type']!r} must be one of {list(SEARCHERS)}")
    for key in ("seed", "n_startup_trials", "population_size"):
        if key in searcher and (not isinstance(searcher[key], int) or isinstance(searcher[key], bool) or searcher[key] < 0):
            raise StudyError(f"searcher.{key}: must be a non-negative integer, got {searcher[key]!r}")
    if searcher.get("cover") is None:  # cover: null (an override) is no cover
        searcher.pop("cover", None)
    if "cover" in searcher:
        param = next((p for p in search if p.name == searcher["cover"]), None)
        if param is None or param.kind != "choice" or param.when:
            raise StudyError(f"searcher.cover: {searcher['cover']!r} must be a searched choice parameter without "
                             f"when:; choices: {[p.name for p in search if p.kind == 'choice' and not p.when]}")
        if searcher["type"] == "grid":
            raise StudyError("searcher.cover: a grid covers every value already")
        if isinstance(num_samples, int) and num_samples < len(param.args):
            raise StudyError(f"searcher.cover: {param.name} has {len(param.args)} values and num_samples is "
                             f"{num_samples}: not every value would get a trial")
    if searcher["type"] == "nsga2" and int(searcher.get("population_size", Searcher.population_size)) < 2:
        raise StudyError(f"searcher.population_size: must be >= 2, got {searcher['population_size']!r}")
    if searcher["type"] != "grid" or not search:
        if num_samples is None:
            num_samples = 8
        return searcher, num_samples
    size = 1
    for p in search:
        if p.when:
            raise StudyError(f"search.{p.name}.when: grid search needs a fixed space; conditional parameters "
                             "work with optuna_tpe, random and nsga2")
        if not p.grid_values():
            raise StudyError(f"search.{p.name}: grid search needs a choice or grid: [values] for every parameter; "
                             f"{p.name} is {p.kind} {p.args} (add e.g. grid: [{p.args[0]}, {p.args[1]}])")
        size *= len(p.grid_values())
    if num_samples is None:
        num_samples = size
    elif isinstance(num_samples, int) and num_samples > size:
        raise StudyError(f"num_samples: {num_samples} exceeds the grid's {size} points "
                         f"({' x '.join(str(len(p.grid_values())) for p in search)}); leave it out to run the whole grid")
    return searcher, num_samples


def validate(raw: dict[str, Any], name: str, source: str = "", preset: str | None = None) -> Study:
    from trainables.registry import TRAINABLES

    _unknown("study", raw, TOP_KEYS)
    trainable = raw.get("trainable")
    if trainable not in TRAINABLES:
        raise StudyError(f"trainable: {trainable!r} is not one of {sorted(TRAINABLES)}")
    config_cls = TRAINABLES[trainable].config_cls
    evaluator = TRAINABLES[trainable].evaluator_cls
    corpus = raw.get("corpus") or {}
    _unknown("corpus", corpus, {"name", "overrides"})
    if not corpus.get("name"):
        raise StudyError("corpus.name: required (see `python -m data_prep list`)")
    _check_corpus(corpus["name"], corpus.get("overrides") or {})
    config = dict(raw.get("config") or {})
    search_raw = raw.get("search") or {}
    if not isinstance(search_raw, dict):
        raise StudyError(f"search: a mapping of setting -> distribution, got {search_raw!r}")
    search = [_search_param(k, v) for k, v in search_raw.items()]
    fields = set(config_cls.__dataclass_fields__)
    reserved = {"corpus_dir", "classifier_path", "tb_dir"}
    for key in [*config, *(p.name for p in search)]:
        if key not in fields:
            raise StudyError(f"config/search key {key!r} is not a {trainable} setting; settings: {sorted(fields - reserved)}")
        if key in reserved:
            raise StudyError(f"{key!r} is set by the platform, not by the study")
    both = set(config) & {p.name for p in search}
    if both:
        raise StudyError(f"{sorted(both)}: both fixed in config and searched")
    search = _order_conditions(search)
    try:
        from_dict(config_cls, config, where="config")
    except (TypeError, ValueError) as e:
        raise StudyError(str(e)) from None
    _check_search_values(search, config_cls, config, trainable)
    objectives = _objectives(raw.get("objective"), trainable, evaluator)
    pbt = isinstance(raw.get("scheduler"), dict) and raw["scheduler"].get("type") == "pbt"
    searcher_raw = raw.get("searcher")
    if pbt and isinstance(searcher_raw or {}, dict):  # PBT's first population is drawn at random
        searcher_raw = {"type": "random", **(searcher_raw or {})}
    searcher, num_samples = _searcher(searcher_raw, search, raw.get("num_samples"))
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise StudyError(f"num_samples: must be a positive integer, got {num_samples!r}")
    scheduler = _scheduler(raw.get("scheduler"), objectives, config, evaluator)
    presets = merged_presets(raw.get("presets"))
    chosen = preset or raw.get("preset", "local-cpu")
    if chosen not in presets:
        raise StudyError(f"preset {chosen!r} is not defined in presets; defined: {sorted(presets)}")
    for pname, res in presets.items():
        _unknown(f"presets.{pname}", res, RESOURCE_KEYS)
    resources = _resources(chosen, presets[chosen])
    classifiers = raw.get("classifiers") or {}
    _unknown("classifiers", classifiers, {"epochs_image", "epochs_audio", "seed"})
    storage = raw.get("storage") or ""
    if not isinstance(storage, str):
        raise StudyError(f"storage: a database URL such as postgresql+psycopg://optuna:${{OPTUNA_PG_PASSWORD}}@host/optuna, got {storage!r}")
    metric, mode = objectives[0]
    target = _target(raw.get("target"), objectives)
    tolerance = _number(raw["tolerance"]) if raw.get("tolerance") is not None else 0.02
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < math.inf:
        raise StudyError(f"tolerance: a non-negative number (how far below the best {metric} a cheaper trial may "
                         f"be), got {raw.get('tolerance')!r}")
    if raw.get("tolerance") is not None and not (len(objectives) == 2 and objectives[1][1] == "min"):
        raise StudyError("tolerance: answers a trade-off against a cost, the second of two objectives with mode min; "
                         f"this study's objectives are {[m for m, _ in objectives]}")
    study = Study(
        name=name, trainable=trainable, corpus={"name": corpus["name"], "overrides": corpus.get("overrides") or {}},
        config=config, search=search, metric=metric, mode=mode,
        num_samples=num_samples, scheduler=scheduler, searcher=searcher, resources=resources,
        preset=chosen, classifiers=classifiers, storage=storage, description=raw.get("description", ""), source=source,
        raw=raw, objectives=objectives, target=target, tolerance=float(tolerance),
    )
    if pbt:
        _check_pbt(study)
    return study


def _check_corpus(name: Any, overrides: Any) -> None:
    """The corpus's own config schema (``data_prep.corpora``) accepts the study's overrides: the same
    check ``data_prep.build`` makes, here before Ray starts (``--dry-run`` included)."""
    from data_prep.corpora import config_from_dict

    if not isinstance(overrides, dict):
        raise StudyError(f"corpus.overrides: a mapping of corpus config keys, got {overrides!r}")
    try:
        config_from_dict(str(name), overrides)
    except (TypeError, ValueError) as e:
        raise StudyError(f"corpus.overrides: {e}") from None


def _resources(preset: str, values: dict[str, Any]) -> Resources:
    """The preset's resources, typed (a wrong value names the preset and the key)."""
    try:
        return from_dict(Resources, values, where=f"presets.{preset}")
    except (TypeError, ValueError) as e:
        raise StudyError(str(e) if str(e).startswith("presets.") else f"presets.{preset}: {e}") from None


def shared_presets() -> dict[str, dict[str, Any]]:
    """``platform/presets.yaml``: preset name -> resources."""
    try:
        presets = yaml.safe_load(PRESETS_FILE.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise StudyError(f"{PRESETS_FILE}: cannot read the shared presets ({e})") from None
    if not isinstance(presets, dict) or not all(isinstance(v, dict) for v in presets.values()):
        raise StudyError(f"{PRESETS_FILE}: must map preset names to mappings of resources")
    return presets


def merged_presets(own: Any) -> dict[str, dict[str, Any]]:
    """The shared presets with a study's own ``presets:`` merged over them: by name, key by key."""
    if own is not None and not (isinstance(own, dict) and all(isinstance(v, dict) for v in own.values())):
        raise StudyError(f"presets: a mapping of preset names to mappings of resources, got {own!r}")
    presets = shared_presets()
    for name, resources in (own or {}).items():
        presets[name] = {**presets.get(name, {}), **resources}
    return presets


def _target(raw: Any, objectives: list[tuple[str, str]]) -> float | None:
    """``target``: a finite number, for a single-objective study."""
    if raw is None:
        return None
    value = _number(raw)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StudyError(f"target: a finite number (the {objectives[0][0]} that ends the search), got {raw!r}")
    if len(objectives) > 1:
        raise StudyError(f"target: stops a single-objective search; this study has {len(objectives)} objectives "
                         f"({', '.join(m for m, _ in objectives)})")
    return float(value)

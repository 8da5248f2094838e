"""A study's ``search:`` entries, one ``SearchParam`` per searched setting, parsed and put in sampling
order; a bad entry is a ``StudyError`` naming ``search.<name>``. ``platform.study`` checks them against the
rest of the study (``Study.validate``).

Each entry is exactly one distribution (``loguniform: [low, high]``, ``uniform: [low, high]``,
``int: [low, high]``, ``choice: [values]``) plus, optionally:

- ``when: {parent: value}`` (or ``{parent: [value, ...]}``; several parents: all must hold): the
  parameter is conditional. ``parent`` must be another searched ``choice`` and each value one of its
  choices; conditions may nest (a parent may itself be conditional) but not form a cycle. The space
  is sampled define-by-run (``platform.search.SearchSpace``), parents first, so TPE sees the real
  distributions; when the condition is false the parameter is not sampled at all, is absent from the
  trial's config and Optuna's params, and the trainable's default applies. The YAML order is the
  sampling order (parents moved ahead of their conditional parameters), so with a seed it fixes the
  points drawn.
- ``grid: [values]``: the values ``searcher: {type: grid}`` takes for a non-``choice`` parameter
  (inside its range). Under grid search every parameter is a ``choice`` (its choices, or a ``grid:``
  subset of them) or carries ``grid:``; conditional parameters are not allowed there. ``num_samples``
  defaults to the grid size and may not exceed it.

Every value a trial can draw (both ends of a range, every choice, every ``grid:`` value) must pass the
trainable config's own ``validate()`` with the fixed config; the error names the key and the bound
(``search.pair_ratio.uniform: high 1.5 fails syncgan's own check: ...``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from platform.study_files import StudyError

DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
PARAM_KEYS = ("when", "grid")


def same_value(a: Any, b: Any) -> bool:
    """Equal as YAML values: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def as_number(value: Any) -> Any:
    """``value``, a number if it is text that reads as one (YAML reads ``1e-3``, without a dot, as text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


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

    def resolved(self) -> dict[str, Any]:
        """The entry as ``--dry-run`` prints it."""
        return {self.kind: self.args, **({"when": self.when} if self.when else {}),
                **({"grid": self.grid} if self.grid is not None else {})}

    def values_to_check(self) -> list[tuple[str, Any]]:
        """Every value a trial can draw, named: both ends of a range, every choice, every grid value."""
        values = [("choice", v) for v in self.args] if self.kind == "choice" else [("low", self.args[0]), ("high", self.args[1])]
        return values + [("grid value", g) for g in self.grid or []]


def parse_search(raw: Any) -> list[SearchParam]:
    """``search:`` -> its parameters in sampling order (every conditional one after its parents)."""
    if not raw:
        return []
    if not isinstance(raw, dict):
        raise StudyError(f"search: a mapping of setting -> distribution, got {raw!r}")
    return _order_conditions([_search_param(k, v) for k, v in raw.items()])


def grid_size(search: list[SearchParam]) -> int:
    """Points of the grid ``searcher: {type: grid}`` runs: every parameter a choice or with ``grid:``, none conditional."""
    for p in search:
        if p.when:
            raise StudyError(f"search.{p.name}.when: grid search needs a fixed space; conditional parameters "
                             "work with optuna_tpe, random and nsga2")
        if not p.grid_values():
            raise StudyError(f"search.{p.name}: grid search needs a choice or grid: [values] for every parameter; "
                             f"{p.name} is {p.kind} {p.args} (add e.g. grid: [{p.args[0]}, {p.args[1]}])")
    return math.prod(len(p.grid_values()) for p in search)


def check_values(search: list[SearchParam], config_cls: type, config: dict, trainable: str) -> None:
    """Every value a trial can draw passes the trainable config's own check with the fixed ``config``: each on
    its own, the other searched settings at their defaults (a rule tying two searched settings is not seen)."""
    from trainables.config import from_dict

    for p in search:
        for what, value in p.values_to_check():
            try:
                from_dict(config_cls, {**config, p.name: value}, where=f"search.{p.name}")
            except (TypeError, ValueError) as e:
                raise StudyError(f"search.{p.name}.{p.kind}: {what} {value!r} fails {trainable}'s own check: "
                                 f"{str(e).removeprefix(f'search.{p.name}: ')}") from None


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
        if isinstance(args, list):
            args = [as_number(a) for a in args]
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
        param.grid = _grid(param, spec["grid"])
    return param


def _grid(param: SearchParam, grid: Any) -> list:
    """``param``'s ``grid:`` values: among its choices, or numbers within its range (integers for ``int``)."""
    name, kind = param.name, param.kind
    if not isinstance(grid, list) or not grid:
        raise StudyError(f"search.{name}.grid: needs a non-empty list of values")
    if kind == "choice":
        bad = [g for g in grid if not any(same_value(g, c) for c in param.args)]
        if bad:
            raise StudyError(f"search.{name}.grid: {bad!r} not among its choices {param.args!r}")
    else:
        grid = [as_number(g) for g in grid]
        low, high = param.args
        bad = [g for g in grid if isinstance(g, bool) or not isinstance(g, (int, float)) or not low <= g <= high
               or (kind == "int" and g != int(g))]
        if bad:
            raise StudyError(f"search.{name}.grid: {bad!r} not {'integers ' if kind == 'int' else 'numbers '}"
                             f"within [{low}, {high}]")
        grid = [int(g) for g in grid] if kind == "int" else grid
    if any(same_value(a, b) for i, a in enumerate(grid) for b in grid[:i]):
        raise StudyError(f"search.{name}.grid: values repeat in {grid!r}")
    return grid


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

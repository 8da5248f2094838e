"""Study YAML: one validated schema, checked before Ray starts. Unknown keys are errors.

A study names the trainable, the corpus, the fixed training config, the search space, the
objective, the scheduler, the searcher and the resources (presets: local-cpu, gpu).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STUDIES_DIR = Path(__file__).resolve().parent / "studies"
DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
TOP_KEYS = {
    "description", "trainable", "corpus", "config", "search", "objective", "num_samples",
    "scheduler", "searcher", "presets", "preset", "classifiers", "storage",
}
RESOURCE_KEYS = {
    "trial_cpus", "num_workers", "cpus_per_worker", "use_gpu", "gpus_per_worker", "max_concurrent_trials", "startup_retries",
    "max_failures", "keep_checkpoints",
}


class StudyError(ValueError):
    """A study file or an override that does not fit the schema; the message names the key."""


@dataclass
class SearchParam:
    name: str
    kind: str
    args: list

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
    metric: str
    mode: str
    num_samples: int
    scheduler: dict[str, Any]
    searcher: dict[str, Any]
    resources: dict[str, Any]
    preset: str
    classifiers: dict[str, Any] = field(default_factory=dict)
    storage: str = ""
    """Optuna storage URL (``${VAR}`` from the environment); empty: SQLite in the results directory."""
    description: str = ""
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def add_study_arguments(parser, study_flag: str, example: str) -> None:
    """The arguments platform.tune and platform.train share: which study, overrides, preset, where."""
    parser.add_argument(study_flag, required=True, dest="study",
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
    if "=" not in item:
        raise StudyError(f"override {item!r} must look like key=value (e.g. config.epochs=2)")
    key, value = item.split("=", 1)
    return key.strip().split("."), yaml.safe_load(value)


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
    if single_run:
        raw.pop("search", None)
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


def _search_param(name: str, spec: Any) -> SearchParam:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise StudyError(f"search.{name}: give exactly one of {DISTRIBUTIONS}, e.g. {{loguniform: [1e-5, 1e-3]}}")
    (kind, args), = spec.items()
    if kind not in DISTRIBUTIONS:
        raise StudyError(f"search.{name}: unknown distribution {kind!r}; use one of {DISTRIBUTIONS}")
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise StudyError(f"search.{name}.choice: needs a non-empty list")
        return SearchParam(name, kind, args)
    if isinstance(args, list):  # YAML reads 1e-3 (no dot) as text
        args = [_number(a) for a in args]
    if not (isinstance(args, list) and len(args) == 2 and all(isinstance(a, (int, float)) for a in args)):
        raise StudyError(f"search.{name}.{kind}: needs [low, high] numbers, got {args!r}")
    low, high = args
    if not low < high:
        raise StudyError(f"search.{name}.{kind}: low {low} must be below high {high}")
    if kind == "loguniform" and low <= 0:
        raise StudyError(f"search.{name}.loguniform: low must be > 0, got {low}")
    return SearchParam(name, kind, [low, high])


def validate(raw: dict[str, Any], name: str, source: str = "", preset: str | None = None) -> Study:
    from trainables.config import from_dict
    from trainables.registry import TRAINABLES

    _unknown("study", raw, TOP_KEYS)
    trainable = raw.get("trainable")
    if trainable not in TRAINABLES:
        raise StudyError(f"trainable: {trainable!r} is not one of {sorted(TRAINABLES)}")
    config_cls = TRAINABLES[trainable].config_cls
    corpus = raw.get("corpus") or {}
    _unknown("corpus", corpus, {"name", "overrides"})
    if not corpus.get("name"):
        raise StudyError("corpus.name: required (see `python -m data_prep list`)")
    config = dict(raw.get("config") or {})
    search = [_search_param(k, v) for k, v in (raw.get("search") or {}).items()]
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
    try:
        from_dict(config_cls, config, where="config")
    except (TypeError, ValueError) as e:
        raise StudyError(str(e)) from None
    objective = raw.get("objective") or {}
    _unknown("objective", objective, {"metric", "mode"})
    mode = objective.get("mode", "max")
    if mode not in ("min", "max"):
        raise StudyError(f"objective.mode: {mode!r} must be 'min' or 'max'")
    num_samples = raw.get("num_samples", 8)
    if not isinstance(num_samples, int) or num_samples < 1:
        raise StudyError(f"num_samples: must be a positive integer, got {num_samples!r}")
    scheduler = dict(raw.get("scheduler") or {"type": "asha"})
    _unknown("scheduler", scheduler, {"type", "grace_period", "reduction_factor", "max_t"})
    if scheduler.get("type") not in ("asha", "fifo"):
        raise StudyError(f"scheduler.type: {scheduler.get('type')!r} must be 'asha' or 'fifo'")
    if scheduler["type"] == "asha":
        max_t = scheduler.get("max_t", config.get("epochs", 5))
        if int(scheduler.get("grace_period", 1)) > int(max_t):
            raise StudyError(f"scheduler.grace_period {scheduler.get('grace_period')} exceeds max_t {max_t} "
                             "(scheduler.max_t, else config.epochs)")
    searcher = dict(raw.get("searcher") or {"type": "optuna_tpe"})
    _unknown("searcher", searcher, {"type", "seed", "n_startup_trials"})
    if searcher.get("type") not in ("optuna_tpe", "random"):
        raise StudyError(f"searcher.type: {searcher.get('type')!r} must be 'optuna_tpe' or 'random'")
    presets = raw.get("presets") or {}
    chosen = preset or raw.get("preset", "local-cpu")
    if chosen not in presets:
        raise StudyError(f"preset {chosen!r} is not defined in presets; defined: {sorted(presets)}")
    for pname, res in presets.items():
        _unknown(f"presets.{pname}", res, RESOURCE_KEYS)
    classifiers = raw.get("classifiers") or {}
    _unknown("classifiers", classifiers, {"epochs_image", "epochs_audio", "seed"})
    storage = raw.get("storage") or ""
    if not isinstance(storage, str):
        raise StudyError(f"storage: a database URL such as postgresql+psycopg://optuna:${{OPTUNA_PG_PASSWORD}}@host/optuna, got {storage!r}")
    return Study(
        name=name, trainable=trainable, corpus={"name": corpus["name"], "overrides": corpus.get("overrides") or {}},
        config=config, search=search, metric=objective.get("metric", TRAINABLES[trainable].objective), mode=mode,
        num_samples=num_samples, scheduler=scheduler, searcher=searcher, resources=dict(presets[chosen]),
        preset=chosen, classifiers=classifiers, storage=storage, description=raw.get("description", ""), source=source, raw=raw,
    )

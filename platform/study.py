"""Study YAML as one typed schema, checked before Ray starts: ``Study.from_dict`` builds every part with
the one ``from_dict`` (unknown keys rejected, null taken as the default, each part's own checks), and
``Study.validate`` checks the parts against each other. Every error is one ``StudyError`` line naming the
key; every default is defined once, next to its field. The search space: ``platform.search_params``;
files, ``--set`` overrides and resource presets: ``platform.study_files``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Optional

from platform.search_params import SearchParam, as_number, check_values, grid_size, parse_search
from platform.study_files import StudyError, apply_overrides, merged_presets, read_study, study_path
from trainables.config import from_dict
from trainables.resources import Resources

SEARCHERS = ("optuna_tpe", "random", "grid", "nsga2")
SCHEDULER_TYPES = ("asha", "pbt", "fifo")
MODES = ("min", "max")
PBT_KEYS = ("perturbation_interval", "quantile_fraction", "resample_probability", "synch")
SET_BY_PLATFORM = ("corpus_dir", "classifier_path", "tb_dir")
"""Config keys the platform sets for every run, never the study."""
TOP_KEYS = {"description", "trainable", "corpus", "config", "search", "objective", "num_samples", "scheduler",
            "searcher", "presets", "preset", "classifiers", "storage", "target", "tolerance"}


@dataclass(frozen=True)
class Corpus:
    """The corpus the trials read: ``name`` (required) one of ``python -m data_prep list``, cached by config hash."""

    name: str = ""
    overrides: dict = field(default_factory=dict)
    """Keys of the corpus's own config, checked as ``data_prep.build`` checks them."""

    def validate(self) -> None:
        from data_prep.corpora import config_from_dict

        if not self.name:
            raise ValueError("name: required (see `python -m data_prep list`)")
        if not isinstance(self.overrides, dict):
            raise ValueError(f"overrides: a mapping of corpus config keys, got {self.overrides!r}")
        try:
            config_from_dict(str(self.name), self.overrides)
        except (TypeError, ValueError) as e:
            raise ValueError(f"overrides: {e}") from None


@dataclass(frozen=True)
class Objective:
    """A metric the search optimizes and its direction; unpacks as ``metric, mode``."""

    metric: str = ""
    """Reported by the trainable (evaluator scalars, final ones with FIFO only, ``loss*``); default: its own."""
    mode: str = "max"

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: {self.mode!r} must be 'min' or 'max'")

    def __iter__(self):
        return iter((self.metric, self.mode))


@dataclass(frozen=True)
class Searcher:
    """How trials' settings are drawn, all through Ray's OptunaSearch (except PBT's first population):
    ``optuna_tpe``, ``random``, ``grid`` (Optuna's GridSampler) or ``nsga2`` (Optuna's NSGAIISampler)."""

    type: str = "optuna_tpe"
    """Under PBT: ``random`` (Ray's PopulationBasedTraining takes no search algorithm)."""
    seed: int = 0
    n_startup_trials: int = 5
    """TPE: random trials before it models the space."""
    population_size: int = 50
    """NSGA-II's population."""
    cover: Optional[str] = None
    """A searched ``choice`` whose every value the study's first trials take in turn (Optuna's
    ``enqueue_trial``, once per Optuna study), the sampler drawing the other settings: a label-budget
    study covers every ``semi_rate`` so that each budget has a trial before TPE concentrates."""

    def validate(self) -> None:
        if self.type not in SEARCHERS:
            raise ValueError(f"type: {self.type!r} must be one of {list(SEARCHERS)}")
        for key in ("seed", "n_startup_trials", "population_size"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key}: must be a non-negative integer, got {getattr(self, key)!r}")
        if self.type == "nsga2" and self.population_size < 2:
            raise ValueError(f"population_size: must be >= 2, got {self.population_size!r}")

    def resolved(self) -> dict[str, Any]:
        """The settings this searcher uses (``--dry-run``; ``Study.resolved`` adds a grid's values)."""
        own = {"optuna_tpe": {"n_startup_trials": self.n_startup_trials}, "nsga2": {"population_size": self.population_size}}
        return {"type": self.type, "seed": self.seed, **own.get(self.type, {}),
                **({"cover": self.cover} if self.cover is not None else {})}


@dataclass(frozen=True)
class Scheduler:
    """Which trials go on: ASHA stops the worst at rungs, PBT (``platform.pbt``) clones the best into the
    worst, FIFO runs all. ASHA and PBT rank trials on one metric: the objective of a single-objective
    study; with several objectives give ``metric`` (and ``mode`` unless it is an objective), or use fifo."""

    type: str = "asha"
    metric: Optional[str] = None
    """What ASHA and PBT rank on (default: the study's objective)."""
    mode: Optional[str] = None
    grace_period: int = 1
    """ASHA: epochs before the first rung."""
    reduction_factor: float = 2.0
    max_t: Optional[int] = None
    """ASHA: the last rung (default: the epochs of the trainable's resolved config)."""
    threshold: Optional[float] = None
    """ASHA: also stop, from ``grace_period`` on, every trial whose metric is not beyond this value (at or
    below it when maximizing): Optuna's ThresholdPruner beside ASHA's ranking, which is only relative
    (Ray's ASHA passes the first trial at every rung, and half the dead trials ranked among dead ones)."""
    perturbation_interval: float = 2.0
    """PBT: epochs between a trial's chances to clone a better one."""
    quantile_fraction: float = 0.25
    resample_probability: float = 0.25
    synch: bool = False

    def validate(self) -> None:
        if self.type not in SCHEDULER_TYPES:
            raise ValueError(f"type: {self.type!r} must be one of {list(SCHEDULER_TYPES)}")
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"mode: {self.mode!r} must be 'min' or 'max'")
        if self.threshold is not None and self.type != "asha":
            raise ValueError(f"threshold: only ASHA stops trials at a threshold (scheduler.type: asha), "
                             f"this study's scheduler is {self.type}")
        if self.type == "fifo":  # every trial runs to its last epoch
            return
        if self.mode is not None and self.metric is None:
            raise ValueError("mode: give scheduler.metric with it")
        if self.type == "pbt" and not 0 < self.quantile_fraction <= 0.5:
            raise ValueError(f"quantile_fraction: {self.quantile_fraction!r} must be in (0, 0.5] "
                             "(the share of trials that clone, and of those cloned)")
        if self.type == "pbt" and not 0 <= self.resample_probability <= 1:
            raise ValueError(f"resample_probability: {self.resample_probability!r} must be in [0, 1]")

    def resolved(self, metric: str, mode: str, epochs: int) -> dict[str, Any]:
        """The scheduler's arguments (``metric``/``mode``: what it ranks on; ``epochs``: the config's)."""
        if self.type == "fifo":
            return {"type": self.type}
        out: dict[str, Any] = {"type": self.type, "metric": metric, "mode": mode, "time_attr": "epoch"}
        if self.type == "asha":
            out.update(max_t=self.max_t or epochs, grace_period=self.grace_period, reduction_factor=self.reduction_factor,
                       **({} if self.threshold is None else {"threshold": self.threshold}))
        return out if self.type == "asha" else {**out, **{k: getattr(self, k) for k in PBT_KEYS}}


@dataclass(frozen=True)
class Classifiers:
    """How the judges train: ``trainables.classifiers.ensure_classifiers``, whose defaults fill what is left out."""

    epochs_image: Optional[int] = None
    epochs_audio: Optional[int] = None
    seed: Optional[int] = None

    def given(self) -> dict[str, int]:
        """The settings the study gives, as ``ensure_classifiers``'s keyword arguments."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Study:
    """A study, every part typed: built by ``from_dict``, its parts checked against each other by ``validate``."""

    name: str
    trainable: str
    corpus: Corpus
    config: dict[str, Any]
    """The trainable's fixed settings as written (its config class checks them and holds the defaults)."""
    search: list[SearchParam]
    """In sampling order: every conditional parameter after its parents."""
    objectives: list[Objective]
    """One, or several (Optuna keeps a value per objective, the summary lists the Pareto front)."""
    scheduler: Scheduler
    searcher: Searcher
    resources: Resources
    """The chosen preset's resources."""
    preset: str = "local-cpu"
    num_samples: int = 8
    """Trials (under grid search: default the grid's size)."""
    classifiers: Classifiers = field(default_factory=Classifiers)
    storage: str = ""
    """Optuna storage URL (``${VAR}`` from the environment); empty: SQLite in the results directory."""
    description: str = ""
    target: Optional[float] = None
    """Single objective: the whole search stops once a trial reports the objective at or beyond this value
    (running trials are stopped and kept, no new trial starts; the summary says ``target_reached``)."""
    tolerance: float = 0.02
    """A cost study (two objectives, the second minimized, e.g. ``label_budget``): the summary names the
    best trial at each cost and the smallest cost whose best trial is within this of the best first objective."""
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    """The study as written, overrides applied (recorded with every experiment)."""

    @classmethod
    def from_dict(cls, raw: dict[str, Any], name: str, source: str = "", preset: str | None = None) -> "Study":
        """The study of the mapping ``raw`` (``preset``: overrides its ``preset:``), validated."""
        from trainables.registry import TRAINABLES

        unknown = sorted(set(raw) - TOP_KEYS)
        if unknown:
            raise StudyError(f"study: unknown key(s) {unknown}; allowed: {sorted(TOP_KEYS)}")
        if raw.get("trainable") not in TRAINABLES:
            raise StudyError(f"trainable: {raw.get('trainable')!r} is not one of {sorted(TRAINABLES)}")
        scheduler = _part(Scheduler, raw.get("scheduler"), "scheduler")
        pbt = {"type": "random"} if scheduler.type == "pbt" else {}  # PBT's first population is drawn at random
        searcher = _part(Searcher, raw.get("searcher"), "searcher", **pbt)
        search = parse_search(raw.get("search"))
        objective = raw.get("objective")
        listed = isinstance(objective, list)
        objectives = [_part(Objective, item, f"objective[{i}]" if listed else "objective",
                            **({} if listed else {"metric": TRAINABLES[raw["trainable"]].objective}))
                      for i, item in enumerate(objective if listed else [objective])]
        presets = merged_presets(raw.get("presets"))
        chosen = preset or raw.get("preset") or cls.preset
        if chosen not in presets:
            raise StudyError(f"preset {chosen!r} is not defined in presets; defined: {sorted(presets)}")
        resources = {p: _part(Resources, values, f"presets.{p}") for p, values in presets.items()}[chosen]
        given = {k: raw[k] for k in ("num_samples", "storage", "description") if raw.get(k) is not None}
        if "num_samples" not in given and searcher.type == "grid" and search:
            given["num_samples"] = math.prod(len(p.grid_values()) for p in search)
        for key in ("target", "tolerance"):  # numbers written as text (1e-3) are numbers
            if raw.get(key) is not None:
                value = as_number(raw[key])
                given[key] = float(value) if _finite(value) else value
        study = cls(name=name, trainable=raw["trainable"], corpus=_part(Corpus, raw.get("corpus"), "corpus"),
                    config=dict(raw.get("config") or {}), search=search, objectives=objectives, scheduler=scheduler,
                    searcher=searcher, resources=resources, preset=chosen,
                    classifiers=_part(Classifiers, raw.get("classifiers"), "classifiers"), source=source, raw=raw,
                    **given)
        study.validate()
        return study

    @property
    def metric(self) -> str:
        """The first objective's metric (the objective of single-objective code paths)."""
        return self.objectives[0].metric

    @property
    def mode(self) -> str:
        return self.objectives[0].mode

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def cost_objective(self) -> str | None:
        """The second of exactly two objectives when it is minimized (a cost such as ``label_budget``)."""
        return self.objectives[1].metric if len(self.objectives) == 2 and self.objectives[1].mode == "min" else None

    @property
    def spec(self):
        """The trainable's registry entry (``trainables.registry.Trainable``)."""
        from trainables.registry import get_trainable

        return get_trainable(self.trainable)

    def trainable_config(self) -> Any:
        """The trainable's config for the fixed settings, defaults filled in (searched ones at their defaults)."""
        return _typed(self.spec.config_cls, self.config, "config")

    @property
    def epochs(self) -> int:
        """Epochs of every trial: ``config.epochs``, else the trainable config's default."""
        return int(self.trainable_config().epochs)

    def scheduler_objective(self) -> tuple[str, str]:
        """The (metric, mode) ASHA and PBT rank trials on: ``scheduler.metric``/``mode``, else the objective."""
        s = self.scheduler
        return (self.metric, self.mode) if s.metric is None else (s.metric, s.mode or dict(self.objectives)[s.metric])

    def resolved(self) -> dict[str, Any]:
        """What the search will use, defaults filled in (printed by ``--dry-run``)."""
        searcher = self.searcher.resolved()
        if self.searcher.type == "grid":
            searcher["grid"] = {p.name: p.grid_values() for p in self.search}
        return {"objectives": [asdict(o) for o in self.objectives], "target": self.target,
                **({"tolerance": self.tolerance} if self.cost_objective else {}),
                "searcher": searcher, "scheduler": self.scheduler.resolved(*self.scheduler_objective(), epochs=self.epochs),
                "num_samples": self.num_samples, "search": {p.name: p.resolved() for p in self.search}}

    def validate(self) -> None:
        """The checks across parts (each part checked its own fields when built): StudyError naming the key."""
        self._check_space()
        self._check_objectives()
        self._check_searcher()
        self._check_scheduler()
        if self.target is not None:
            if not _finite(self.target):
                raise StudyError(f"target: a finite number (the {self.metric} that ends the search), "
                                 f"got {self.raw.get('target')!r}")
            if self.multi_objective:
                raise StudyError(f"target: stops a single-objective search; this study has {len(self.objectives)} "
                                 f"objectives ({', '.join(o.metric for o in self.objectives)})")
        if not _finite(self.tolerance) or self.tolerance < 0:
            raise StudyError(f"tolerance: a non-negative number (how far below the best {self.metric} a cheaper trial "
                             f"may be), got {self.raw.get('tolerance')!r}")
        if self.raw.get("tolerance") is not None and not self.cost_objective:
            raise StudyError("tolerance: answers a trade-off against a cost, the second of two objectives with mode "
                             f"min; this study's objectives are {[o.metric for o in self.objectives]}")
        if not isinstance(self.storage, str):
            raise StudyError("storage: a database URL such as postgresql+psycopg://optuna:${OPTUNA_PG_PASSWORD}@host/"
                             f"optuna, got {self.storage!r}")
        if self.scheduler.type == "pbt":
            self._check_pbt()

    def _check_space(self) -> None:
        """Config and search keys are the trainable's settings, and every value a trial can draw passes its check."""
        settings = {f.name for f in fields(self.spec.config_cls)}
        for key in [*self.config, *(p.name for p in self.search)]:
            if key not in settings:
                raise StudyError(f"config/search key {key!r} is not a {self.trainable} setting; "
                                 f"settings: {sorted(settings - set(SET_BY_PLATFORM))}")
            if key in SET_BY_PLATFORM:
                raise StudyError(f"{key!r} is set by the platform, not by the study")
        both = set(self.config) & {p.name for p in self.search}
        if both:
            raise StudyError(f"{sorted(both)}: both fixed in config and searched")
        self.trainable_config()
        check_values(self.search, self.spec.config_cls, self.config, self.trainable)

    def _check_objectives(self) -> None:
        from trainables.loop import LOOP_METRICS

        if not self.objectives:
            raise StudyError("objective: an empty list; give {metric, mode} or a list of them")
        evaluator = self.spec.evaluator_cls
        known = (*evaluator.scalars, *evaluator.final_scalars, *LOOP_METRICS)
        for i, o in enumerate(self.objectives):
            where = f"objective[{i}]" if isinstance(self.raw.get("objective"), list) else "objective"
            if not o.metric:
                raise StudyError(f"{where}.metric: required in a list of objectives")
            if o.metric not in known and not str(o.metric).startswith("loss"):
                raise StudyError(f"{where}.metric: {o.metric!r} is not a metric {self.trainable} reports; "
                                 f"metrics: {list(known)} or a training loss_*")
            if any(prior.metric == o.metric for prior in self.objectives[:i]):
                raise StudyError(f"{where}.metric: {o.metric!r} is already an objective")

    def _check_searcher(self) -> None:
        """``cover`` and ``grid`` against the search space, and ``num_samples``."""
        cover, grid = self.searcher.cover, self.searcher.type == "grid"
        if cover is not None:
            param = next((p for p in self.search if p.name == cover), None)
            if param is None or param.kind != "choice" or param.when:
                raise StudyError(f"searcher.cover: {cover!r} must be a searched choice parameter without when:; "
                                 f"choices: {[p.name for p in self.search if p.kind == 'choice' and not p.when]}")
            if grid:
                raise StudyError("searcher.cover: a grid covers every value already")
            if isinstance(self.num_samples, int) and self.num_samples < len(param.args):
                raise StudyError(f"searcher.cover: {param.name} has {len(param.args)} values and num_samples is "
                                 f"{self.num_samples}: not every value would get a trial")
        if grid and self.search:
            size = grid_size(self.search)
            if isinstance(self.num_samples, int) and self.num_samples > size:
                sizes = " x ".join(str(len(p.grid_values())) for p in self.search)
                raise StudyError(f"num_samples: {self.num_samples} exceeds the grid's {size} points ({sizes}); "
                                 "leave it out to run the whole grid")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples < 1:
            raise StudyError(f"num_samples: must be a positive integer, got {self.num_samples!r}")

    def _check_scheduler(self) -> None:
        """What ASHA and PBT rank on is reported every epoch, and their epochs lie within the run's."""
        from trainables.loop import LOOP_METRICS

        s, evaluator = self.scheduler, self.spec.evaluator_cls
        if s.type == "fifo":  # every trial runs to its last epoch (final scalars included)
            return
        name = {"asha": "ASHA stops", "pbt": "PBT ranks"}[s.type]
        final = [o.metric for o in self.objectives if o.metric in evaluator.final_scalars]
        if final:
            raise StudyError(f"objective: {final} are only reported at the last epoch; {name} trials before it "
                             "(use scheduler.type: fifo)")
        epochs = self.epochs
        if s.type == "pbt" and not 0 < s.perturbation_interval < epochs:
            raise StudyError(f"scheduler.perturbation_interval: {s.perturbation_interval:g} epochs must be above 0 and "
                             f"below the run's {epochs} epochs (config.epochs), or no trial is ever perturbed")
        if s.type == "asha" and s.grace_period > (s.max_t or epochs):
            raise StudyError(f"scheduler.grace_period {s.grace_period} exceeds max_t {s.max_t or epochs} "
                             "(scheduler.max_t, else config.epochs)")
        if s.metric is None:
            if self.multi_objective:
                raise StudyError(f"scheduler: {name} trials on one metric, and this study has {len(self.objectives)} "
                                 f"objectives ({', '.join(o.metric for o in self.objectives)}); set scheduler.metric "
                                 "(and scheduler.mode) or use scheduler.type: fifo")
            return
        if s.metric not in (*evaluator.scalars, *LOOP_METRICS) and not str(s.metric).startswith("loss"):
            raise StudyError(f"scheduler.metric: {s.metric!r} is not reported every epoch; "
                             f"metrics: {[*evaluator.scalars, *LOOP_METRICS]} or a training loss_*")
        if s.mode is None and s.metric not in dict(self.objectives):
            raise StudyError(f"scheduler.mode: required ('min' or 'max'): {s.metric!r} is not one of the objectives")

    def _check_pbt(self) -> None:
        """What PBT needs of the rest of the study: a space to mutate without conditions, a random first
        population, at least two trials, one process per trial."""
        if not self.search:
            raise StudyError("scheduler.type pbt: the search space is what PBT mutates; add search: entries")
        conditional = [p.name for p in self.search if p.when]
        if conditional:
            raise StudyError(f"search.{conditional[0]}.when: PBT mutates every searched setting at any time; "
                             "conditional parameters work with asha and fifo")
        if self.searcher.type != "random":
            raise StudyError(f"searcher.type: {self.searcher.type!r} cannot pick PBT's trials (Ray's "
                             "PopulationBasedTraining takes no search algorithm); use searcher: {type: random, seed: N} "
                             "or leave searcher out")
        if self.num_samples < 2:
            raise StudyError(f"num_samples: PBT needs a population of at least 2 trials, got {self.num_samples}")
        if self.resources.num_workers != 1:
            raise StudyError(f"preset {self.preset!r}: num_workers {self.resources.num_workers} — a PBT trial trains "
                             "in its own process (num_workers: 1); give the trial more cpus_per_worker instead")
        if not self.resources.in_process:
            raise StudyError(f"preset {self.preset!r}: in_process false — a PBT trial trains in its own process, "
                             "with Tune's checkpoints; leave in_process out")


def _typed(cls: type, values: Any, where: str) -> Any:
    """``cls`` built by the one ``from_dict``, its error one StudyError line (``type: x`` -> ``searcher.type: x``)."""
    try:
        return from_dict(cls, values, where=where)
    except (TypeError, ValueError) as e:
        message = str(e)
        if message.startswith(where):
            raise StudyError(message) from None
        field_named = message.split(":", 1)[0] in {f.name for f in fields(cls)}
        raise StudyError(f"{where}.{message}" if field_named else f"{where}: {message}") from None


def _part(cls: type, values: Any, where: str, **defaults: Any) -> Any:
    """A part of the study from its mapping (absent: every default; a null value: that key's default)."""
    if values is None or isinstance(values, Mapping):
        values = {**defaults, **{k: v for k, v in (values or {}).items() if v is not None}}
    return _typed(cls, values, where)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_study(name_or_path: str, overrides: list[str] | None = None, preset: str | None = None,
               single_run: bool = False) -> Study:
    """Load, override and validate a study; ``single_run`` drops its search space (platform.train)."""
    path = study_path(name_or_path)
    raw = read_study(path)
    if single_run:  # one run: no space, nothing to search or schedule
        raw = {**{k: v for k, v in raw.items() if k not in ("search", "searcher")}, "scheduler": {"type": "fifo"}}
    return Study.from_dict(apply_overrides(raw, overrides or []), name=path.stem, source=str(path), preset=preset)

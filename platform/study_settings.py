"""The typed parts of a study besides the model config: searcher and scheduler, each one schema
with its defaults here (resources: ``trainables.resources.Resources``). ``platform.study`` checks
the YAML against the rest of the study and builds these once with the shared ``from_dict``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

SEARCHERS = ("optuna_tpe", "random", "grid", "nsga2")
SCHEDULER_TYPES = ("asha", "pbt", "fifo")


@dataclass(frozen=True)
class Searcher:
    """How trials' settings are drawn (all through Ray's OptunaSearch, except PBT's first population)."""

    type: str = "optuna_tpe"
    """optuna_tpe, random, grid (Optuna's GridSampler) or nsga2."""
    seed: int = 0
    n_startup_trials: int = 5
    """TPE: random trials before it models the space."""
    population_size: int = 50
    """NSGA-II's population."""
    cover: Optional[str] = None
    """A searched choice whose every value the first trials take in turn (Optuna's enqueue_trial)."""

    def validate(self) -> None:
        if self.type not in SEARCHERS:
            raise ValueError(f"type: {self.type!r} must be one of {list(SEARCHERS)}")
        for key in ("seed", "n_startup_trials", "population_size"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key}: must be a non-negative integer, got {getattr(self, key)!r}")
        if self.type == "nsga2" and self.population_size < 2:
            raise ValueError(f"population_size: must be >= 2, got {self.population_size!r}")

    def resolved(self) -> dict[str, Any]:
        """The settings this searcher uses (``--dry-run``)."""
        out: dict[str, Any] = {"type": self.type, "seed": self.seed}
        if self.type == "optuna_tpe":
            out["n_startup_trials"] = self.n_startup_trials
        if self.type == "nsga2":
            out["population_size"] = self.population_size
        return out


@dataclass(frozen=True)
class Scheduler:
    """Which trials go on: ASHA stops the worst at rungs, PBT clones the best into the worst, FIFO runs all."""

    type: str = "asha"
    metric: Optional[str] = None
    """What ASHA and PBT rank on (default: the study's objective)."""
    mode: Optional[str] = None
    grace_period: int = 1
    """ASHA: epochs before the first rung."""
    reduction_factor: float = 2.0
    max_t: Optional[int] = None
    """ASHA: the last rung (default: the config's epochs)."""
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
        if self.mode is not None and self.mode not in ("min", "max"):
            raise ValueError(f"mode: {self.mode!r} must be 'min' or 'max'")

    def resolved(self, metric: str, mode: str, epochs: int) -> dict[str, Any]:
        """The scheduler's arguments (``metric``/``mode``: what it ranks on; ``epochs``: the config's)."""
        out: dict[str, Any] = {"type": self.type}
        if self.type == "asha":
            out.update(metric=metric, mode=mode, time_attr="epoch", max_t=self.max_t or epochs,
                       grace_period=self.grace_period, reduction_factor=self.reduction_factor)
            if self.threshold is not None:
                out["threshold"] = self.threshold
        if self.type == "pbt":
            out.update(metric=metric, mode=mode, time_attr="epoch", perturbation_interval=self.perturbation_interval,
                       quantile_fraction=self.quantile_fraction, resample_probability=self.resample_probability,
                       synch=self.synch)
        return out

"""ASHA with a threshold: Ray's ``ASHAScheduler`` that also stops, from its grace period on, every trial
whose metric is not beyond a fixed value (Optuna's ``ThresholdPruner`` rule).

ASHA alone ranks a trial only against the others at the same rung: the first trial to reach a rung
has no cutoff and goes on, and a trial ranked among dead ones (a sync kappa at chance, 0) passes half
the time with reduction factor 2. A threshold stops those at the grace period whatever the others did."""
from __future__ import annotations

from typing import Any

from ray.tune.schedulers import ASHAScheduler, TrialScheduler


class ThresholdASHA(ASHAScheduler):
    """``ASHAScheduler(**asha)`` plus: from ``grace_period`` on, STOP a trial whose ``metric`` is at or
    below ``threshold`` (maximizing; at or above it when minimizing), whatever its rank."""

    def __init__(self, threshold: float, grace_period: int, **asha: Any):
        super().__init__(grace_period=grace_period, **asha)
        self.threshold, self.grace_period = float(threshold), grace_period

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        action = super().on_trial_result(tune_controller, trial, result)
        value, time = result.get(self._metric), result.get(self._time_attr)
        if action == TrialScheduler.CONTINUE and value is not None and time is not None \
                and time >= self.grace_period and self._metric_op * (value - self.threshold) <= 0:
            self._num_stopped += 1
            return TrialScheduler.STOP
        return action

    def debug_string(self) -> str:
        return super().debug_string() + f"\nthreshold {self.threshold:g} from {self._time_attr} {self.grace_period}"

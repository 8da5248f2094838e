"""What an evaluator reports, declared once: each metric's name in exactly one group.

The groups say where a metric shows: every metric goes to Tune, TensorBoard (``eval/<name>``)
and may be a study's ``objective:`` (details only go to Tune); ``headline`` ones also come first in summaries and in the progress
lines (``trainables.loop.epoch_line`` and ``platform.progress``), followed by ``watched`` metrics and
training ``losses``. The evaluator's ``scalars``, ``final_scalars`` and ``headline`` are read from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


def metric_text(v: Any) -> str:
    """A metric in a progress line: three decimals, so columns line up (``0.873``, ``1088.486``), and
    three significant digits where three decimals would print a nonzero value as 0 (``2.00e-04``)."""
    if not isinstance(v, float):
        return str(v)
    return f"{v:.3f}" if v == 0 or abs(v) >= 5e-4 or v != v else f"{v:.2e}"


@dataclass(frozen=True)
class DeclaredMetrics:
    headline: tuple[str, ...]
    """Every epoch; what a summary or a progress line shows first, after a study's objectives."""
    watched: tuple[str, ...] = ()
    """Every epoch; in the progress line after the headline (a diagnosis, e.g. the synchronizer's accuracy)."""
    others: tuple[str, ...] = ()
    """Every epoch; TensorBoard, Tune and objectives only."""
    final: tuple[str, ...] = ()
    """At the last epoch only (too costly to measure every epoch, e.g. translation accuracy)."""
    details: tuple[str, ...] = ()
    """Reported beside the metrics (Tune's results, summaries) where they apply, neither logged to TensorBoard
    nor an objective: the judges' own accuracy, a translation's cost, a one-line ``warning``."""
    losses: tuple[str, ...] = ()
    """Training losses (the model's ``train_step`` names) the progress line ends with, where reported."""

    def __post_init__(self) -> None:
        names = [*self.scalars, *self.final, *self.details, *self.losses]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"metrics declared more than once: {twice}")
        if not self.headline:
            raise ValueError("an evaluator declares at least one headline metric")

    @property
    def scalars(self) -> tuple[str, ...]:
        """Every metric reported every epoch (what ASHA and PBT may rank on)."""
        return (*self.headline, *self.watched, *self.others)

    def progress_line(self, metrics: Mapping[str, Any]) -> str:
        """``sync_rate=0.781 sync_kappa=0.712 ... loss_g=0.934``: the headline, watched metrics and losses
        that ``metrics`` holds (``metric_text``)."""
        names = (*self.headline, *self.watched, *self.losses)
        return " ".join(f"{k}={metric_text(float(metrics[k]))}" for k in names if isinstance(metrics.get(k), (int, float)))

"""What one run (a Ray Train fit, or a Tune trial of them) may use: one schema, its defaults here.

A study's ``preset:`` (``platform/presets.yaml``, amended by the study's ``presets:``) is parsed into
``Resources`` once, by ``platform.study``; Tune trials and ``platform.train`` pass the object on.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Union


@dataclasses.dataclass(frozen=True)
class Resources:
    """Resources and fault tolerance of a run."""

    num_workers: int = 1
    """Ray Train workers of one run (data parallel; gradients averaged)."""
    cpus_per_worker: float = 1.0
    use_gpu: bool = False
    gpus_per_worker: float = 1.0
    """GPUs per worker when ``use_gpu``."""
    in_process: bool = True
    """A one-worker Tune trial trains in the trial's own process (``fit`` with Tune's checkpoints: no
    TorchTrainer, Train controller, Ray Data or their actors; ``docs/benchmarks.md``, orchestration cost);
    false: through a TorchTrainer, as trials of ``num_workers`` > 1 always do."""
    trial_cpus: float = 0.01
    """CPU reserved for a Tune trial's driver, which only waits on its TorchTrainer (on 2 cores the
    default of 1 CPU would leave the workers none). A trial that trains in its own process
    (``in_process``) takes ``cpus_per_worker`` instead."""
    max_concurrent_trials: int = 2
    max_failures: int = 1
    """Worker failures a run survives by restarting from its last checkpoint (-1: always); an in-process
    trial is restarted by Tune, from its own last checkpoint."""
    startup_retries: int = -1
    """Worker-group start attempts of 60 s each; -1 waits forever, as an autoscaling cluster needs."""
    keep_checkpoints: int = 2
    """Checkpoints kept per run: the best by the study's first objective (else the model's own)."""
    grad_averaging: str = "bucket"
    """How ``num_workers`` > 1 average their gradients: ``bucket`` (each optimizer's gradients flattened
    into one all-reduce a step) or ``per_tensor`` (one all-reduce per parameter tensor, the old way;
    ``benchmarks/scaling.py`` compares them). See ``trainables.grad_sync``."""

    def validate(self) -> None:
        for key in ("num_workers", "max_concurrent_trials", "keep_checkpoints"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("cpus_per_worker", "trial_cpus", "gpus_per_worker"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        from trainables.grad_sync import AVERAGING_MODES

        if self.grad_averaging not in AVERAGING_MODES:
            raise ValueError(f"grad_averaging must be one of {', '.join(AVERAGING_MODES)}, got {self.grad_averaging!r}")
        if self.cpus_per_worker == 0 and not self.use_gpu:
            raise ValueError("cpus_per_worker is 0 and use_gpu is false: the workers would get no device")

    def worker_resources(self) -> dict[str, float]:
        """Ray's ``resources_per_worker``."""
        return {"CPU": self.cpus_per_worker, **({"GPU": self.gpus_per_worker} if self.use_gpu else {})}

    def trains_in_trial(self) -> bool:
        """Whether a Tune trial of this run trains in its own process (``in_process`` and one worker)."""
        return self.in_process and self.num_workers == 1

    def replace(self, **changes) -> "Resources":
        out = dataclasses.replace(self, **changes)
        out.validate()
        return out



def as_resources(value: Union[Resources, Mapping[str, Any]]) -> Resources:
    """``Resources`` as given, or parsed from a mapping (tests and scripts; unknown keys are errors)."""
    from trainables.config import from_dict

    return value if isinstance(value, Resources) else from_dict(Resources, dict(value), where="resources")

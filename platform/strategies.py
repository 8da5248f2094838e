"""How a study runs under its scheduler: one strategy per ``scheduler.type``, each supplying the Tune
trainable, the search algorithm, the scheduler, the callbacks and the end-of-study step, which
``Strategy.tuner`` assembles into one ``Tuner``.

- ``fifo``: Optuna draws every trial (``platform.search``) and each runs all its epochs.
- ``asha``: the same draws; ASHA stops the worst at its rungs (with ``threshold``: ``ThresholdASHA``).
- ``pbt``: Tune's seeded random draws start the population; PBT clones the best trials' checkpoints into
  the worst and mutates their settings (``platform.pbt``), Optuna only recording the trials.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from platform.study import Study


class Strategy(ABC):
    """What every scheduler shares unless it says otherwise: trials drawn by Optuna; a one-worker trial
    (``in_process``) trains in its own process with Tune's checkpoints, any other runs a TorchTrainer."""

    def __init__(self, study: Study):
        self.study = study
        self.search_alg: Any = None
        """The search algorithm of a new run (``tuner``); a resumed run restores Tune's own."""

    @property
    def trains_in_trial(self) -> bool:
        """Whether a trial trains in its own process rather than through a TorchTrainer."""
        return self.study.resources.trains_in_trial()

    def trainable(self, fixed: dict[str, Any]):
        """The Tune trainable with its resources: ``tune_checkpointed_trial`` taking ``cpus_per_worker`` when
        a trial trains in its own process, else ``tune_trial`` (a TorchTrainer) whose driver takes ``trial_cpus``."""
        from ray import tune

        from trainables.ray_train import tune_checkpointed_trial, tune_trial

        study, res = self.study, self.study.resources
        if self.trains_in_trial:
            return tune.with_resources(
                tune.with_parameters(tune_checkpointed_trial, model=study.trainable, fixed=fixed, resources=res,
                                     searched=[p.name for p in study.search]),
                {k.lower(): v for k, v in res.worker_resources().items()})
        return tune.with_resources(
            tune.with_parameters(tune_trial, model=study.trainable, fixed=fixed, resources=res, **self.checkpoint_score()),
            {"cpu": res.trial_cpus})

    def checkpoint_score(self) -> dict[str, str]:
        """Checkpoints are ranked by the study's first objective when every checkpoint reports it (an evaluator
        scalar); else by the trainable's own objective (trainables/ray_train.py)."""
        study = self.study
        if study.metric in study.spec.evaluator_cls.scalars:
            return {"checkpoint_metric": study.metric, "checkpoint_mode": study.mode}
        return {}

    def search_algorithm(self, storage, errors, worker: int):
        """Ray's OptunaSearch of the study (``platform.search.build_searcher``) on the Optuna ``storage``;
        ``errors`` (the run's ``TrialErrors``) tells it why a trial failed; ``worker``: the run's slot."""
        from platform.search import build_searcher

        return build_searcher(self.study, storage, errors, worker)

    @abstractmethod
    def scheduler(self):
        """Tune's scheduler: which trials go on."""

    def callbacks(self, storage) -> list:
        return []

    def checkpoints(self):
        """Tune keeps the best ``keep_checkpoints`` of an in-process trial, as Train keeps a run's."""
        from ray import tune

        if not self.trains_in_trial:
            return None
        score, res = self.checkpoint_score(), self.study.resources
        return tune.CheckpointConfig(
            num_to_keep=res.keep_checkpoints,
            checkpoint_score_attribute=score.get("checkpoint_metric", self.study.spec.objective),
            checkpoint_score_order=score.get("checkpoint_mode", "max"))

    def max_failures(self) -> int:
        """An in-process trial that fails starts again from its last checkpoint, as Train restarts a run's
        workers (a TorchTrainer trial retries inside)."""
        return self.study.resources.max_failures if self.trains_in_trial else 0

    def param_space(self) -> dict[str, Any] | None:
        return None  # the search algorithm defines the space

    def end_of_study(self, grid, interrupted: bool) -> dict[str, Any]:
        """After the search: the searcher's trials are all told, so its Optuna heartbeats stop."""
        if hasattr(self.search_alg, "stop_heartbeats"):
            self.search_alg.stop_heartbeats()
        return {}

    def tuner(self, trainable, storage, name: str, results, callbacks: list, verbose: bool, worker: int):
        """A new run's ``Tuner``: this strategy's parts, the study's trials and target, the run's callbacks."""
        from ray import tune

        from platform.search import TargetStopper, TrialErrors

        study = self.study
        errors = TrialErrors()  # the searcher reads failing trials' errors through it (see platform.search)
        self.search_alg = self.search_algorithm(storage, errors, worker)
        return tune.Tuner(
            trainable, param_space=self.param_space(),
            tune_config=tune.TuneConfig(search_alg=self.search_alg, scheduler=self.scheduler(),
                                        num_samples=study.num_samples,
                                        max_concurrent_trials=study.resources.max_concurrent_trials),
            run_config=tune.RunConfig(
                name=name, **results.tune_storage(), sync_config=tune.SyncConfig(sync_artifacts=True),
                callbacks=[errors, *callbacks, *self.callbacks(storage)], verbose=None if verbose else 0,
                checkpoint_config=self.checkpoints(), failure_config=tune.FailureConfig(max_failures=self.max_failures()),
                stop=None if study.target is None else TargetStopper(study.metric, study.mode, study.target)))


class Fifo(Strategy):
    """Every trial runs to its last epoch (final scalars included)."""

    def scheduler(self):
        from ray.tune.schedulers import FIFOScheduler

        return FIFOScheduler()


class Asha(Strategy):
    """Trials drawn by Optuna; ASHA stops the worst at its rungs (``Study.resolved``'s scheduler, what
    ``--dry-run`` prints): on epochs (a run that checkpoints every N steps reports fractional epochs too),
    with ``threshold`` ``platform.threshold_asha.ThresholdASHA``."""

    def scheduler(self):
        from ray.tune.schedulers import ASHAScheduler

        settings = {k: v for k, v in self.study.resolved()["scheduler"].items() if k != "type"}
        if "threshold" in settings:
            from platform.threshold_asha import ThresholdASHA

            return ThresholdASHA(**settings)
        return ASHAScheduler(**settings)


class Pbt(Strategy):
    """Population-based training (``platform.pbt``): every trial trains in its own process with Tune's
    checkpoints, which PBT clones; Optuna records the finished trials (``OptunaRecorder``)."""

    @property
    def trains_in_trial(self) -> bool:
        return True

    def search_algorithm(self, storage, errors, worker: int):
        """Tune's seeded random draws of the first population (shifted by the trials Optuna holds)."""
        from platform.pbt import first_population
        from platform.search import optuna_study

        return first_population(self.study, len(optuna_study(self.study, storage).trials), worker)

    def scheduler(self):
        from platform.pbt import build_scheduler

        return build_scheduler(self.study)

    def callbacks(self, storage) -> list:
        from platform.pbt import OptunaRecorder

        return [OptunaRecorder(self.study, storage)]

    def checkpoints(self):
        """Every checkpoint while the study runs (another trial may clone any recent one; Tune's own pruning
        deletes PBT's re-saved checkpoints twice): ``end_of_study`` prunes them to ``keep_checkpoints``."""
        from ray import tune

        return tune.CheckpointConfig(num_to_keep=None)

    def max_failures(self) -> int:
        return 0

    def param_space(self) -> dict[str, Any]:
        from platform.pbt import param_space

        return param_space(self.study)

    def end_of_study(self, grid, interrupted: bool) -> dict[str, Any]:
        """Each trial's checkpoints pruned (unless interrupted: ``--resume`` would restore PBT's state, which
        may name older ones), and the lineage of which trial cloned which, for the summary."""
        from platform.pbt import lineage, prune_checkpoints, read_lineage
        from platform.summary import trial_ids

        if not interrupted:
            for r in grid:
                prune_checkpoints(r.filesystem, r.path, self.study.resources.keep_checkpoints)
        return {"lineage": lineage([(tid, r.path, read_lineage(r.filesystem, r.path))
                                    for tid, r in zip(trial_ids(grid), grid)])}


STRATEGIES: dict[str, type[Strategy]] = {"fifo": Fifo, "asha": Asha, "pbt": Pbt}


def strategy_for(study: Study) -> Strategy:
    """The strategy of the study's ``scheduler.type``."""
    return STRATEGIES[study.scheduler.type](study)

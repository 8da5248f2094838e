"""Population-based training of a study (``scheduler: {type: pbt}``): Ray's ``PopulationBasedTraining``
with its first population, mutations and bounds taken from the study's search space, the trials'
record in Optuna, and the lineage of which trial cloned which.

Every ``perturbation_interval`` epochs a trial in the bottom ``quantile_fraction`` clones the checkpoint
of one in the top and goes on with its settings mutated (each searched setting resampled with
``resample_probability``, else multiplied by 0.8 or 1.2, or moved to a neighbouring choice; kept within
the search range), all trials in step when ``synch``. The mutations are the search space, so
conditional parameters are not allowed, and a trial trains in one process (``num_workers`` 1).

Ray's PBT takes no search algorithm: the first ``num_samples`` configs are Tune's seeded random draws
of the space (``first_population``). A trial trains in its own process and hands Tune a checkpoint with
every report (``trainables.ray_train.tune_checkpointed_trial``): when PBT perturbs it, Tune restarts it
from the donor's checkpoint with the mutated config, whose learning rates the optimizers take after the
restore (``trainables.checkpoint.load_checkpoint``), and the trial writes a ``lineage.jsonl`` line.
``OptunaRecorder`` adds every finished trial (its last settings, its objectives, its lineage) to the
study's Optuna storage, so ``platform.report``, ``optuna-dashboard`` and ``--resume`` treat a PBT study
like the others.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from ray.tune import Callback

from platform.search_params import SearchParam
from platform.study import Study

LINEAGE_ATTR = "pbt_lineage"


def tune_domain(p: SearchParam):
    """The Tune distribution of a searched setting (PBT resamples from it and perturbs its values)."""
    from ray import tune

    if p.kind == "loguniform":
        return tune.loguniform(float(p.args[0]), float(p.args[1]))
    if p.kind == "uniform":
        return tune.uniform(float(p.args[0]), float(p.args[1]))
    if p.kind == "int":
        return tune.randint(int(p.args[0]), int(p.args[1]) + 1)
    return tune.choice(list(p.args))


def param_space(study: Study) -> dict[str, Any]:
    """The search space as Tune distributions: the first population's draws and PBT's mutations."""
    return {p.name: tune_domain(p) for p in study.search}


class WithinBounds:
    """PBT's ``custom_explore_fn``: a value perturbed past its searched range (x 1.2 at the top) is put
    back on the range's edge, an int setting rounded, so every config passes the trainable's own check."""

    def __init__(self, params: list[SearchParam]):
        self.bounds = {p.name: (p.kind, float(p.args[0]), float(p.args[1])) for p in params if p.kind != "choice"}

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        for name, (kind, low, high) in self.bounds.items():
            if name in config:
                value = min(max(float(config[name]), low), high)
                config[name] = int(round(value)) if kind == "int" else value
        return config


def build_scheduler(study: Study):
    """Ray's PopulationBasedTraining from the study's scheduler settings (``Study.scheduler``). Its own
    random draws (which trial to clone, how to mutate) use Python's and NumPy's global generators,
    seeded here from ``searcher.seed``."""
    from ray.tune.schedulers import PopulationBasedTraining

    s, (metric, mode) = study.scheduler, study.scheduler_objective()
    random.seed(study.searcher.seed)
    np.random.seed(study.searcher.seed)
    return PopulationBasedTraining(
        time_attr="epoch", metric=metric, mode=mode, perturbation_interval=s.perturbation_interval,
        quantile_fraction=s.quantile_fraction, resample_probability=s.resample_probability, synch=s.synch,
        hyperparam_mutations=param_space(study), custom_explore_fn=WithinBounds(study.search),
    )


def first_population(study: Study, done: int = 0, worker: int = 0):
    """Tune's random search for PBT's first ``num_samples`` configs, seeded (shifted by the trials
    already in Optuna, so a second run of the study does not draw the same population, and by the run's
    slot among the study's live runs, ``platform.workers``)."""
    from ray.tune.search import BasicVariantGenerator

    from platform.workers import SEED_STRIDE

    return BasicVariantGenerator(random_state=study.searcher.seed + done + SEED_STRIDE * worker)


def read_lineage(filesystem, trial_path: str) -> list[dict[str, Any]]:
    """A trial's ``lineage.jsonl`` records (none if it never started from a checkpoint)."""
    from trainables.ray_train import LINEAGE_FILE

    try:
        with filesystem.open_input_stream(f"{trial_path}/{LINEAGE_FILE}") as f:
            text = f.read().decode()
    except (FileNotFoundError, OSError):
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a line cut short by a kill
    return out


def prune_checkpoints(filesystem, trial_path: str, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` ``checkpoint_*`` directories of a finished PBT trial; returns
    the deleted paths.

    Under PBT Tune keeps every checkpoint while the study runs (``CheckpointConfig(num_to_keep=None)``):
    PBT asks a top trial to save, and a function trainable answers with the checkpoint it has just
    reported, so Tune registered that checkpoint twice and, keeping a few, deleted its directory twice
    ("Error handling checkpoint ... Path not found"), each duplicate holding the place of a distinct
    checkpoint that another trial may still clone. Pruning once the study is over avoids both."""
    import pyarrow.fs

    found = filesystem.get_file_info(pyarrow.fs.FileSelector(trial_path, allow_not_found=True))
    names = sorted(i.base_name for i in found
                   if i.type == pyarrow.fs.FileType.Directory and i.base_name.startswith("checkpoint_"))
    deleted = []
    for name in names[:max(len(names) - keep, 0)]:
        filesystem.delete_dir(f"{trial_path}/{name}")
        deleted.append(f"{trial_path}/{name}")
    return deleted


def lineage(trials: list[tuple[str, str, list[dict]]]) -> list[dict[str, Any]]:
    """Who cloned whom: for each ``(trial_id, trial_path, lineage records)``, one entry per start from a
    checkpoint, by epoch: ``{"trial", "epoch", "from" (the donor's id), "cloned" (False: its own
    checkpoint, a resume), "config" (its settings from then on)}``. The donor is the trial whose
    directory holds the checkpoint."""
    by_dir = {Path(path).name: tid for tid, path, _ in trials}
    out = []
    for tid, _path, records in trials:
        for rec in records:
            donor = by_dir.get(Path(str(rec.get("checkpoint", ""))).parent.name, "?")
            out.append({"trial": tid, "epoch": rec.get("epoch"), "from": donor, "cloned": donor != tid,
                        "config": rec.get("config", {})})
    return sorted(out, key=lambda e: (e["epoch"] if isinstance(e["epoch"], (int, float)) else math.inf, e["trial"]))


class OptunaRecorder(Callback):
    """Adds each finished PBT trial to the study's Optuna storage: its last settings as params, its last
    objective values, its Tune trial id and lineage as user attributes (``pbt_lineage``); a failed trial
    as FAIL with ``fail_reason``. A trial already recorded (a resumed run) is not added twice."""

    def __init__(self, study: Study, storage):
        self.name = study.name
        self.storage = storage
        self.objectives = list(study.objectives)
        self.search = list(study.search)

    def _add(self, trial, state, values: list[float] | None, attrs: dict[str, Any]) -> None:
        from platform.search import TUNE_TRIAL_ID

        ostudy = optuna.load_study(study_name=self.name, storage=self.storage)
        if any(t.user_attrs.get(TUNE_TRIAL_ID) == trial.trial_id for t in ostudy.get_trials(deepcopy=False)):
            return
        config = trial.config or {}
        params = {p.name: config[p.name] for p in self.search if p.name in config}
        distributions = {p.name: p.to_optuna() for p in self.search if p.name in params}
        ostudy.add_trial(optuna.trial.create_trial(
            state=state, params=params, distributions=distributions, values=values,
            user_attrs={TUNE_TRIAL_ID: trial.trial_id, **attrs}))

    def _lineage(self, trial) -> list[dict]:
        return read_lineage(trial.storage.storage_filesystem, trial.path)

    def on_trial_complete(self, iteration: int, trials: list, trial, **info) -> None:
        from optuna.trial import TrialState

        from platform.search import FAIL_REASON, _finite

        result = trial.last_result or {}
        values = [result.get(m) for m, _ in self.objectives]
        attrs = {LINEAGE_ATTR: self._lineage(trial)}
        try:
            if all(_finite(v) for v in values):
                self._add(trial, TrialState.COMPLETE, [float(v) for v in values], attrs)
            else:
                self._add(trial, TrialState.FAIL, None, {**attrs, FAIL_REASON: f"objective(s) missing or not finite in "
                          f"the last result: { {m: result.get(m) for m, _ in self.objectives} }"})
        except Exception as e:  # noqa: BLE001 - bookkeeping must never stop the study
            import logging

            logging.getLogger(__name__).warning("could not record PBT trial %s in Optuna: %s", trial.trial_id, e)

    def on_trial_error(self, iteration: int, trials: list, trial, **info) -> None:
        from optuna.trial import TrialState

        from platform.failures import error_reason, read_text
        from platform.search import FAIL_REASON

        reason = error_reason(read_text(getattr(trial, "error_file", None))) or "the trial raised an error"
        try:
            self._add(trial, TrialState.FAIL, None, {LINEAGE_ATTR: self._lineage(trial), FAIL_REASON: reason})
        except Exception as e:  # noqa: BLE001
            import logging

            logging.getLogger(__name__).warning("could not record PBT trial %s in Optuna: %s", trial.trial_id, e)

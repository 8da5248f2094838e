"""The search side of a study: Optuna samplers behind Ray's OptunaSearch, and failed trials' reasons.

- ``SearchSpace``: the study's space as a define-by-run function (conditional parameters are
  sampled only when their condition holds, parents first), so TPE/NSGA-II see the real distributions.
- ``build_searcher``: OptunaSearch with TPE, random, grid (GridSampler) or NSGA-II, one metric or a
  list of them (multi-objective), on the study's persistent Optuna storage.
- ``StudySearch`` + ``TrialErrors``: a trial that raises (e.g. ``FloatingPointError: SyncGAN
  diverged: loss_g_adv = nan``) is told to Optuna as FAIL with the user attribute ``fail_reason``
  holding the error's message; the study goes on. Ray 2.60's TuneController, on a trial error, calls
  ``trial.handle_error`` (writes ``error.txt``), then ``search_alg.on_trial_complete(error=True)``,
  and only then the callbacks' ``on_trial_error`` — too late, as Optuna refuses attributes on a
  finished trial. So the callback only keeps the controller's list of trials (``on_step_begin``) and
  the searcher reads the failing trial's ``error.txt`` itself before it tells Optuna. The callback's
  ``on_trial_error`` prints the failure in one line (``platform.failures``), in place of the
  traceback Tune logs per failed trial (``TUNE_PRINT_ALL_TRIAL_ERRORS=0``, set by ``platform.tune``).
- ``TargetStopper``: ends the whole search once a trial's objective reaches the study's ``target``.
  Ray 2.60 stops the other running trials then without telling the searcher (``stop_all`` takes
  ``_schedule_trial_stop``, not ``stop_trial``), so ``tell_stopped_trials`` tells Optuna afterwards.
- ``pareto_front``: the non-dominated set of a multi-objective study's results.

Everything here runs in the Tune driver (and is pickled with the Tuner's state for ``--resume``).
"""
from __future__ import annotations

import math
import sys
import threading
import warnings
from typing import Any, Iterable, Sequence

import optuna
from ray.tune import Callback, Stopper
from ray.tune.search.optuna import OptunaSearch

from platform.failures import error_reason, failure_record, read_text
from platform.formatting import failure_line
from platform.search_params import SearchParam
from platform.study import Study

FAIL_REASON = "fail_reason"
TUNE_TRIAL_ID = "tune_trial_id"


class SearchSpace:
    """Define-by-run space for OptunaSearch: ``space(optuna_trial)`` suggests every active parameter.

    ``params`` must be in sampling order (``Study.search`` is: parents before the parameters
    conditioned on them). Returns None: the trial's config is what was suggested.
    """

    def __init__(self, params: Sequence[SearchParam], grid: bool = False):
        self.params = list(params)
        self.grid = grid

    def __call__(self, trial) -> None:
        sampled: dict[str, Any] = {}
        for p in self.params:
            if p.active(sampled):
                sampled[p.name] = p.suggest(trial, self.grid)
        return None


class StudyGridSampler(optuna.samplers.GridSampler):
    """GridSampler whose ``after_trial`` does not call ``study.stop()``: that raises outside
    ``study.optimize`` (here Tune asks and tells), and ``num_samples`` already bounds the grid."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def make_sampler(study: Study, done: int = 0, worker: int = 0):
    """The Optuna sampler of ``study.searcher``; ``done`` (trials already in the storage) shifts the seed
    so that an extended or resumed study does not replay its start-up points (optuna issue 3255), and so
    does ``worker``, the run's slot among the study's live runs (``platform.workers``), so that two runs of
    one study started together do not draw the same points."""
    from platform.workers import SEED_STRIDE

    kind = study.searcher.type
    seed = study.searcher.seed + done + SEED_STRIDE * worker
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":
        return StudyGridSampler({p.name: p.grid_values() for p in study.search}, seed=seed)
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=study.searcher.population_size, seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=study.searcher.n_startup_trials)


class TrialErrors(Callback):
    """Keeps a reference to the Tune controller's trials, so the searcher can read a failing trial's error."""

    def __init__(self):
        self.trials: list = []

    def on_step_begin(self, iteration: int, trials: list, **info) -> None:
        self.trials = trials

    def on_trial_start(self, iteration: int, trials: list, trial, **info) -> None:
        self.trials = trials

    def error_text(self, trial_id: str) -> str:
        trial = next((t for t in self.trials if t.trial_id == trial_id), None)
        return read_text(getattr(trial, "error_file", None)) if trial is not None else ""

    def on_trial_error(self, iteration: int, trials: list, trial, **info) -> None:
        """One line per failed trial in the log (``platform.tune`` turns off Tune's traceback per trial).
        The error is read from Tune's staging copy; the line names the copy in the results directory."""
        record = failure_record(trial.trial_id, read_text(getattr(trial, "error_file", None)), f"{trial.path}/error.txt")
        config = {k: v for k, v in (trial.config or {}).items() if isinstance(v, (bool, int, float, str))}
        print(failure_line({**record, "config": config}), file=sys.stderr, flush=True)

    def __getstate__(self) -> dict:  # the live trials stay in the driver
        return {"trials": []}


class StudySearch(OptunaSearch):
    """OptunaSearch that records, on the Optuna trial, Tune's trial id and a failed trial's reason, and
    keeps its running trials' heartbeats fresh (``platform.study_storage``): a background thread records
    them every ``heartbeat_interval`` seconds while this driver lives. When it dies (SIGKILL, a lost
    head node), the next ``platform.tune`` on the study fails them as stale and retries them; a
    ``--resume`` of this experiment first refreshes the trials it continues, then fails the others."""

    def __init__(self, *args, errors: TrialErrors | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._errors = errors
        self._heartbeats: threading.Event | None = None  # set: the heartbeat thread ends

    def suggest(self, trial_id: str):
        with warnings.catch_warnings():  # "Heartbeat of storage is supposed to be used with Study.optimize"
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            config = super().suggest(trial_id)
        ot_trial = self._ot_trials.get(trial_id)
        if ot_trial is not None and config is not None:
            try:
                ot_trial.set_user_attr(TUNE_TRIAL_ID, trial_id)
            except Exception:  # noqa: BLE001 - bookkeeping must never stop the study
                pass
            self._beat()
        return config

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        try:
            super().on_trial_result(trial_id, result)
        except Exception as e:  # noqa: BLE001 - e.g. a trial another driver failed as stale meanwhile
            import logging

            logging.getLogger(__name__).warning("could not report trial %s to Optuna: %s", trial_id, e)

    def _running(self) -> list:
        return [t for tid, t in list(self._ot_trials.items()) if tid not in self._completed_trials]

    def _beat(self) -> None:
        """Record the running trials' heartbeats now, and start the thread that goes on doing so."""
        storage = self._storage
        if not getattr(storage, "get_heartbeat_interval", lambda: None)():
            return
        for t in self._running():
            storage.record_heartbeat(t._trial_id)  # noqa: SLF001 (Trial has no public id)
        if self._heartbeats is None:
            self._heartbeats = threading.Event()
            threading.Thread(target=self._beat_until, args=(self._heartbeats,), name="optuna-heartbeats",
                             daemon=True).start()

    def stop_heartbeats(self) -> None:
        """End the heartbeat thread (its trials then go stale, as if this driver had died)."""
        if self._heartbeats is not None:
            self._heartbeats.set()
            self._heartbeats = None

    def _beat_until(self, stop: threading.Event) -> None:
        import logging

        interval = self._storage.get_heartbeat_interval()
        while not stop.wait(interval):
            try:
                for t in self._running():
                    self._storage.record_heartbeat(t._trial_id)  # noqa: SLF001
            except Exception as e:  # noqa: BLE001 - a database hiccup: try again next time
                logging.getLogger(__name__).warning("could not record Optuna heartbeats: %s", e)

    def __getstate__(self) -> dict:  # Tune pickles the searcher with the Tuner: a thread's event is no state
        return {**self.__dict__, "_heartbeats": None}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        ot_trial = self._ot_trials.get(trial_id)
        if error and ot_trial is not None and trial_id not in self._completed_trials:
            reason = error_reason(self._errors.error_text(trial_id)) if self._errors is not None else ""
            try:
                ot_trial.set_user_attr(FAIL_REASON, reason or "the trial raised an error (see Tune's error.txt)")
            except Exception:  # noqa: BLE001
                pass
        if not error and result and ot_trial is not None and trial_id not in self._completed_trials:
            metrics = self.metric if isinstance(self.metric, list) else [self.metric]
            present = [m for m in metrics if result.get(m) is not None]
            bad = [m for m in metrics if not _finite(result.get(m))]
            if present and bad:
                # OptunaSearch would tell COMPLETE with a NaN or a missing value, Optuna would refuse it and
                # the trial would stay RUNNING: tell FAIL with the reason instead
                self._tell_failed(trial_id, ot_trial, f"objective(s) {bad} missing or not finite in the last result: "
                                                      f"{ {m: result.get(m) for m in bad} }")
                return
            if not present and len(metrics) > 1:  # stopped before reporting (OptunaSearch: PRUNED)
                self._tell_failed(trial_id, ot_trial, None)
                return
        super().on_trial_complete(trial_id, result=result, error=error)

    def _tell_failed(self, trial_id: str, ot_trial, reason: str | None) -> None:
        from optuna.trial import TrialState

        try:
            if reason is not None:
                ot_trial.set_user_attr(FAIL_REASON, reason)
            self._ot_study.tell(ot_trial, None, state=TrialState.FAIL if reason is not None else TrialState.PRUNED)
        except Exception as e:  # noqa: BLE001 - bookkeeping must never stop the study
            import logging

            logging.getLogger(__name__).warning("could not tell Optuna trial of %s: %s", trial_id, e)
        self._completed_trials.add(trial_id)

    def save(self, checkpoint_path: str) -> None:
        errors, self._errors = self._errors, None
        heartbeats, self._heartbeats = self._heartbeats, None  # a thread is no state
        try:
            super().save(checkpoint_path)
        finally:
            self._errors, self._heartbeats = errors, heartbeats

    def restore(self, checkpoint_path: str) -> None:
        """The saved searcher (``--resume``): the trials it continues get a fresh heartbeat first, then the
        study's other stale RUNNING trials (a killed driver's, this experiment's own that Tune never
        saved) are failed and retried."""
        errors = self._errors  # the saved state has none: keep this run's callback
        super().restore(checkpoint_path)
        self._errors, self._heartbeats = errors, None
        self._beat()
        fail_stale = getattr(self._storage, "fail_stale_trials", None)
        if fail_stale is not None:
            fail_stale(self._ot_study)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def reaches(value: Any, target: float, mode: str) -> bool:
    """A finite ``value`` at or beyond ``target`` in the direction of ``mode``."""
    return _finite(value) and (value >= target if mode == "max" else value <= target)


class TargetStopper(Stopper):
    """Stops every trial, and the searcher, once one trial reports ``metric`` at or beyond ``target``.

    Tune then stops the running trials and starts no new one; the trial that reached the target is not
    stopped on its own before that. Tune does not tell the searcher of the trials it stops this way:
    ``tell_stopped_trials`` does, after the search."""

    def __init__(self, metric: str, mode: str, target: float):
        self.metric, self.mode, self.target = metric, mode, target
        self.reached_by: str | None = None

    def __call__(self, trial_id: str, result: dict) -> bool:
        if self.reached_by is None and reaches(result.get(self.metric), self.target, self.mode):
            self.reached_by = trial_id
        return False

    def stop_all(self) -> bool:
        return self.reached_by is not None


def tell_stopped_trials(storage, study: Study, last_results: dict[str, dict]) -> int:
    """Tell Optuna the trials of ``study`` still RUNNING after a search ended at its target: COMPLETE with
    the Tune trial's last objective value (as an ASHA-stopped trial), PRUNED if it never reported (as
    OptunaSearch does). ``last_results``: Tune trial id -> last result. Returns how many were told."""
    from optuna.trial import TrialState

    ostudy = optuna.load_study(study_name=study.name, storage=storage)
    told = 0
    for t in ostudy.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        result = last_results.get(t.user_attrs.get(TUNE_TRIAL_ID, ""))
        if result is None:
            continue  # not a trial of this run
        value = result.get(study.metric)
        if _finite(value):
            ostudy.tell(t.number, float(value))
        else:
            ostudy.tell(t.number, state=TrialState.PRUNED)
        told += 1
    return told


def optuna_study(study: Study, storage) -> optuna.Study:
    """The study's Optuna study on ``storage`` (an Optuna storage object), created if new, with its
    objectives' names recorded (``study.metric_names``), so that ``platform.report`` and any reader of
    the storage see ``sync_kappa`` where Optuna has ``values[0]``."""
    import warnings

    names, modes = [m for m, _ in study.objectives], [d for _, d in study.objectives]
    ostudy = optuna.create_study(study_name=study.name, storage=storage, load_if_exists=True,
                                 directions=["maximize" if d == "max" else "minimize" for d in modes])
    if ostudy.metric_names != names and len(ostudy.directions) == len(names):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ExperimentalWarning
            ostudy.set_metric_names(names)
    return ostudy


def build_searcher(study: Study, storage, errors: TrialErrors | None = None, worker: int = 0) -> StudySearch:
    """OptunaSearch for ``study`` on ``storage`` (an Optuna storage object), define-by-run space, on the
    Optuna study ``optuna_study`` creates; ``worker``: the run's slot (``platform.workers``): its seed, and
    only slot 0 enqueues the ``cover`` values (two runs doing so at once would each enqueue them)."""
    names, modes = [m for m, _ in study.objectives], [d for _, d in study.objectives]
    ostudy = optuna_study(study, storage)
    fail_stale = getattr(storage, "fail_stale_trials", None)
    if fail_stale is not None:  # a killed driver's trials: FAIL, each retried by the next ask
        fail_stale(ostudy)
    done = len(ostudy.trials)
    cover = study.searcher.cover if worker == 0 else None
    if cover:  # each value first, once per Optuna study (a value some trial already has is skipped)
        param = next(p for p in study.search if p.name == cover)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ExperimentalWarning (skip_if_exists)
            for value in param.args:
                ostudy.enqueue_trial({cover: value}, skip_if_exists=True)
    metric: Any = names if study.multi_objective else study.metric
    mode: Any = modes if study.multi_objective else study.mode
    return StudySearch(
        space=SearchSpace(study.search, grid=study.searcher.type == "grid"), metric=metric, mode=mode,
        sampler=make_sampler(study, done, worker), study_name=study.name, storage=storage, errors=errors,
    )


def dominates(a: Sequence[float], b: Sequence[float], modes: Sequence[str]) -> bool:
    """``a`` is at least as good as ``b`` in every objective and better in one."""
    better = False
    for x, y, mode in zip(a, b, modes):
        if mode == "min":
            x, y = -x, -y
        if x < y:
            return False
        better |= x > y
    return better


def pareto_front(points: Iterable[tuple[Any, Sequence[float]]], modes: Sequence[str]) -> list[tuple[Any, Sequence[float]]]:
    """The non-dominated ``(item, values)`` pairs (ties kept), best first by the first objective."""
    pts = [(item, list(vals)) for item, vals in points if all(_finite(v) for v in vals)]
    front = [(item, vals) for item, vals in pts if not any(dominates(other, vals, modes) for _, other in pts)]
    return sorted(front, key=lambda p: -p[1][0] if modes[0] == "max" else p[1][0])

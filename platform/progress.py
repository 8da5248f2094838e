"""What a person watching ``platform.tune`` sees: one line per trial report, the study's objective first.

``StudyProgress`` is a Tune callback printing, per report, the trial's number and searched values (once,
when it starts), its epoch, the objective(s), the model's headline metrics (declared by its evaluator)
and the time since the search started; a line when a trial ends or is stopped by the scheduler
(``platform.search.TrialErrors`` prints a failed trial's one line). Tune's own status tables and
per-report dumps, the workers' duplicated epoch lines and Ray's known-harmless warnings are quieted
unless ``--verbose`` (``quiet_ray``).
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Callable, Optional, Sequence

from ray.tune import Callback

from platform.formatting import metric, number

# Messages Ray logs on every start here that say nothing about the study (matched as substrings).
HARMLESS = (
    "Token authentication is enabled",                          # Ray 2.60's default, on purpose
    "does not have any available CPUs",                         # Ray Data inside a study whose trials hold the CPUs
    "Progress bars disabled",
    "is deprecated",
    # Tune saves its state whenever a trial has reported keep_checkpoints checkpoints since the last save (so
    # that the state never names a deleted one), and warns when that happens often: short epochs, as in tests
    "Experiment state snapshotting has been triggered multiple times",
)


class _DropHarmless(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not any(h in msg for h in HARMLESS)


def quiet_ray() -> None:
    """Drop the known-harmless Ray warnings (idempotent): a filter on the handlers of Ray's loggers and of
    the root logger, where records of Ray's module loggers end up, and on the Ray loggers themselves."""
    import ray  # noqa: F401  (Ray configures its loggers and handlers on import)

    flt = _DropHarmless()
    loggers = [logging.getLogger(n) for n in ["ray", "ray.data", *logging.root.manager.loggerDict] if n.startswith("ray")]
    for target in [*loggers, *(h for lg in [*loggers, logging.root] for h in lg.handlers)]:
        if not any(isinstance(f, _DropHarmless) for f in target.filters):
            target.addFilter(flt)
    for h in HARMLESS:
        warnings.filterwarnings("ignore", message=f".*{h}.*")


_setting = number  # a searched setting: four significant digits (a learning rate of 2e-4 is not 0.000)


def _elapsed(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"


class StudyProgress(Callback):
    """One line per trial report: ``trial 2 epoch 4/12  sync_kappa=0.712 | sync_rate=0.781 ... [1m42s]``."""

    def __init__(self, objectives: Sequence[str], headline: Sequence[str], searched: Sequence[str], epochs: int,
                 out: Optional[Callable[..., None]] = None) -> None:
        # out=None: the print of the moment, looked up per line. A default of print would hold the builtin
        # as it was at import; Ray's tqdm_ray replaces builtins.print (a Ray Data progress bar, as a corpus
        # build in the same process shows), and Tune then cannot pickle this callback for a second Tuner.
        self.objectives, self.searched, self.epochs, self._out = list(objectives), list(searched), epochs, out
        self.headline = [m for m in headline if m not in self.objectives]
        self.numbers: dict[str, int] = {}
        self.t0 = time.time()

    def out(self, *args, **kwargs) -> None:
        (self._out or print)(*args, **kwargs)

    def _number(self, trial) -> int:
        return self.numbers.setdefault(trial.trial_id, len(self.numbers))

    def on_trial_start(self, iteration: int, trials: list, trial, **info) -> None:
        values = ", ".join(f"{k}={_setting(trial.config[k])}" for k in self.searched if k in trial.config)
        self.out(f"trial {self._number(trial)} started: {values}  [{_elapsed(time.time() - self.t0)}]", flush=True)

    def on_trial_result(self, iteration: int, trials: list, trial, result: dict, **info) -> None:
        self.out(self.line(self._number(trial), result, time.time() - self.t0), flush=True)
        if isinstance(result.get("warning"), str):  # a model's one line about itself (e.g. S near chance)
            self.out(f"trial {self._number(trial)} {result['warning']}", flush=True)

    def line(self, number: int, result: dict, elapsed: float) -> str:
        epoch = result.get("epoch", result.get("training_iteration"))
        epoch = f"{epoch:g}" if isinstance(epoch, (int, float)) else "?"
        objectives = " ".join(f"{m}={metric(result[m])}" for m in self.objectives if m in result)
        rest = " ".join(f"{m}={metric(result[m])}" for m in self.headline if m in result)
        return f"trial {number} epoch {epoch}/{self.epochs}  {objectives} | {rest}  [{_elapsed(elapsed)}]"

    def on_trial_complete(self, iteration: int, trials: list, trial, **info) -> None:
        last = trial.last_result or {}
        epoch = last.get("epoch")
        stopped = isinstance(epoch, (int, float)) and epoch < self.epochs
        self.out(f"trial {self._number(trial)} {'stopped by the scheduler at' if stopped else 'finished'} epoch "
                 f"{epoch if epoch is not None else '?'}: "
                 + " ".join(f"{m}={metric(last[m])}" for m in self.objectives if m in last), flush=True)


class EpochLines:
    """``platform.train``'s console: the run's epoch lines, printed by this (driver) process as rank 0
    appends them to ``<run dir>/progress.jsonl`` (``trainables.loop.log_progress``), so the workers'
    own output can stay off the console as in ``platform.tune``. The line is the worker's:
    ``epoch 3/12: sync_rate=0.781 ... (4.6 s)``, then the model's warning if it has one. A context
    manager: a thread follows the file while the run trains; leaving prints whatever is left."""

    def __init__(self, path, epochs: int, progress: Callable[[dict], str], interval: float = 0.5,
                 out: Optional[Callable[..., None]] = None) -> None:
        import threading
        from pathlib import Path

        self.path, self.epochs, self.progress, self.interval, self._out = Path(path), epochs, progress, interval, out
        self._done = threading.Event()
        self._offset = self.path.stat().st_size if self.path.is_file() else 0  # a reused run dir's lines are old
        self._thread = threading.Thread(target=self._follow, name="epoch-lines", daemon=True)

    def __enter__(self) -> "EpochLines":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self._print_new()

    def _follow(self) -> None:
        while not self._done.wait(self.interval):
            self._print_new()

    def _print_new(self) -> None:
        import json

        from trainables.loop import epoch_line

        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        complete = data[:data.rfind(b"\n") + 1]  # a line being written waits for its newline
        self._offset += len(complete)
        for raw in complete.splitlines():
            try:
                m = json.loads(raw)
            except ValueError:
                continue
            (self._out or print)(epoch_line(m, self.epochs, self.progress(m)), flush=True)
            if isinstance(m.get("warning"), str):
                (self._out or print)(m["warning"], flush=True)

"""Ray's errors in one line: the root cause of a traceback Ray wrapped, and a logging filter that keeps
Ray Train's worker and controller processes from printing a trial's traceback to the driver twice.

When a training function raises, Ray Train 2.60 logs the traceback in the worker ("Error in training
function: ...") and again in its controller ("[FailurePolicy] RAISE ... Error: <WorkerGroupError with
the traceback>" plus its own traceback); both reach the driver's terminal (``log_to_driver``). The
full traceback is kept in Tune's ``error.txt``; ``one_line_train_errors`` (installed in every Ray
worker process by ``platform.ray_session.init_ray``) drops the worker's copy and the controller's
copy of a final failure, and shortens a retry's to one line. Runs in Ray workers: no ``platform``.
"""
from __future__ import annotations

import logging
import re

WRAPPERS = ("RayTaskError", "TuneError", "TrainingFailedError", "WorkerGroupError", "RayActorError",
            "ActorDiedError", "ControllerError")
_EXC_LINE = re.compile(r"^\s*(?:[\w.]+\.)?(\w*(?:Error|Exception|Interrupt|Exit))(?:\([^)]*\))?: (.+)$")
WORKER_LOGGER = "ray.train.v2._internal.util"
"""Logs "Error in training function:" and the traceback, in each Train worker."""
POLICY_LOGGER = "ray.train.v2._internal.execution.failure_handling.default"
"""Logs "[FailurePolicy] RETRY|RAISE" with the WorkerGroupError and its traceback, in the Train controller."""


def root_cause(text: str, limit: int = 500) -> str:
    """The root cause of a Ray/Tune error text: ``FloatingPointError: SyncGAN diverged: loss_s = nan``.

    Tune's ``error.txt`` holds one block per failure (the last counts); Ray wraps the trial's
    exception (RayTaskError, Train's TrainingFailedError ...) around the worker's traceback, so the
    reason is the last ``SomeError: message`` line that is not one of Ray's wrappers.
    """
    if not text:
        return ""
    blocks = re.split(r"^Failure # \d+ \(occurred at [^)]*\)\s*$", text, flags=re.M)
    block = blocks[-1] if blocks[-1].strip() else text
    hits = [m for m in map(_EXC_LINE.match, block.splitlines()) if m]
    inner = [m for m in hits if m.group(1) not in WRAPPERS]
    if inner or hits:
        m = (inner or hits)[-1]
        reason = f"{m.group(1)}: {m.group(2).strip()}"
    else:
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        reason = lines[-1] if lines else "error"
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


class TrainErrorsInOneLine(logging.Filter):
    """Drops Ray Train's traceback records of a training function's error, keeps a retry as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if record.name == WORKER_LOGGER and message.startswith("Error in training function"):
            return False  # the controller, Tune's error.txt and platform.tune's line report it
        if record.name == POLICY_LOGGER and message.startswith("[FailurePolicy]"):
            head = message.split("\nError:", 1)[0]
            if "RAISE" in head.splitlines()[0]:
                return False  # the trial fails: platform.tune prints its one line
            error = record.exc_info[1] if record.exc_info else None
            record.msg = " ".join(head.split()) + (f"; {root_cause(str(error))}" if error is not None else "")
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def one_line_train_errors() -> None:
    """Install ``TrainErrorsInOneLine`` on Ray Train's two loggers in this process (idempotent); a
    ``worker_process_setup_hook``."""
    for name in (WORKER_LOGGER, POLICY_LOGGER):
        logger = logging.getLogger(name)
        if not any(isinstance(f, TrainErrorsInOneLine) for f in logger.filters):
            logger.addFilter(TrainErrorsInOneLine())

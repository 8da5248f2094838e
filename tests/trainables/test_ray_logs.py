"""Ray Train's own error logging (its real functions, no cluster) with ``one_line_train_errors`` installed:
a training function's traceback is not logged by the worker, nor by the controller when the trial
fails; a retry is one line with the root cause."""
from __future__ import annotations

import logging

import pytest
from ray.train import FailureConfig
from ray.train.v2._internal.execution.failure_handling import FailureDecision
from ray.train.v2._internal.execution.failure_handling.default import DefaultFailurePolicy
from ray.train.v2._internal.util import construct_user_exception_with_traceback
from ray.train.v2.api.exceptions import WorkerGroupError

from trainables import ray_logs


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter().format(record))


@pytest.fixture
def train_logs():
    """Ray Train's two loggers, recorded, with the filter installed (and removed afterwards)."""
    loggers = [logging.getLogger(n) for n in (ray_logs.WORKER_LOGGER, ray_logs.POLICY_LOGGER)]
    saved = [(lg.level, list(lg.filters)) for lg in loggers]
    records = Records()
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.addHandler(records)
    ray_logs.one_line_train_errors()
    ray_logs.one_line_train_errors()  # idempotent
    yield records
    for lg, (level, filters) in zip(loggers, saved):
        lg.removeHandler(records)
        lg.setLevel(level)
        lg.filters[:] = filters


def _diverge():
    def train_step():
        raise FloatingPointError("SyncGAN diverged: loss_d_image = nan")

    try:
        train_step()
    except FloatingPointError as e:
        return e, construct_user_exception_with_traceback(e)  # what the Train worker logs and sends on


def test_a_failing_training_function_logs_one_line_at_most(train_logs):
    error, user_error = _diverge()
    failure = WorkerGroupError(f"[Rank 0 Error Snippet]:\n{user_error}", {0: user_error})
    policy = DefaultFailurePolicy(FailureConfig(max_failures=1))
    policy._log_decision(FailureDecision.RETRY, failure, 1, 1)  # noqa: SLF001 - the controller's own call
    policy._log_decision(FailureDecision.RAISE, failure, 2, 1)  # noqa: SLF001
    assert train_logs.lines == ["[FailurePolicy] RETRY Source: worker group Error count: 1 (max allowed: 1); "
                                "FloatingPointError: SyncGAN diverged: loss_d_image = nan"]
    assert ray_logs.root_cause(str(failure)) == "FloatingPointError: SyncGAN diverged: loss_d_image = nan"

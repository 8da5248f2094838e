"""The Optuna storage object a study runs on: Optuna's RDBStorage with two additions.

- **No secret at rest.** Tune pickles the searcher, and with it this storage, into the experiment
  directory (``searcher-state-*.pkl``, ``tuner.pkl``), and RDBStorage pickles its URL, password
  included. This one pickles the URL as the user wrote it (``${OPTUNA_PG_PASSWORD}`` unexpanded, or
  ``${XMODAL_OPTUNA_STORAGE}`` for a URL taken from that variable) and fills it from the environment
  again when ``--resume`` loads it.
- **Heartbeats.** Optuna fails a RUNNING trial whose heartbeat is older than the grace period
  (``optuna.storages.fail_stale_trials``) and retries it (``RetryHeartbeatStaleTrialCallback``):
  a driver killed with its trials (a lost head node) leaves no trial RUNNING forever.
  ``platform.search.StudySearch`` records the heartbeats of its running trials, every
  ``heartbeat_interval`` seconds (``$XMODAL_OPTUNA_HEARTBEAT``, default 60; grace twice that).
"""
from __future__ import annotations

import os
import warnings
from typing import Any

import optuna

HEARTBEAT_ENV = "XMODAL_OPTUNA_HEARTBEAT"
"""Seconds between heartbeats of a study's running trials (default 60); a trial is stale after twice that."""
MAX_RETRY = 2
"""Times a trial whose driver died is retried (a point that kills its driver each time is not retried forever)."""


def heartbeat_interval() -> int:
    """``$XMODAL_OPTUNA_HEARTBEAT`` as a positive whole number of seconds (default 60)."""
    from platform.storage import StorageError

    raw = os.environ.get(HEARTBEAT_ENV, "60")
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise StorageError(f"{HEARTBEAT_ENV}={raw!r}: a whole number of seconds >= 1")
    return value


class StudyStorage(optuna.storages.RDBStorage):
    """RDBStorage whose pickled form holds ``template`` (the URL with its ``${VAR}`` placeholders) in place
    of the URL, and which heartbeats and retries its trials (see the module's docstring)."""

    def __init__(self, url: str, template: str, **kwargs: Any):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
            super().__init__(url, heartbeat_interval=heartbeat_interval(), heartbeat_stale_trial_callback=retry,
                             **kwargs)
        self.template = template

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["url"] = self.template
        return state

    def fail_stale_trials(self, study: optuna.Study) -> None:
        """Optuna's ``fail_stale_trials``: RUNNING trials of ``study`` whose heartbeat is older than the grace
        period become FAIL, each retried as a new WAITING trial with its parameters (the next ``ask`` takes it)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)

    def __setstate__(self, state: dict[str, Any]) -> None:
        from platform.storage import fill_placeholders

        super().__setstate__({**state, "url": fill_placeholders(state["template"], "the saved storage URL")})

"""A failed trial in one line: the root cause of Tune's ``error.txt``, and where the full traceback is.

Ray wraps a trial's exception (RayTaskError, Train's WorkerGroupError ...) around the worker's
traceback, so Tune's ``error.txt`` runs to ~100 lines per trial; the summary, the log and
``platform.report`` print ``platform.formatting.failure_line`` of a ``failure_record`` instead (the root
cause: ``trainables.ray_logs.root_cause``).
No Ray import here (``platform.report`` uses it).
"""
from __future__ import annotations

import re

from trainables.ray_logs import root_cause as error_reason  # noqa: F401 (the name the platform uses)


def failure_record(trial_id: str, error_text: str, error_file: str) -> dict[str, str]:
    """A failed trial in a few fields: its id, the root cause's exception type and message
    (``error_reason``) and the file holding the full traceback (Tune's ``error.txt``)."""
    reason = error_reason(error_text) or "the trial raised an error"
    kind, sep, message = reason.partition(": ")
    if not sep or not re.fullmatch(r"\w+", kind):
        kind, message = "Error", reason
    return {"trial_id": trial_id, "error_type": kind, "message": message, "error_file": error_file}


def read_text(path: str | None) -> str:
    """A small text file's content, or "" if there is none to read."""
    if not path:
        return ""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""

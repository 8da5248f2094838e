"""A pytest plugin: a test that hangs ends the session with every thread's stack.

The longest test takes about 4 minutes on 2 cores. A wait that never returns (on Ray, a lock, a child
process) would otherwise hold CI until its 90-minute limit and print nothing to read; after
``PYTEST_HANG_SECONDS`` (default 900) in one test, ``faulthandler`` writes every thread's stack to stderr
and exits the process (status 1).
"""
from __future__ import annotations

import faulthandler
import os
import sys

import pytest

_stderr: list[int] = []  # the terminal's stderr, taken before pytest captures fd 2 for each test


def pytest_configure(config) -> None:
    _stderr.append(os.dup(sys.__stderr__.fileno()))


@pytest.fixture(autouse=True)
def _hang_watchdog():
    faulthandler.dump_traceback_later(float(os.environ.get("PYTEST_HANG_SECONDS", "900")), exit=True,
                                      file=_stderr[0])
    yield
    faulthandler.cancel_dump_traceback_later()

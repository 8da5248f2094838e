"""Shared fixtures: one local Ray instance for the whole session (worker start-up is the slow part)."""
from __future__ import annotations

import os

import pytest

# keep the suite off any cluster a developer might have running, and quiet
os.environ.pop("RAY_ADDRESS", None)
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# Ray Train's controller polls its workers every 2 s by default, and a run passes through several polls
# between start and finish: a trivial one-worker TorchTrainer.fit took 13.4 s, at 0.2 s 8.2 s. The tests'
# trials are a few seconds long, so they poll often (inherited by the Ray processes and the CLI subprocesses).
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")

pytest_plugins = ["hang_watchdog"]  # a test that hangs ends the session with its stacks (tests/hang_watchdog.py)


@pytest.fixture(scope="session")
def ray_local():
    """``ray.init(address="local")`` once per session, with the machine's 2 cores.

    Started as the platform starts it (see platform/ray_session.py: the state API and the
    address that Ray Train needs to clean up the placement groups of stopped trials).
    """
    import ray
    from ray._private.utils import get_dashboard_dependency_error

    from platform.ray_session import init_ray

    # a minimal Ray (the wheels carried to a lent GPU machine) has no dashboard: start it without one there
    init_ray(num_cpus=2, log_to_driver=False, include_dashboard=get_dashboard_dependency_error() is None)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (password auth on 127.0.0.1, a free port)."""
    from postgres_server import postgres_server

    with postgres_server() as server:
        yield server

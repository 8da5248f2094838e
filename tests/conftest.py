"""Shared fixtures: one local Ray instance for the whole session (worker start-up is the slow part)."""
from __future__ import annotations

import os

import pytest

# keep the suite off any cluster a developer might have running, and quiet
os.environ.pop("RAY_ADDRESS", None)
os.environ.setdefault("RAY_DEDUP_LOGS", "0")


@pytest.fixture(scope="session")
def ray_local():
    """``ray.init(address="local")`` once per session, with the machine's 2 cores.

    With the dashboard: it serves the state API that Ray Train uses to clean up the placement
    groups of stopped trials (without it the next trial never starts).
    """
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()

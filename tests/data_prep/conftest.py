"""Fixtures for data_prep tests (the session's ``ray_local`` lives in tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from dp_helpers import write_fake_fashion


@pytest.fixture(scope="module")
def fake_fashion(tmp_path_factory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("fashion")
    return d, write_fake_fashion(d)

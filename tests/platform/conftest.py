"""A tiny study on a tiny offline corpus, shared by the platform tests (the corpus is built once)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tiny_study import TINY_STUDY

@pytest.fixture(scope="session")
def tiny_study_yaml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("studies") / "tiny_study.yaml"
    path.write_text(yaml.safe_dump(TINY_STUDY))
    return path


@pytest.fixture(scope="session")
def shared_data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")

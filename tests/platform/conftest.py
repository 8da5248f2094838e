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


def _write_tiny_corpus():
    """``write_tiny_corpus`` of tests/trainables/conftest.py (its fixtures are not visible here)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "trainables" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_trainables_tests_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_tiny_corpus


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory) -> Path:
    """The trainables tests' tiny Parquet corpus (200 train, 60 test pairs; 28x28 images, 48x48 log-mel)."""
    return _write_tiny_corpus()(tmp_path_factory.mktemp("platform-corpus"))


@pytest.fixture(scope="session")
def tiny_classifiers_path(tiny_corpus_dir) -> Path:
    """Judge classifiers for the tiny corpus, trained briefly (their accuracy does not matter here)."""
    from trainables.classifiers import ensure_classifiers

    return ensure_classifiers(tiny_corpus_dir, epochs_image=1, epochs_audio=1)

"""A class-folder corpus whose folder changed after its build is rebuilt, saying what changed (real Ray, real files)."""
from __future__ import annotations

import logging
import os
import shutil

import pytest

from data_prep import build, load_manifest
from dp_helpers import write_class_folder


def _build(root, out, verify=False):
    return build("instruments", out, {"root": str(root), "num_shards": 1, "test_fraction": 0.34},
                 **({"verify": True} if verify else {}))


def _image_files(corpus) -> list[str]:
    return sorted(load_manifest(corpus)["image"]["files"])


@pytest.fixture
def folder(ray_local, tmp_path):
    root = tmp_path / "inst"
    write_class_folder(root, per_class=3)
    out = tmp_path / "out"
    corpus = _build(root, out)
    return root, out, corpus


def test_adding_removing_or_changing_a_file_rebuilds_the_corpus_naming_it(folder, caplog):
    root, out, corpus = folder
    built = load_manifest(corpus)["created_utc"], _image_files(corpus)
    assert _build(root, out) == corpus and (load_manifest(corpus)["created_utc"], _image_files(corpus)) == built
    shutil.copy(root / "image" / "sax" / "sax0.png", root / "image" / "sax" / "added.png")
    with caplog.at_level(logging.WARNING, logger="data_prep"):
        corpus = _build(root, out)
    assert "image/sax/added.png" in _image_files(corpus)
    assert "source files changed since the build: 1 added (image/sax/added.png); rebuilding it" in caplog.text
    caplog.clear()
    (root / "image" / "tuba" / "tuba1.png").unlink()
    shutil.copy(root / "audio" / "violin" / "violin0.wav", root / "audio" / "tuba" / "tuba2.wav")
    with caplog.at_level(logging.WARNING, logger="data_prep"):
        corpus = _build(root, out)
    assert "image/tuba/tuba1.png" not in _image_files(corpus)
    assert "1 removed (image/tuba/tuba1.png); 1 changed (audio/tuba/tuba2.wav)" in caplog.text
    assert not list(corpus.glob("classifiers-*"))  # no judge of the old data survives a rebuild


def test_same_size_and_time_other_bytes_need_verify(folder, caplog):
    root, out, corpus = folder
    wav = root / "audio" / "sax" / "sax1.wav"
    st = wav.stat()
    data = bytearray(wav.read_bytes())
    data[-200:] = bytes(200)  # the clip's last samples silenced: same size
    wav.write_bytes(bytes(data))
    os.utime(wav, ns=(st.st_atime_ns, st.st_mtime_ns))
    created = load_manifest(corpus)["created_utc"]
    assert load_manifest(_build(root, out))["created_utc"] == created  # sizes and times alone: up to date
    with caplog.at_level(logging.WARNING, logger="data_prep"):
        _build(root, out, verify=True)
    assert "their content differs from the recorded sha256; rebuilding it" in caplog.text


def test_a_corpus_built_before_listings_is_hashed_once_then_listed(folder, caplog):
    import json

    root, out, corpus = folder
    manifest = load_manifest(corpus)
    listed = manifest.pop("source_listing")
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    assert _build(root, out) == corpus and load_manifest(corpus)["source_listing"] == listed
    (root / "audio" / "sax" / "sax0.wav").unlink()
    with caplog.at_level(logging.WARNING, logger="data_prep"):
        _build(root, out)
    assert "1 removed (audio/sax/sax0.wav)" in caplog.text

"""Training state on disk: a checkpoint write that fails (a full disk, injected) leaves no half-written
file behind as if valid; damaged cached judge classifiers are retrained, not loaded."""
from __future__ import annotations

import errno
import io
import json

import pytest
import torch

from trainables import checkpoint
from trainables.checkpoint import STATE_FILE, Progress, load_checkpoint, save_checkpoint
from trainables.syncgan import SyncGAN, SyncGANConfig


def test_a_checkpoint_write_that_fails_leaves_the_previous_one_intact(tmp_path, monkeypatch):
    model = SyncGAN(SyncGANConfig(width=8, z_dim=16, sync_warmup_steps=0), (28, 28), (48, 48))
    save_checkpoint(model, Progress(epoch=1), {"width": 8}, tmp_path)
    good = (tmp_path / STATE_FILE).read_bytes()
    real_save = torch.save

    def disk_full(obj, f, *args, **kwargs):  # writes half of what it would, then the disk is full
        buf = io.BytesIO()
        real_save(obj, buf, *args, **kwargs)
        with open(f, "wb") as out:
            out.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(f))

    monkeypatch.setattr(checkpoint.torch, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(model, Progress(epoch=2), {"width": 8}, tmp_path)
    monkeypatch.setattr(checkpoint.torch, "save", real_save)
    assert (tmp_path / STATE_FILE).read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rng-rank0.pt", STATE_FILE]  # no temporary left
    assert load_checkpoint(model, tmp_path) == Progress(epoch=1)


@pytest.mark.parametrize("damaged", ["classifiers-i1-a1-s0.pt", "classifiers-i1-a1-s0.json"])
def test_damaged_cached_judges_are_retrained(tiny_corpus, tmp_path, damaged, capsys):
    import shutil

    from trainables.classifiers import ensure_classifiers, load_classifiers

    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus, ignore=shutil.ignore_patterns("classifiers-*"))
    path = ensure_classifiers(corpus, epochs_image=1, epochs_audio=1)
    data = (corpus / damaged).read_bytes()
    (corpus / damaged).write_bytes(data[: len(data) // 2])
    assert ensure_classifiers(corpus, epochs_image=1, epochs_audio=1) == path
    assert f"judges {path} are damaged" in capsys.readouterr().out
    load_classifiers(path)
    assert "test_accuracy" in json.loads(path.with_suffix(".json").read_text())

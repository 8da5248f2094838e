"""A run that resumes (same Train run name: Train restores its checkpoint manager's snapshot) from a
checkpoint whose state.pt was cut short falls back to the newest intact checkpoint beside it."""
import json
import uuid

import pytest

from trainables.ray_train import make_trainer


@pytest.mark.slow
def test_resume_skips_a_truncated_checkpoint_for_the_previous_intact_one(ray_local, tiny_corpus, tiny_classifiers,
                                                                       tmp_path):
    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                  batch_size=16, steps_per_epoch=3, eval_samples=50, transfer_samples=0, sync_warmup_steps=5,
                  tb_dir=str(tmp_path / "tb"))
    workers = {"num_workers": 1, "cpus_per_worker": 0.9, "startup_retries": 2, "keep_checkpoints": 5}
    name, runs = f"resume-{uuid.uuid4().hex[:6]}", tmp_path / "runs"
    first = make_trainer("syncgan", {**config, "epochs": 2}, workers, name=name, storage_path=str(runs)).fit()
    assert first.error is None and first.metrics["epoch"] == 2
    newest = sorted(p for p in (runs / name).glob("checkpoint_*") if p.is_dir())[-1]
    state = newest / "state.pt"
    state.write_bytes(state.read_bytes()[:1000])  # cut short, as by a full disk or a crash

    second = make_trainer("syncgan", {**config, "epochs": 3}, workers, name=name, storage_path=str(runs)).fit()
    assert second.error is None and second.metrics["epoch"] == 3
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "tb" / "progress.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 2, 3]  # resumed after epoch 1's checkpoint, not from scratch, not from the cut one

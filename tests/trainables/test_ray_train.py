"""A tiny Ray Train run of the SyncGAN loop on the local Ray instance (gloo, 2 workers, Ray Data shards)."""
import json
import uuid

import torch

from trainables.ray_train import make_trainer


def test_two_worker_ray_train_run_reads_shards_reports_and_checkpoints(ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                  batch_size=16, epochs=2, eval_samples=100, semi_rate=0.5, tb_dir=str(tmp_path / "tb"),
                  checkpoint_every_steps=4)
    trainer = make_trainer("syncgan", config, {"num_workers": 2, "cpus_per_worker": 0.45, "max_failures": 0, "startup_retries": 2},
                           name=f"tiny-{uuid.uuid4().hex[:6]}", storage_path=str(tmp_path / "runs"))
    result = trainer.fit()
    assert result.error is None
    assert result.metrics["epoch"] == 2
    assert result.metrics["node_id"] == ray_local.get_runtime_context().get_node_id()  # where rank 0 ran
    assert 0.0 <= result.metrics["sync_rate"] <= 1.0
    # each worker keeps its half of the 200 training pairs: 100 rows / 16 = 6 steps
    assert result.metrics["steps"] == 100 // 16
    with result.checkpoint.as_directory() as d:
        state = torch.load(f"{d}/state.pt", weights_only=True)
        rngs = sorted(p.name for p in __import__("pathlib").Path(d).glob("rng-rank*.pt"))
    assert state["progress"] == {"epoch": 2, "step_in_epoch": 0, "global_step": 12}
    assert state["config"]["semi_rate"] == 0.5
    assert rngs == ["rng-rank0.pt", "rng-rank1.pt"], "each rank's RNG state belongs in the merged checkpoint"
    # a checkpoint every 4 steps besides the epoch ends: steps 4, 6 (epoch 1), 8, 12 (epoch 2)
    history = [json.loads(line) for line in (tmp_path / "tb" / "progress.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))

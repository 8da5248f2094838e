"""A tiny Ray Train run of the SyncGAN loop on the local Ray instance (gloo, 2 workers)."""
import uuid

import torch

from trainables.syncgan.ray_loop import train_loop_per_worker


def test_two_worker_ray_train_run_reports_and_checkpoints(ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                  batch_size=16, epochs=2, eval_samples=100, semi_rate=0.5, tb_dir=str(tmp_path / "tb"))
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config=config,
        scaling_config=ScalingConfig(num_workers=2, resources_per_worker={"CPU": 0.45}),
        run_config=RunConfig(name=f"tiny-{uuid.uuid4().hex[:6]}", storage_path=str(tmp_path / "runs")),
    )
    result = trainer.fit()
    assert result.error is None
    assert result.metrics["epoch"] == 2
    assert result.metrics["node_id"] == ray_local.get_runtime_context().get_node_id()  # where rank 0 ran
    assert 0.0 <= result.metrics["sync_rate"] <= 1.0
    # each worker saw half the pairs: 100 rows / 16 = 6 steps
    assert result.metrics["steps"] == 100 // 16
    with result.checkpoint.as_directory() as d:
        state = torch.load(f"{d}/state.pt", weights_only=True)
    assert state["epoch"] == 2 and state["config"]["semi_rate"] == 0.5
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))

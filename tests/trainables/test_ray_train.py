"""A tiny Ray Train run of the SyncGAN loop on the local Ray instance (gloo, 2 workers, Ray Data shards)."""
import json
import sys
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


def test_make_trainer_workers_average_gradients(ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    """The production wiring (``make_trainer`` -> ``train_loop_per_worker``) averages: two workers on
    different rows, each drawing its own noise, end every epoch with identical weights
    (``replica_divergence``, measured across the ranks, is 0.0) and all-reduce every parameter exactly once
    a step, in one collective per optimizer (bucket averaging, the default)."""
    from trainables.syncgan import SyncGAN, SyncGANConfig

    model = dict(width=8, z_dim=16, batch_size=16, sync_warmup_steps=0)  # no warm-up: every step alike
    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), epochs=2, steps_per_epoch=3,
                  eval_samples=50, transfer_samples=0, tb_dir=str(tmp_path / "tb"), **model)
    result = make_trainer("syncgan", config, {"num_workers": 2, "cpus_per_worker": 0.45, "max_failures": 0, "startup_retries": 2},
                          name=f"avg-{uuid.uuid4().hex[:6]}", storage_path=str(tmp_path / "runs")).fit()
    assert result.error is None
    history = [json.loads(line) for line in (tmp_path / "tb" / "progress.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]
    assert [h["replica_divergence"] for h in history] == [0.0, 0.0]
    n_params = sum(p.numel() for p in SyncGAN(SyncGANConfig(**model), (28, 28), (48, 48)).parameters()
                   if p.requires_grad)  # the weight averages (ema_a/ema_b) are frozen copies, never synced
    assert [h["grad_sync_bytes_per_step"] for h in history] == [4.0 * n_params] * 2  # float32, once each
    assert [h["grad_sync_collectives_per_step"] for h in history] == [3.0, 3.0]  # D, S, G
    assert all(0.0 < h["grad_sync_share"] < 1.0 for h in history)


class _KeepsLastModel:
    """Mixed into a model class: the last instance built in this process stays reachable."""

    last = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        type(self).last = self


def _data_parallel_worker(config: dict) -> None:
    """One Ray Train worker: the gradient average on a probe module, then the SyncGAN loop on this
    rank's rows with ``allreduce_grads`` (what ``train_loop_per_worker`` runs); writes what it ends with."""
    import dataclasses
    import hashlib
    from pathlib import Path

    import ray.train
    import torch

    from trainables.data import load_split
    from trainables.loop import fit
    from trainables.ray_train import allreduce_grads
    from trainables.registry import get_trainable
    from trainables.syncgan import SyncGAN, SyncGANConfig

    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    probe = torch.nn.Linear(3, 2)
    for p in probe.parameters():
        p.grad = torch.full_like(p, float(rank + 1))
    allreduce_grads(probe)
    probe_grads = sorted({float(v) for p in probe.parameters() for v in p.grad.flatten()})

    model_cls = type("KeptSyncGAN", (_KeepsLastModel, SyncGAN), {})
    spec = dataclasses.replace(get_trainable("syncgan"), model_cls=model_cls)
    cfg = SyncGANConfig(**config["syncgan"])
    train = load_split(cfg.corpus_dir, "train").shard(rank, world)
    fit(spec, cfg, lambda metrics, _ckpt: ray.train.report(dict(metrics)), rank=rank, world=world, train=train,
        grad_hook=allreduce_grads if config["all_reduce"] else None, hparams=False)
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model_cls.last.parameters())).hexdigest()
    (Path(config["out"]) / f"rank{rank}.json").write_text(json.dumps(
        {"probe_grads": probe_grads, "weights": digest, "first_rows": train.pair_id[:5].tolist()}))


def test_two_workers_average_gradients_and_end_with_identical_weights(ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    """Data parallelism over gloo: ``allreduce_grads`` leaves every rank the mean of the ranks'
    gradients (1 and 2 -> 1.5: the sum divided by the world size), and after a run on different rows
    every rank holds the same weights (each rank draws its own noise, so without the average they part)."""
    from ray import cloudpickle
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import a test module
    syncgan = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=8, z_dim=16,
                   batch_size=16, epochs=2, eval_samples=50, transfer_samples=0)
    TorchTrainer(
        _data_parallel_worker, train_loop_config={"syncgan": syncgan, "all_reduce": True, "out": str(tmp_path)},
        scaling_config=ScalingConfig(num_workers=2, resources_per_worker={"CPU": 0.45}),
        run_config=RunConfig(name=f"dp-{uuid.uuid4().hex[:6]}", storage_path=str(tmp_path / "runs")),
    ).fit()
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["probe_grads"] for r in ranks] == [[1.5], [1.5]]
    assert ranks[0]["first_rows"] != ranks[1]["first_rows"]  # each rank trained on its own rows
    assert ranks[0]["weights"] == ranks[1]["weights"]

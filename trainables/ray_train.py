"""Ray Train entry points for every trainable: the per-worker loop and the Tune trial that launches it."""
from __future__ import annotations

import contextlib
import functools
import os
from typing import Any, Iterator

import pyarrow.fs
import torch

from trainables.config import from_dict
from trainables.data import arrays_from_shard, ray_dataset, read_manifest
from trainables.grad_sync import GradAverager, allreduce_grads  # noqa: F401  (allreduce_grads: re-exported)
from trainables.loop import fit
from trainables.registry import get_trainable
from trainables.resources import Resources, as_resources


def train_loop_per_worker(config: dict[str, Any]) -> None:
    """Ray Train worker: its Ray Data shard of the corpus, gradients averaged over gloo/NCCL.

    ``config``: ``{"trainable": name, "config": {...the trainable's config...}, "hparams": bool,
    "grad_averaging": "bucket" | "per_tensor"}`` (``trainables.grad_sync.GradAverager``; default: ``Resources``).
    """
    import ray.train
    import ray.train.torch

    spec = get_trainable(config["trainable"])
    cfg = from_dict(spec.config_cls, config["config"], where="train_loop_config")
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    device = ray.train.torch.get_device()
    node_id = ray.get_runtime_context().get_node_id()
    train = arrays_from_shard(ray.train.get_dataset_shard("train"), read_manifest(cfg.corpus_dir), rank, world)

    def report(metrics: dict, checkpoint_dir: str | None) -> None:
        ckpt = ray.train.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
        ray.train.report({**metrics, "node_id": node_id}, checkpoint=ckpt)

    averager = GradAverager(config.get("grad_averaging", Resources.grad_averaging)) if world > 1 else None
    run = functools.partial(fit, spec, cfg, report, rank=rank, world=world, device=device, train=train,
                            grad_hook=averager, hparams=config.get("hparams", True))
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        run()
    else:
        with intact_checkpoint(checkpoint) as resume_dir:
            run(resume_dir=resume_dir)


@contextlib.contextmanager
def intact_checkpoint(checkpoint) -> Iterator[str]:
    """The local directory of Ray ``checkpoint`` or, when a file of it does not load (cut short by a full
    disk or a crash, altered), of the newest intact ``checkpoint_*`` beside it, with one line saying so.
    Every rank sees the same files, so every rank picks the same checkpoint."""
    import pyarrow.fs as pafs
    import ray.train

    from trainables.checkpoint import CheckpointDamaged, check_intact

    parent = checkpoint.path.rstrip("/").rsplit("/", 1)[0]
    found = checkpoint.filesystem.get_file_info(pafs.FileSelector(parent, allow_not_found=True))
    older = sorted((i.path for i in found if i.type == pafs.FileType.Directory and i.base_name.startswith("checkpoint_")
                    and i.path.rstrip("/") != checkpoint.path.rstrip("/")), reverse=True)  # names sort by time
    damaged = []
    for path in [checkpoint.path, *older]:
        with ray.train.Checkpoint(path, filesystem=checkpoint.filesystem).as_directory() as directory:
            try:
                check_intact(directory)
            except (CheckpointDamaged, FileNotFoundError) as e:
                damaged.append(str(e))
                continue
            if damaged:
                print(f"resuming from {path}: the newer checkpoint is damaged ({damaged[0]})", flush=True)
            yield directory
            return
    raise CheckpointDamaged(f"no intact checkpoint to resume from: {'; '.join(damaged)}")


def make_trainer(
    trainable: str, loop_config: dict[str, Any], resources: Resources | dict[str, Any], name: str, storage_path: str,
    storage_filesystem=None, callbacks: list | None = None, hparams: bool = True,
    checkpoint_metric: str | None = None, checkpoint_mode: str = "max",
):
    """The TorchTrainer for one run of ``trainable`` (used by Tune trials and by ``platform.train``).

    The corpus's train split becomes a Ray Dataset here (``trainables.data.ray_dataset``); each
    worker takes its rows from ``get_dataset_shard`` (``trainables.data.arrays_from_shard``).

    ``resources``: the run's ``trainables.resources.Resources`` (or a mapping of its fields). Train keeps
    the best ``keep_checkpoints`` by ``checkpoint_metric``/``checkpoint_mode`` — platform.tune passes the
    study's first objective when it comes with every report — else by the trainable's objective, max.
    With several workers, ``resources.grad_averaging`` says how their gradients are averaged.
    ``hparams``: rank 0 writes TensorBoard's HParams record of the run (``trainables.loop.fit``).
    """
    from ray.train import CheckpointConfig, DataConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    spec = get_trainable(trainable)
    cfg = from_dict(spec.config_cls, loop_config, where="train config")  # fail fast, before workers start
    res = as_resources(resources)
    return TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"trainable": trainable, "config": loop_config, "hparams": hparams,
                           "grad_averaging": res.grad_averaging},
        datasets={"train": ray_dataset(cfg.corpus_dir, "train")},
        # unsplit: a streaming split with equal shards runs Ray tasks that need a whole CPU;
        # each worker keeps its stride of the pair-id order instead (deterministic per rank)
        dataset_config=DataConfig(datasets_to_split=[]),
        scaling_config=ScalingConfig(
            num_workers=res.num_workers,
            use_gpu=res.use_gpu,
            resources_per_worker=res.worker_resources(),
        ),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            storage_filesystem=storage_filesystem,
            callbacks=callbacks or [],
            failure_config=FailureConfig(
                max_failures=res.max_failures,
                controller_failure_limit=res.startup_retries,
            ),
            checkpoint_config=CheckpointConfig(
                num_to_keep=res.keep_checkpoints,
                checkpoint_score_attribute=checkpoint_metric or spec.objective,
                checkpoint_score_order=checkpoint_mode if checkpoint_metric else "max",
            ),
        ),
    )


def tune_trial(config: dict[str, Any], *, model: str, fixed: dict[str, Any], resources: Resources,
               checkpoint_metric: str | None = None, checkpoint_mode: str = "max") -> None:
    """Tune function trainable: builds a TorchTrainer of trainable ``model`` for this trial's config and fits it
    (``checkpoint_metric``/``checkpoint_mode``: which checkpoints Train keeps, ``make_trainer``).

    Train's reports reach Tune (and ASHA) through ``TuneReportCallback``; TensorBoard events and
    Train's checkpoints go to the trial's directory on Tune's storage.

    The Train run is named after the trial, so a trial that starts again (``--resume`` after SIGINT or a
    killed driver, an errored trial retried) is Train's restore of the same run: its checkpoint manager
    reloads the run's snapshot and every worker continues from the latest checkpoint
    (``ray.train.get_checkpoint``), on as many workers as the trial has. Tune itself holds no checkpoint
    of such a trial (``TuneReportCallback`` passes Train's checkpoint path in the metrics, not the
    checkpoint), so ``ray.tune.get_checkpoint()`` has nothing to give here.
    """
    import ray.tune
    from ray.train._internal.session import get_session
    from ray.tune.integration.ray_train import TuneReportCallback

    ctx = ray.tune.get_context()
    storage = get_session().storage  # the trial's directory on Tune's storage (results/...), not the staging dir
    trial_dir = storage.trial_fs_path
    if isinstance(storage.storage_filesystem, pyarrow.fs.LocalFileSystem):
        os.makedirs(trial_dir, exist_ok=True)
    else:  # remote storage (s3://, gs://): TensorBoard writes locally, Tune syncs it up
        trial_dir = ctx.get_trial_dir()
    trainer = make_trainer(
        model, {**fixed, **config, "tb_dir": trial_dir}, resources,
        name=f"train-{ctx.get_trial_id()}",
        storage_path=f"{storage.trial_fs_path}/train", storage_filesystem=storage.storage_filesystem,
        callbacks=[TuneReportCallback()], checkpoint_metric=checkpoint_metric, checkpoint_mode=checkpoint_mode,
        # Tune's TensorBoard logger writes this trial's HParams record (every trial that ends, ASHA-stopped
        # ones included) into the same directory; a second record there would be ignored or clash with it
        hparams=False,
    )
    trainer.fit()


LINEAGE_FILE = "lineage.jsonl"
"""In a trial directory: one JSON line per start from a checkpoint (``tune_checkpointed_trial``)."""


def tune_checkpointed_trial(config: dict[str, Any], *, model: str, fixed: dict[str, Any], resources: Resources,
                            searched: list[str] | None = None) -> None:
    """Tune function trainable that trains in the trial's own process (one worker, no TorchTrainer, its
    controller, Ray Data or their actors) and hands Tune a checkpoint with every report: every one-worker
    trial (``Resources.trains_in_trial``) and population-based training, which needs Tune to hold them.

    Where it starts (``start_checkpoint``): from a checkpoint of another trial that Tune hands it
    (``ray.tune.get_checkpoint()``: PBT's clone of a better trial, with mutated settings; the optimizers
    then take this config's learning rates, ``trainables.checkpoint.load_checkpoint``); else from the
    newest intact ``checkpoint_*`` in its own directory (``--resume`` after SIGINT or a killed driver,
    a failure Tune retries): Tune saves its experiment state every ~10 s, so after a SIGKILL it may name
    an older checkpoint than the trial wrote; else from the start. Each start from a checkpoint appends a
    line to ``<trial dir>/lineage.jsonl``: the checkpoint's path (its trial directory names the donor),
    the epoch it holds and this trial's ``searched`` settings from then on. Reports carry ``node_id``,
    as a Train worker's do, and Tune's ``checkpoint_dir_name``.
    """
    import json

    import ray
    import ray.tune
    from ray.train._internal.session import get_session

    from trainables.checkpoint import STATE_FILE, read_state

    spec = get_trainable(model)
    storage = get_session().storage
    local = isinstance(storage.storage_filesystem, pyarrow.fs.LocalFileSystem)
    trial_dir = storage.trial_fs_path if local else ray.tune.get_context().get_trial_dir()
    os.makedirs(trial_dir, exist_ok=True)
    cfg = from_dict(spec.config_cls, {**fixed, **config, "tb_dir": trial_dir}, where="trial config")
    use_gpu = as_resources(resources).use_gpu and torch.cuda.is_available()
    node_id = ray.get_runtime_context().get_node_id()

    def report(metrics: dict, checkpoint_dir: str | None) -> None:
        ckpt = ray.tune.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir else None
        # the last epoch's report ends the trial there: a scheduler (PBT) must not clone into a finished
        # trial, which would then end on its donor's result instead of its own
        done = {"done": True} if metrics.get("epoch", 0) >= cfg.epochs else {}
        ray.tune.report({**metrics, "node_id": node_id, **done}, checkpoint=ckpt)

    run = functools.partial(fit, spec, cfg, report, device="cuda" if use_gpu else "cpu", hparams=False)
    checkpoint = start_checkpoint(ray.tune.get_checkpoint(), storage)
    if checkpoint is None:
        run()
        return
    with intact_checkpoint(checkpoint) as resume_dir:
        saved = read_state(os.path.join(resume_dir, STATE_FILE))
        record = {"checkpoint": checkpoint.path, "epoch": saved["progress"]["epoch"],
                  "step": saved["progress"]["global_step"],
                  "config": {k: config[k] for k in (searched or []) if k in config}}
        with open(os.path.join(trial_dir, LINEAGE_FILE), "a") as f:
            f.write(json.dumps(record) + "\n")
        run(resume_dir=resume_dir)


def start_checkpoint(given, storage):
    """The checkpoint an in-process trial starts from (``tune_checkpointed_trial``): ``given`` (Tune's)
    when it lies in another trial's directory (PBT's clone), else the newest ``checkpoint_*`` of the
    trial's own directory (``intact_checkpoint`` then falls back to an older one if it is damaged), else
    None. ``storage``: the trial's Train ``StorageContext``; its checkpoint index moves past every
    ``checkpoint_*`` on disk, so the trial's next checkpoints never overwrite one."""
    import ray.tune

    own = storage.trial_fs_path.rstrip("/")
    if given is not None and given.path.rstrip("/").rsplit("/", 1)[0] != own:
        return given
    found = storage.storage_filesystem.get_file_info(pyarrow.fs.FileSelector(own, allow_not_found=True))
    indices = {}
    for info in found:
        head, _, number = info.base_name.partition("_")
        if info.type == pyarrow.fs.FileType.Directory and head == "checkpoint" and number.isdigit():
            indices[int(number)] = info.path
    if not indices:
        return given
    storage.current_checkpoint_index = max(storage.current_checkpoint_index, max(indices))
    return ray.tune.Checkpoint(indices[max(indices)], filesystem=storage.storage_filesystem)

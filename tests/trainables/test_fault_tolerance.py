"""A worker process killed mid-run: Ray Train restarts it from its last checkpoint (not from scratch),
and the run ends with the weights an uninterrupted run ends with."""
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import torch

from trainables.config import from_dict
from trainables.loop import fit
from trainables.ray_train import make_trainer
from trainables.syncgan import SyncGANConfig

KILL_AFTER_EPOCH = 3


def _checkpoint_epochs(runs: Path) -> set[int]:
    """Epochs of the complete epoch-end checkpoints on Train's storage."""
    epochs = set()
    for state in runs.glob("*/checkpoint_*/state.pt"):
        try:
            progress = torch.load(state, weights_only=True)["progress"]
        except Exception:  # still being copied there
            continue
        if progress["step_in_epoch"] == 0:
            epochs.add(progress["epoch"])
    return epochs


def _registered_epoch(runs: Path) -> float:
    """Epoch reported with the newest checkpoint Train has registered (its checkpoint manager's snapshot),
    0 if none yet.

    A checkpoint lands on storage before the controller registers it; on 2 busy cores the controller can
    lag several epochs behind the worker, and a restart resumes from what was registered."""
    snapshot = next(runs.glob("*/checkpoint_manager_snapshot.json"), None)
    try:
        latest = json.loads(snapshot.read_text())["latest_checkpoint_result"]
        return latest["metrics"]["epoch"] if latest else 0
    except (AttributeError, OSError, ValueError):  # not written yet, or being written
        return 0


def _kill_after_checkpoint(runs: Path, progress: Path, killed: list, deadline: float) -> None:
    """SIGKILL the worker once Train has registered epoch KILL_AFTER_EPOCH's checkpoint; record that epoch
    and the checkpoints on disk."""
    while time.time() < deadline:
        registered = _registered_epoch(runs)
        if registered >= KILL_AFTER_EPOCH:
            pid = json.loads(progress.read_text().splitlines()[0])["pid"]
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)  # nothing of the dead worker lands after this
            killed.append((pid, registered, _checkpoint_epochs(runs)))
            return
        time.sleep(0.05)


def _final_weights(result) -> dict[str, torch.Tensor]:
    with result.checkpoint.as_directory() as d:
        return torch.load(f"{d}/state.pt", weights_only=True)["model"]


@pytest.mark.slow
def test_killed_worker_resumes_from_its_checkpoint_and_ends_where_an_uninterrupted_run_ends(
        ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    epochs = 8
    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=16, z_dim=16,
                  batch_size=16, epochs=epochs, eval_samples=200, transfer_samples=0)
    workers = {"num_workers": 1, "cpus_per_worker": 0.9, "max_failures": 1, "startup_retries": 2, "keep_checkpoints": 20}

    tb, runs = tmp_path / "tb", tmp_path / "runs"
    trainer = make_trainer("syncgan", {**config, "tb_dir": str(tb)}, workers, name=f"fault-{uuid.uuid4().hex[:6]}",
                           storage_path=str(runs))
    killed: list = []
    killer = threading.Thread(target=_kill_after_checkpoint, args=(runs, tb / "progress.jsonl", killed, time.time() + 300))
    killer.start()
    result = trainer.fit()
    killer.join()

    assert killed, "the worker was never killed"
    pid, registered, on_disk = killed[0]
    assert result.error is None and result.metrics["epoch"] == epochs
    progress = [json.loads(line) for line in (tb / "progress.jsonl").read_text().splitlines()]
    assert {p["pid"] for p in progress[:KILL_AFTER_EPOCH]} == {pid}
    restarted = [p["epoch"] for p in progress if p["pid"] != pid]
    assert restarted, "no epoch ran in a new process"
    # the new process starts right after a checkpoint on disk, at least the one registered when the worker
    # died (one reported just before the kill may still be registered after it), not at epoch 1
    assert restarted[0] - 1 in on_disk and restarted[0] - 1 >= registered, (restarted, registered, on_disk)
    assert restarted == list(range(restarted[0], epochs + 1))

    # the same config run through without Ray (the worker's loop is this ``fit``, on the same rows)
    last: dict = {}
    fit("syncgan", from_dict(SyncGANConfig, config), lambda _m, ckpt: last.update(
        torch.load(f"{ckpt}/state.pt", weights_only=True)["model"]), hparams=False)
    resumed, whole = _final_weights(result), last
    assert resumed.keys() == whole.keys()
    different = [k for k in whole if not torch.equal(resumed[k], whole[k])]
    assert not different, f"weights differ from the uninterrupted run's: {different[:5]}"

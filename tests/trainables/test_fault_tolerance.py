"""A worker process killed mid-run: Ray Train restarts it from the last checkpoint and finishes."""
import json
import os
import signal
import threading
import time
import uuid

import pytest

from trainables.ray_train import make_trainer


def _kill_after_first_epoch(progress, killed: list, deadline: float) -> None:
    while time.time() < deadline:
        if progress.exists():
            lines = progress.read_text().splitlines()
            if lines:
                pid = json.loads(lines[0])["pid"]
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, len(lines)))
                return
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_worker_resumes_from_last_checkpoint(ray_local, tiny_corpus, tiny_classifiers, tmp_path):
    tb = tmp_path / "tb"
    epochs = 6
    config = dict(corpus_dir=str(tiny_corpus), classifier_path=str(tiny_classifiers), width=16, z_dim=16,
                  batch_size=16, epochs=epochs, eval_samples=200, tb_dir=str(tb))
    trainer = make_trainer("syncgan", config, {"num_workers": 1, "cpus_per_worker": 0.9, "max_failures": 1, "startup_retries": 2},
                           name=f"fault-{uuid.uuid4().hex[:6]}", storage_path=str(tmp_path / "runs"))
    killed: list = []
    killer = threading.Thread(target=_kill_after_first_epoch, args=(tb / "progress.jsonl", killed, time.time() + 300))
    killer.start()
    result = trainer.fit()
    killer.join()

    assert killed, "the worker was never killed"
    assert result.error is None and result.metrics["epoch"] == epochs
    progress = [json.loads(line) for line in (tb / "progress.jsonl").read_text().splitlines()]
    done = [p["epoch"] for p in progress]
    assert sorted(set(done)) == list(range(1, epochs + 1))
    assert len(done) - epochs <= 1, f"more than one epoch redone: {done}"
    assert len({p["pid"] for p in progress}) == 2  # the restarted worker is a new process
    assert done.index(epochs) > 0 and progress[-1]["pid"] != killed[0][0]

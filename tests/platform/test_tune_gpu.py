"""On a CUDA GPU (marked ``gpu``; skipped without one, run by ``benchmarks/gpu_check.sh``): a Tune + Optuna
study whose two trials hold half a GPU each, so that both train at once on one card.

The corpus is ``mnist_rotated`` built from scikit-learn's digits: it needs no audio library, which the
lent GPU machine lacks."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
import yaml
from tiny_study import TINY_STUDY

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

GPU_STUDY = {
    **copy.deepcopy(TINY_STUDY),
    "corpus": {"name": "mnist_rotated", "overrides": {"mnist_dir": "sklearn-digits", "train_per_class": 20,
                                                      "test_per_class": 5, "num_shards": 2}},
    "num_samples": 2,
    "scheduler": {"type": "fifo"},  # both trials run to the end
    "preset": "gpu",
    "presets": {"gpu": {"trial_cpus": 0.01, "num_workers": 1, "cpus_per_worker": 0.9, "use_gpu": True,
                        "gpus_per_worker": 0.5, "max_concurrent_trials": 2, "startup_retries": 2}},
}
GPU_STUDY["config"] = {**GPU_STUDY["config"], "epochs": 3}


def test_two_trials_share_one_gpu(ray_local, tmp_path):
    from platform.study import load_study
    from platform.tune import run

    path = tmp_path / "gpu_study.yaml"
    path.write_text(yaml.safe_dump(GPU_STUDY))
    study = load_study(str(path))
    assert study.resources.use_gpu and study.resources.gpus_per_worker == 0.5
    summary = run(study, tmp_path / "results", tmp_path / "data", name="gpu")
    assert summary["trials"] == 2 and summary["trials_failed"] == 0, summary["errors"]

    experiment = tmp_path / "results" / "gpu_study" / "gpu"
    spans = []
    for d in (d for d in experiment.iterdir() if (d / "result.json").exists()):
        rows = [json.loads(line) for line in (d / "result.json").read_text().splitlines() if line.strip()]
        assert rows[-1]["epoch"] == 3
        spans.append((rows[0]["timestamp"] - rows[0]["time_total_s"], rows[-1]["timestamp"]))
    assert len(spans) == 2
    assert max(start for start, _ in spans) < min(end for _, end in spans), f"the trials did not overlap: {spans}"
    state = torch.load(Path(summary["best"]["checkpoint"]) / "state.pt", weights_only=True)
    assert all(v.is_cuda for v in state["model"].values())  # trained on the GPU

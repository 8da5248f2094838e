"""`python -m platform.train`: one Ray Train run (2 gloo workers) from a study file, no search."""
import json

import pytest

from platform.train import main
from tensorboard_records import hparams_records


@pytest.mark.slow
def test_single_run_with_two_workers(ray_local, tiny_study_yaml, shared_data_root, tmp_path, capsys):
    rc = main(["--config", str(tiny_study_yaml), "--workers", "2", "--name", "one",
               "--results", str(tmp_path / "results"), "--data", str(shared_data_root),
               "--set", "config.lr_g=3e-4", "--set", "config.steps_per_epoch=2",
               "--set", "presets.local-cpu.cpus_per_worker=0.45"])
    assert rc == 0
    run_dir = tmp_path / "results" / "tiny_study" / "one"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["metrics"]["epoch"] == 2 and summary["metrics"]["steps"] == 2
    assert summary["checkpoint"] and (run_dir / "run_info.json").exists()
    info = json.loads((run_dir / "run_info.json").read_text())
    assert info["config"]["lr_g"] == 3e-4 and info["resources"]["num_workers"] == 2
    [hp] = hparams_records(run_dir)  # rank 0's alone: the resolved config, the eval/* scalars, finished
    assert hp["start"].hparams["lr_g"].number_value == 3e-4 and "eval/sync_rate" in hp["metrics"] and hp["end"]
    assert [json.loads(l)["epoch"] for l in (run_dir / "progress.jsonl").read_text().splitlines()] == [1, 2]
    out = capsys.readouterr().out
    # this process prints each epoch's line once, as platform.tune does (the workers' own lines carry Ray's prefix)
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("epoch ")] == ["epoch 1/2", "epoch 2/2"]
    assert "sync_rate=" in out and "TrainingReport(" not in out
    assert "checkpoint:" in out
    assert summary["meaning"].startswith(f"The judges put both halves of {summary['metrics']['sync_rate']:.0%}")
    assert f"what it means:     {summary['meaning']}" in out


def test_bad_worker_count_is_rejected(tiny_study_yaml, capsys):
    assert main(["--study", str(tiny_study_yaml), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_more_workers_than_the_machine_holds_is_a_clear_error(ray_local, tiny_study_yaml, capsys):
    assert main(["--study", str(tiny_study_yaml), "--workers", "4"]) == 2
    err = capsys.readouterr().err
    assert "4 workers x 1.5 CPU" in err and "2 CPU" in err

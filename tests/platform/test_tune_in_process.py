"""A one-worker trial trains in the Tune trial's own process (the default) and reports, logs and keeps its
checkpoints as a TorchTrainer trial does (``presets.<preset>.in_process: false``, the way multi-worker
trials always run). Resuming both ways after SIGINT and SIGKILL: test_tune_resume.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from platform.study import load_study
from platform.tune import run

# Tune's and Train's bookkeeping, which differ between any two runs or between the two ways by design
BOOKKEEPING = {"timestamp", "time_this_iter_s", "time_total_s", "time_since_restore", "pid", "hostname", "node_ip",
               "date", "trial_id", "experiment_tag", "epoch_seconds", "checkpoint_path", "checkpoint_dir_name",
               "iterations_since_restore", "training_iteration", "done", "config", "should_checkpoint",
               "transfer_seconds_a_to_b", "transfer_seconds_b_to_a", "grad_sync_seconds", "grad_sync_share"}


def _rows(trial_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (trial_dir / "result.json").read_text().splitlines() if x.strip()]


def _trials(experiment: Path) -> dict[str, Path]:
    """Trial directories by their searched config."""
    return {(d / "params.json").read_text(): d for d in experiment.iterdir() if (d / "params.json").is_file()}


def _tags(trial_dir: Path) -> set[str]:
    """The trial's TensorBoard tags, but Tune's bookkeeping (``ray/tune/should_checkpoint``...)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(trial_dir)).Reload().Tags()
    return {t for kind in ("scalars", "images", "audio") for t in tags[kind]
            if t.removeprefix("ray/tune/") not in BOOKKEEPING}


@pytest.mark.slow
def test_an_in_process_trial_reports_logs_and_keeps_checkpoints_as_a_torchtrainer_trial(
        ray_local, tiny_study_yaml, shared_data_root, tmp_path):
    from platform.report import report

    epochs = 3
    summaries, experiments = {}, {}
    for way, in_process in (("in_process", "true"), ("torch_trainer", "false")):
        study = load_study(str(tiny_study_yaml), ["num_samples=2", "scheduler.type=fifo", f"config.epochs={epochs}",
                                                  f"presets.local-cpu.in_process={in_process}",
                                                  "presets.local-cpu.keep_checkpoints=1"])
        summaries[way] = run(study, tmp_path / way, shared_data_root, name="e")
        experiments[way] = tmp_path / way / "tiny_study" / "e"
        assert summaries[way]["trials"] == 2 and summaries[way]["trials_failed"] == 0, summaries[way]["errors"]
    own, train = _trials(experiments["in_process"]), _trials(experiments["torch_trainer"])
    assert set(own) == set(train)  # the same seeded draws

    for params, d in own.items():
        rows, theirs = _rows(d), _rows(train[params])
        assert [r["epoch"] for r in rows] == [r["epoch"] for r in theirs] == list(range(1, epochs + 1))
        # the same metrics with the same values: the same fit, data order and seeds in another process
        assert [{k: v for k, v in r.items() if k not in BOOKKEEPING} for r in rows] == \
               [{k: v for k, v in r.items() if k not in BOOKKEEPING} for r in theirs]
        assert all(r["node_id"] == ray_local.get_runtime_context().get_node_id() for r in rows)
        # the same TensorBoard records: the loop's eval/train scalars, images and audio, Tune's ray/tune/*
        assert {"eval/sync_rate", "ray/tune/sync_rate", "samples/pairs"} <= _tags(d) == _tags(train[params])
        # Tune keeps the best checkpoint by the objective (keep_checkpoints 1) and the latest, in the trial's
        # own directory; no Train run there
        best = max(rows, key=lambda r: (r["sync_rate"], r["training_iteration"]))["checkpoint_dir_name"]
        assert {p.name for p in d.glob("checkpoint_*")} == {best, rows[-1]["checkpoint_dir_name"]}
        assert not (d / "train").exists() and (train[params] / "train").is_dir()
        assert not any(train[params].glob("checkpoint_*"))

    for way, summary in summaries.items():
        assert (Path(summary["best"]["checkpoint"]) / "state.pt").is_file()
        report("tiny_study", tmp_path / way, plots=False)  # best/ from the trials' kept checkpoints
        best_dir = tmp_path / way / "tiny_study" / "best"
        source = Path(json.loads((best_dir / "config.json").read_text())["checkpoint_source"])
        assert (best_dir / "checkpoint" / "state.pt").read_bytes() == (source / "state.pt").read_bytes()
        # the best trial's kept checkpoint with the best sync_rate: its own (in_process) or Train's
        trial_dir = source.parent if way == "in_process" else source.parents[2]
        assert trial_dir.parent == experiments[way]
        paths = [(r, Path(r.get("checkpoint_path") or trial_dir / r["checkpoint_dir_name"])) for r in _rows(trial_dir)]
        kept = [(r, p) for r, p in paths if (p / "state.pt").is_file()]
        assert source == max(kept, key=lambda rp: (rp[0]["sync_rate"], rp[0]["training_iteration"]))[1]

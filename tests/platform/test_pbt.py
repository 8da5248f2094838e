"""Population-based training: the study schema, the scheduler Tune gets, and a trial that PBT perturbs
resuming from another trial's checkpoint with its new learning rates in its optimizers."""
from __future__ import annotations

import copy
import json
from collections import Counter

import optuna
import pytest
import yaml
from ray.tune.schedulers import PopulationBasedTraining
from tiny_study import TINY_STUDY

from platform.formatting import lineage_lines
from platform.pbt import LINEAGE_ATTR, WithinBounds, build_scheduler, lineage, prune_checkpoints
from platform.report import report
from platform.study import StudyError, load_study
from platform.tune import run


def test_shipped_pbt_study_resolves_to_ray_pbt_on_its_search_space():
    study = load_study("syncgan_pbt")
    pbt = build_scheduler(study)
    assert isinstance(pbt, PopulationBasedTraining)
    assert (pbt._metric, pbt._mode, pbt._time_attr) == ("sync_kappa", "max", "epoch")  # noqa: SLF001
    assert (pbt._perturbation_interval, pbt._quantile_fraction, pbt._resample_probability) == (3, 0.25, 0.25)  # noqa: SLF001
    assert set(pbt._hyperparam_mutations) == {p.name for p in study.search}  # noqa: SLF001
    assert study.searcher.type == "random" and study.resolved()["scheduler"]["synch"] is False


def test_within_bounds_puts_a_perturbed_value_back_on_its_searched_range():
    study = load_study("syncgan_pbt", ["search.latent_classes={int: [2, 10]}"])
    clip = WithinBounds(study.search)
    out = clip({"lr_g": 2.4e-3, "pair_ratio": 0.2, "lr_d": 2e-4, "latent_classes": 11.6})
    assert out == {"lr_g": 2e-3, "pair_ratio": 0.3, "lr_d": 2e-4, "latent_classes": 10}


@pytest.mark.parametrize("overrides, message", [
    (["searcher.type=optuna_tpe"], r"searcher\.type: 'optuna_tpe' cannot pick PBT's trials"),
    (["scheduler.perturbation_interval=12"], r"scheduler\.perturbation_interval: 12 epochs must be above 0 and below the run's 12"),
    (["scheduler.perturbation_interval=0"], r"scheduler\.perturbation_interval: 0 epochs"),
    (["scheduler.quantile_fraction=0.6"], r"scheduler\.quantile_fraction: 0\.6 must be in \(0, 0\.5\]"),
    (["scheduler.resample_probability=1.5"], r"scheduler\.resample_probability: 1\.5 must be in \[0, 1\]"),
    (["scheduler.synch=sometimes"], r"^scheduler: synch must be true or false, got 'sometimes'$"),
    (["num_samples=1"], r"num_samples: PBT needs a population of at least 2"),
    (["search={}"], r"the search space is what PBT mutates"),
    (["search.sync_fake_weight={choice: [0.0, 1.0]}", "search.lr_d={loguniform: [1e-4, 4e-4], when: {sync_fake_weight: 1.0}}"],
     r"search\.lr_d\.when: PBT mutates every searched setting"),
    (["presets.local-cpu.num_workers=2"], r"preset 'local-cpu': num_workers 2 .* a PBT trial trains in its own process"),
    (["objective=[{metric: sync_kappa, mode: max}, {metric: fid_image, mode: min}]"],
     r"scheduler: PBT ranks trials on one metric, and this study has 2 objectives"),
    (["scheduler.perturbation_intervall=2"], r"scheduler: unknown key\(s\) \['perturbation_intervall'\]"),
])
def test_bad_pbt_studies_are_rejected_naming_the_key(overrides, message):
    with pytest.raises(StudyError, match=message):
        load_study("syncgan_pbt", overrides)


def test_lineage_names_the_donor_by_the_directory_of_its_checkpoint():
    trials = [("a", "/r/exp/t_a_0", []),
              ("b", "/r/exp/t_b_1", [{"checkpoint": "/r/exp/t_a_0/checkpoint_000002", "epoch": 3, "config": {"lr_g": 1e-3}},
                                     {"checkpoint": "/r/exp/t_b_1/checkpoint_000004", "epoch": 5, "config": {"lr_g": 1e-3}}])]
    entries = lineage(trials)
    assert [(e["trial"], e["epoch"], e["from"], e["cloned"]) for e in entries] == [("b", 3, "a", True), ("b", 5, "b", False)]
    assert lineage_lines(entries) == ["epoch 3: trial b cloned trial a -> lr_g=0.001", "epoch 5: trial b resumed -> lr_g=0.001"]


def test_a_finished_trial_keeps_its_newest_checkpoints_and_everything_else(tmp_path):
    import pyarrow.fs

    trial = tmp_path / "trial"
    for i in (0, 1, 2, 10, 11):  # checkpoint_000010 sorts after _000002: Tune pads the index
        (trial / f"checkpoint_{i:06d}").mkdir(parents=True)
        (trial / f"checkpoint_{i:06d}" / "state.pt").write_bytes(b"x")
    (trial / "result.json").write_text("{}")
    (trial / "checkpoint_notes.txt").write_text("a file, not a checkpoint")
    fs = pyarrow.fs.LocalFileSystem()
    deleted = prune_checkpoints(fs, str(trial), keep=2)
    assert sorted(p.rsplit("/", 1)[1] for p in deleted) == ["checkpoint_000000", "checkpoint_000001", "checkpoint_000002"]
    assert sorted(p.name for p in trial.iterdir()) == ["checkpoint_000010", "checkpoint_000011", "checkpoint_notes.txt",
                                                      "result.json"]
    assert prune_checkpoints(fs, str(trial), keep=2) == []
    assert prune_checkpoints(fs, str(tmp_path / "gone"), keep=2) == []


def _rows(trial_dir) -> list[dict]:
    return [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]


def _trials_past_first_checkpoint(experiment) -> int:
    """How many trials hold two checkpoints, so that the driver has taken in at least their first report
    (a trial writes its checkpoint before the driver records that report). Counting checkpoints over all
    trials once let a SIGINT land when one trial held two and the other none: nothing of it to resume."""
    per_trial = Counter(p.parents[1] for p in experiment.glob("*/checkpoint_*/state.pt"))
    return sum(n >= 2 for n in per_trial.values())


@pytest.mark.slow
def test_a_perturbed_trial_resumes_from_the_donors_checkpoint_with_its_new_learning_rates(ray_local, shared_data_root, tmp_path):
    """Two trials in step (synch), perturbed every epoch, no resampling: after epoch 1 the worse one
    clones the better one's checkpoint with its discriminators' learning rate x 0.8 or x 1.2. Its next
    report continues the donor's epochs and steps, and its optimizer trains with the new rate (restoring
    the donor's optimizer state alone would bring back the donor's rate: the test fails then)."""
    raw = copy.deepcopy(TINY_STUDY)
    raw["config"].update(epochs=3, transfer_samples=0)
    raw.update(search={"lr_d": {"loguniform": [1e-6, 2e-3]}}, searcher={"type": "random", "seed": 3}, num_samples=2,
               objective={"metric": "loss_d_image", "mode": "min"},
               scheduler={"type": "pbt", "perturbation_interval": 1, "quantile_fraction": 0.5,
                          "resample_probability": 0.0, "synch": True},
               presets={"local-cpu": {"cpus_per_worker": 0.45, "max_concurrent_trials": 2}})
    path = tmp_path / "tiny_pbt.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    results = tmp_path / "results"
    summary = run(load_study(str(path)), results, shared_data_root, name="pbt")

    assert summary["trial_states"] == {"TERMINATED": 2}, summary
    clones = [e for e in summary["lineage"] if e["cloned"]]
    assert clones, f"no trial was perturbed: {summary['lineage']}"
    clone = clones[0]
    experiment = results / "tiny_pbt" / "pbt"
    dirs = {_rows(d)[-1]["trial_id"]: d for d in (p.parent for p in experiment.glob("*/result.json"))}
    donor_rows, rows = _rows(dirs[clone["from"]]), _rows(dirs[clone["trial"]])
    donor_at = next(r for r in donor_rows if r["epoch"] == clone["epoch"])
    donor_lr = donor_at["lr_opt_d"]
    new_lr = clone["config"]["lr_d"]
    assert new_lr == pytest.approx(donor_lr * 0.8) or new_lr == pytest.approx(min(donor_lr * 1.2, 2e-3))
    after = [r for r in rows if r["epoch"] > clone["epoch"]]
    assert after and after[0]["epoch"] == clone["epoch"] + 1
    assert after[0]["step"] == donor_at["step"] + raw["config"]["steps_per_epoch"]  # the donor's steps, continued
    assert after[0]["lr_opt_d"] == pytest.approx(new_lr) and after[0]["lr_opt_d"] != pytest.approx(donor_lr)
    assert rows[-1]["epoch"] == 3
    # Tune kept every checkpoint while PBT ran; the finished study keeps the newest keep_checkpoints (2)
    for d in dirs.values():
        kept = sorted(p.name for p in d.glob("checkpoint_*"))
        assert len(kept) == 2 and (d / kept[-1] / "state.pt").is_file(), kept

    trials = optuna.load_study(study_name="tiny_pbt",
                               storage=f"sqlite:///{results / 'tiny_pbt' / 'optuna.db'}").get_trials(deepcopy=False)
    assert len(trials) == 2 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    recorded = next(t for t in trials if t.user_attrs["tune_trial_id"] == clone["trial"])
    assert recorded.user_attrs[LINEAGE_ATTR][0]["epoch"] == clone["epoch"]
    assert recorded.value == pytest.approx(rows[-1]["loss_d_image"])

    index = report("tiny_pbt", results, plots=False)  # platform.report: lineage by Optuna number, a checkpoint
    numbers = {t.user_attrs["tune_trial_id"]: str(t.number) for t in trials}
    assert [(e["trial"], e["from"], e["epoch"]) for e in index["lineage"] if e["cloned"]][0] == \
        (numbers[clone["trial"]], numbers[clone["from"]], clone["epoch"])
    assert (results / "tiny_pbt" / "best" / "checkpoint" / "state.pt").is_file()
    assert (results / "tiny_pbt" / "best" / "lineage.csv").is_file()


@pytest.mark.slow
def test_sigint_then_resume_continues_pbt_trials_from_their_own_last_checkpoints(shared_data_root, tmp_path):
    """A PBT study interrupted (SIGINT) once both trials hold a checkpoint: --resume restarts each
    unfinished trial from its own last checkpoint (a "resumed" lineage entry at the epoch it had reached,
    not a fresh start), the study ends with both trials at the last epoch and COMPLETE in Optuna."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    raw = copy.deepcopy(TINY_STUDY)
    raw["config"].update(epochs=8, transfer_samples=0)
    raw.update(search={"lr_d": {"loguniform": [1e-5, 2e-3]}}, searcher={"type": "random", "seed": 0}, num_samples=2,
               objective={"metric": "loss_d_image", "mode": "min"},
               scheduler={"type": "pbt", "perturbation_interval": 4, "quantile_fraction": 0.5},
               presets={"local-cpu": {"cpus_per_worker": 0.45, "max_concurrent_trials": 2}})
    path = tmp_path / "tiny_pbt_resume.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    results = tmp_path / "results"
    base = [sys.executable, "-m", "platform.tune", "--study", str(path), "--results", str(results),
            "--data", str(shared_data_root), "--name", "r"]
    experiment = results / "tiny_pbt_resume" / "r"
    proc = subprocess.Popen(base, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None and _trials_past_first_checkpoint(experiment) < 2:
        time.sleep(0.5)
    assert proc.poll() is None, f"the study ended before it could be interrupted: {proc.stdout.read()[-3000:]}"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 130, out[-3000:]
    reached = {d.name: _rows(d)[-1]["epoch"] for d in (p.parent for p in experiment.glob("*/result.json"))}
    assert len(reached) == 2 and min(reached.values()) < 8, reached

    resumed = subprocess.run([*base, "--resume"], cwd=root, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    summary = json.loads((experiment / "summary.json").read_text())
    assert summary["resumed"] and not summary["interrupted"] and summary["trial_states"] == {"TERMINATED": 2}
    restarts = [e for e in summary["lineage"] if not e["cloned"]]
    assert restarts, summary["lineage"]
    for e in restarts:  # from its own checkpoint at an epoch it had reached, not from scratch
        assert 1 <= e["epoch"] <= 8
    for d in (p.parent for p in experiment.glob("*/result.json")):
        assert _rows(d)[-1]["epoch"] == 8
    trials = optuna.load_study(study_name="tiny_pbt_resume",
                               storage=f"sqlite:///{results / 'tiny_pbt_resume' / 'optuna.db'}").get_trials(deepcopy=False)
    assert sorted(t.state.name for t in trials) == ["COMPLETE", "COMPLETE"]

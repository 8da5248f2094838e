"""platform.report on a real Optuna study (SQLite) and an experiment directory laid out as Tune lays
it out, whose trial checkpoints come from really running ``trainables.loop.fit`` (no Ray Tune here)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml

STUDY = "tiny_report"
EXPERIMENT = f"{STUDY}-20260101-000000"
PARAMS = {
    "a": {"lr_g": 4e-4, "pair_ratio": 0.5},
    "b": {"lr_g": 2e-4, "pair_ratio": 0.3},
    "c": {"lr_g": 6e-4, "pair_ratio": 0.7},
    "d": {"lr_g": 8e-4, "pair_ratio": 0.4},
    "e": {"lr_g": 1e-4, "pair_ratio": 0.6},
}
NAN_REASON = "FloatingPointError: SyncGAN diverged: loss_s = nan"
TUNE_ERROR = "ray.exceptions.ActorDiedError: the worker died unexpectedly"


def fit_trial(trial_dir: Path, params: dict, corpus: Path, classifiers: Path, trial_id: str) -> list[dict]:
    """``trainables.loop.fit`` for 2 epochs of 2 steps, its checkpoints and reports kept as Tune and
    Train keep them: ``params.json``, ``result.json`` lines with ``checkpoint_path``, ``train/*/checkpoint_*``."""
    from trainables.config import from_dict
    from trainables.loop import fit
    from trainables.syncgan.config import SyncGANConfig

    trial_dir.mkdir(parents=True)
    (trial_dir / "params.json").write_text(json.dumps(params))
    cfg = from_dict(SyncGANConfig, {
        "corpus_dir": str(corpus), "classifier_path": str(classifiers), "epochs": 2, "steps_per_epoch": 2,
        "batch_size": 16, "width": 8, "z_dim": 16, "eval_samples": 32, "transfer_samples": 0, "image_grid_size": 4,
        **params})
    rows: list[dict] = []

    def report(metrics: dict, checkpoint_dir: str | None) -> None:
        dst = trial_dir / "train" / f"train-{trial_id}" / f"checkpoint_{len(rows):06d}"
        shutil.copytree(checkpoint_dir, dst)
        row = {**metrics, "checkpoint_path": str(dst), "trial_id": trial_id, "training_iteration": len(rows) + 1,
               "config": params}
        rows.append(row)
        with open(trial_dir / "result.json", "a") as f:
            f.write(json.dumps(row) + "\n")

    fit("syncgan", cfg, report)
    return rows


def make_study(url: str, name: str = STUDY):
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {"lr_g": FloatDistribution(1e-4, 1e-3, log=True), "pair_ratio": FloatDistribution(0.2, 0.8)}
    study = optuna.create_study(study_name=name, storage=optuna.storages.RDBStorage(url), direction="maximize")
    study.add_trial(create_trial(params=PARAMS["a"], distributions=dists, value=0.9))
    study.add_trial(create_trial(params=PARAMS["b"], distributions=dists, value=0.5))
    study.add_trial(create_trial(params=PARAMS["c"], distributions=dists, state=TrialState.PRUNED,
                                 intermediate_values={1: 0.2}))
    study.add_trial(create_trial(params=PARAMS["d"], distributions=dists, state=TrialState.FAIL,
                                 user_attrs={"fail_reason": NAN_REASON}))
    study.add_trial(create_trial(params=PARAMS["e"], distributions=dists, state=TrialState.FAIL))
    return study


@pytest.fixture(scope="module")
def results(tmp_path_factory, tiny_corpus_dir, tiny_classifiers_path) -> dict:
    root = tmp_path_factory.mktemp("report-results")
    study_dir = root / STUDY
    exp = study_dir / EXPERIMENT
    exp.mkdir(parents=True)
    fixed = {"epochs": 2, "width": 8, "corpus_dir": str(tiny_corpus_dir)}
    (exp / "run_info.json").write_text(json.dumps({
        "study": {"trainable": "syncgan", "objective": {"metric": "sync_rate", "mode": "max"}}, "fixed_config": fixed}))
    rows = fit_trial(exp / "tune_a_1_lr_g=0.0004", PARAMS["a"], tiny_corpus_dir, tiny_classifiers_path, "aaaa0001")
    failed = exp / "tune_e_5_lr_g=0.0001"  # a trial whose worker died: Tune wrote error.txt, Optuna no reason
    failed.mkdir()
    (failed / "params.json").write_text(json.dumps(PARAMS["e"]))
    (failed / "error.txt").write_text(f"Failure # 1 (occurred at 2026-01-01)\nTraceback (most recent call last):\n  ...\n{TUNE_ERROR}\n")
    make_study(f"sqlite:///{study_dir / 'optuna.db'}")
    return {"root": root, "study_dir": study_dir, "rows": rows, "fixed": fixed}


def run_report(capsys, *args: str) -> tuple[int, str, str]:
    from platform.report import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def table_rows(stdout: str) -> dict[str, str]:
    """Table lines by trial number (a '*' marks the best)."""
    out = {}
    for line in stdout.splitlines():
        first = line.split(" ", 1)[0]
        if first.rstrip("*").isdigit():
            out[first] = line
    return out


def test_report_table_best_config_checkpoint_and_plots(results, capsys):
    import torch

    code, out, err = run_report(capsys, "--study", STUDY, "--results", str(results["root"]))
    assert code == 0, err
    rows = table_rows(out)
    assert sorted(rows) == ["0*", "1", "2", "3", "4"], out
    assert rows["0*"].split()[1:3] == ["COMPLETE", "0.9"] and "lr_g=0.0004" in rows["0*"] and "pair_ratio=0.5" in rows["0*"]
    assert rows["1"].split()[1:3] == ["COMPLETE", "0.5"]
    assert rows["2"].split()[1] == "PRUNED" and "stopped early" in rows["2"]
    assert rows["3"].split()[1] == "FAIL" and rows["3"].endswith(NAN_REASON)
    assert rows["4"].split()[1] == "FAIL" and rows["4"].endswith("ActorDiedError: the worker died unexpectedly")  # error.txt

    best = results["study_dir"] / "best"
    config = json.loads((best / "config.json").read_text())
    assert yaml.safe_load((best / "config.yaml").read_text()) == config
    assert config["trial_number"] == 0 and config["values"] == {"sync_rate": 0.9}
    assert config["params"] == PARAMS["a"] and config["trainable"] == "syncgan"
    assert config["fixed_config"] == results["fixed"] and config["experiment"] == EXPERIMENT

    # the copied checkpoint is the trial's best by sync_rate (the later one on a tie), byte for byte
    want = max(results["rows"], key=lambda r: (r["sync_rate"], r["training_iteration"]))["checkpoint_path"]
    assert config["checkpoint_source"] == want
    assert (best / "checkpoint" / "state.pt").read_bytes() == (Path(want) / "state.pt").read_bytes()
    state = torch.load(best / "checkpoint" / "state.pt", weights_only=True)
    assert config["resolved_config"] == state["config"] and state["config"]["lr_g"] == PARAMS["a"]["lr_g"]

    with open(best / "trials.csv") as f:
        table = list(csv.DictReader(f))
    assert [(r["number"], r["state"]) for r in table] == [
        ("0", "COMPLETE"), ("1", "COMPLETE"), ("2", "PRUNED"), ("3", "FAIL"), ("4", "FAIL")]
    assert table[3]["reason"] == NAN_REASON and table[0]["sync_rate"] == "0.9"
    assert table[0]["tune_trial"].endswith("tune_a_1_lr_g=0.0004") and table[1]["tune_trial"] == ""

    index = json.loads((best / "report.json").read_text())
    assert index["trials"] == {"COMPLETE": 2, "FAIL": 2, "PRUNED": 1} and index["best_trials"] == [0]
    plots = index["plots"]
    curves = {"sync_rate_vs_time", "sync_rate_vs_steps"}
    assert set(plots) == {"optimization_history", "param_importances", "parallel_coordinate"} | curves
    # the objective against wall time and steps: one line per Tune trial that reported it, named by its Optuna number
    last = results["rows"][-1]
    assert index["meaning"].startswith(f"The judges put both halves of {last['sync_rate']:.0%} of the generated pairs")
    assert f"what it means: {index['meaning']}" in out
    for name in curves:
        html = (best / "plots" / plots[name]["html"]).read_text()
        assert '"name":"trial 0"' in html and html.count('"mode":"lines+markers"') == 1, name
        assert (best / "plots" / plots[name]["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    steps = [r["step"] for r in results["rows"]]
    assert f'"x":{json.dumps(steps).replace(" ", "")}' in (best / "plots" / plots["sync_rate_vs_steps"]["html"]).read_text()
    for name, entry in ((k, v) for k, v in plots.items() if k not in curves):
        try:
            import plotly  # noqa: F401
        except ImportError:
            assert "plotly" in entry["html_skipped"]
        else:
            html = (best / "plots" / entry["html"]).read_text()
            assert 'src="plotly.min.js"' in html, name
            assert ("sync_rate" if name == "optimization_history" else "pair_ratio") in html, name
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            assert "matplotlib" in entry["png_skipped"]
        else:
            assert (best / "plots" / entry["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    if "html" in plots["optimization_history"]:
        assert (best / "plots" / "plotly.min.js").stat().st_size > 1_000_000  # offline: the script travels along


def test_report_replaces_best_atomically(results, capsys):
    best = results["study_dir"] / "best"
    code, _, err = run_report(capsys, "--study", STUDY, "--results", str(results["root"]), "--no-plots")
    assert code == 0, err
    (best / "stale.txt").write_text("from an earlier report")
    code, _, err = run_report(capsys, "--study", STUDY, "--results", str(results["root"]), "--no-plots",
                              "--experiment", EXPERIMENT)
    assert code == 0, err
    assert not (best / "stale.txt").exists() and (best / "checkpoint" / "state.pt").is_file()
    assert [p.name for p in results["study_dir"].iterdir() if p.name.startswith(".")] == []


def test_the_reported_checkpoint_is_the_last_reports_and_skips_deleted(results):
    """best/ holds the model whose figures the summary and Optuna show: the last report's checkpoint,
    even where an earlier report scored higher."""
    from platform.report import TuneTrial, reported_checkpoint

    c0, c1 = (r["checkpoint_path"] for r in results["rows"])
    rows = [{"sync_rate": 0.8, "training_iteration": 1, "checkpoint_path": c0},
            {"sync_rate": 0.3, "training_iteration": 2, "checkpoint_path": c1}]
    trial = TuneTrial(Path(c0).parents[2], EXPERIMENT, PARAMS["a"], rows)
    assert reported_checkpoint(trial) == Path(c1)
    # Train keeps num_to_keep checkpoints: a row whose checkpoint is gone is not a candidate
    gone = [rows[0], dict(rows[1], checkpoint_path=str(Path(c1).with_name("checkpoint_deleted")))]
    assert reported_checkpoint(TuneTrial(trial.path, EXPERIMENT, PARAMS["a"], gone)) == Path(c0)


def test_reported_checkpoint_of_an_in_process_trial_is_named_by_its_rows_checkpoint_dir_name(results, tmp_path):
    """A trial that trains in its own process keeps Tune's checkpoints in its directory; its rows name them by
    ``checkpoint_dir_name`` (None on a report without a checkpoint)."""
    from platform.report import TuneTrial, reported_checkpoint

    trial_dir = tmp_path / "tune_checkpointed_trial_a"
    for i, row in enumerate(results["rows"]):
        shutil.copytree(row["checkpoint_path"], trial_dir / f"checkpoint_{i:06d}")
    rows = [{"sync_rate": 0.8, "training_iteration": 1, "checkpoint_dir_name": "checkpoint_000000"},
            {"sync_rate": 0.3, "training_iteration": 2, "checkpoint_dir_name": "checkpoint_000001"},
            {"sync_rate": 0.9, "training_iteration": 3, "checkpoint_dir_name": None}]
    trial = TuneTrial(trial_dir, EXPERIMENT, PARAMS["a"], rows)
    assert reported_checkpoint(trial) == trial_dir / "checkpoint_000001"
    shutil.rmtree(trial_dir / "checkpoint_000001")  # Tune keeps keep_checkpoints of them
    assert reported_checkpoint(trial) == trial_dir / "checkpoint_000000"


def test_multi_objective_study_gets_a_pareto_front(tmp_path, capsys):
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import create_trial

    study_dir = tmp_path / "pareto"
    (study_dir / "pareto-1").mkdir(parents=True)
    (study_dir / "pareto-1" / "run_info.json").write_text(json.dumps({"study": {"objective": [
        {"metric": "sync_rate", "mode": "max"}, {"metric": "fid_image", "mode": "min"}]}}))
    storage = optuna.storages.RDBStorage(f"sqlite:///{study_dir / 'optuna.db'}")
    study = optuna.create_study(study_name="pareto", storage=storage, directions=["maximize", "minimize"])
    d = {"lr_g": FloatDistribution(1e-4, 1e-3, log=True)}
    for lr, values in ((1e-4, [0.9, 50.0]), (3e-4, [0.5, 20.0]), (9e-4, [0.4, 60.0])):  # the last is dominated
        study.add_trial(create_trial(params={"lr_g": lr}, distributions=d, values=values))
    code, out, err = run_report(capsys, "--study", "pareto", "--results", str(tmp_path))
    assert code == 0, err
    assert sorted(table_rows(out)) == ["0*", "1*", "2"]
    assert "sync_rate" in out.splitlines()[1] and "fid_image" in out.splitlines()[1]
    config = json.loads((study_dir / "best" / "config.json").read_text())
    assert config["trial_number"] == 0 and config["values"] == {"sync_rate": 0.9, "fid_image": 50.0}
    assert [t["number"] for t in config["pareto_front"]] == [0, 1] and config["checkpoint_source"] is None
    plots = json.loads((study_dir / "best" / "report.json").read_text())["plots"]
    assert {"pareto_front", "optimization_history_sync_rate", "optimization_history_fid_image"} <= set(plots)
    pytest.importorskip("plotly")
    assert "fid_image" in (study_dir / "best" / "plots" / plots["pareto_front"]["html"]).read_text()


def test_clear_errors_name_the_study_and_file(results, tmp_path, capsys):
    code, _, err = run_report(capsys, "--study", "nosuch", "--results", str(tmp_path))
    assert code == 2 and str(tmp_path / "nosuch" / "optuna.db") in err and "'nosuch'" in err
    assert not (tmp_path / "nosuch" / "optuna.db").exists()  # a report never creates an empty database

    code, _, err = run_report(capsys, "--study", "other", "--results", str(tmp_path), "--storage",
                              f"sqlite:///{results['study_dir'] / 'optuna.db'}")
    assert code == 2 and "'other' is not in the Optuna storage" in err and STUDY in err

    code, _, err = run_report(capsys, "--study", STUDY, "--results", str(results["root"]), "--experiment", "nope")
    assert code == 2 and "no experiment 'nope'" in err and EXPERIMENT in err

    code, _, err = run_report(capsys, "--study", STUDY, "--results", str(tmp_path), "--storage",
                              f"sqlite:///{results['study_dir'] / 'optuna.db'}")
    assert code == 2 and f"no results directory {tmp_path / STUDY}" in err

    code, _, err = run_report(capsys, "--study", STUDY, "--results", str(tmp_path),
                              "--storage", "postgresql://optuna:secret@localhost/optuna")
    assert code == 2 and "secret" not in err and "holds a password" in err


def test_failed_trials_are_one_line_each_with_the_traceback_file(results, capsys):
    code, out, _ = run_report(capsys, "--study", STUDY, "--results", str(results["root"]), "--no-plots")
    assert code == 0
    failed = [ln for ln in out.splitlines() if ln.startswith("failed: ")]
    error_txt = results["study_dir"] / EXPERIMENT / "tune_e_5_lr_g=0.0001" / "error.txt"
    assert failed == [
        f"failed: trial 3 (lr_g=0.0008, pair_ratio=0.4) failed: {NAN_REASON} (traceback: no error.txt found)",
        f"failed: trial 4 (lr_g=0.0001, pair_ratio=0.6) failed: ActorDiedError: the worker died unexpectedly "
        f"(traceback: {error_txt})",
    ]
    index = json.loads((results["study_dir"] / "best" / "report.json").read_text())
    assert [(f["number"], f["error_type"], f["error_file"]) for f in index["failures"]] == [
        (3, "FloatingPointError", "no error.txt found"), (4, "ActorDiedError", str(error_txt))]


def test_a_report_that_cannot_be_written_is_one_line_and_keeps_the_old_one(results, capsys, monkeypatch):
    """The disk fills up while the best checkpoint is copied (injected): one line, the previous best/ stands."""
    import errno

    import platform.report as report_module

    assert run_report(capsys, "--study", STUDY, "--results", str(results["root"]), "--no-plots")[0] == 0
    before = (results["study_dir"] / "best" / "report.json").read_text()

    def disk_full(src, dst, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(report_module.shutil, "copytree", disk_full)
    code, _, err = run_report(capsys, "--study", STUDY, "--results", str(results["root"]), "--no-plots")
    assert code == 2 and err.startswith("error: cannot write the report: ") and err.count("\n") == 1, err
    assert "/checkpoint: No space left on device" in err
    assert (results["study_dir"] / "best" / "report.json").read_text() == before
    assert not [p for p in results["study_dir"].iterdir() if p.name.startswith(".best")]

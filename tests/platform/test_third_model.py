"""Adding a model is its folder plus its registry entry: CoGAN (``trainables/cogan/``), added that way, runs
through ``platform.tune --dry-run``, ``platform.tune``, ``platform.report``, ``platform.train`` and
``platform.generate`` with no line of platform/ naming it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tiny_study import TINY_STUDY

REPO = Path(__file__).resolve().parents[2]
COGAN_STUDY = {
    **TINY_STUDY,
    "trainable": "cogan",
    "config": {"epochs": 2, "batch_size": 16, "width": 8, "z_dim": 16, "shared_width": 32, "eval_samples": 100,
               "steps_per_epoch": 3, "transfer_samples": 10, "transfer_steps": 5},
    "search": {"lr_g": {"loguniform": [1e-4, 1e-3]}},
    "objective": {"metric": "sync_rate", "mode": "max"},
    "num_samples": 1,
    "scheduler": {"type": "fifo"},
    "searcher": {"type": "random", "seed": 0},
}


def _mentions(root: Path, word: re.Pattern) -> dict[str, list[str]]:
    """The lines of the Python files under ``root`` that match ``word``, by file."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        lines = [line.strip() for line in path.read_text().splitlines() if word.search(line)]
        if lines:
            found[str(path.relative_to(REPO))] = lines
    return found


def test_the_model_is_named_only_in_its_folder_and_its_registry_entry():
    word = re.compile(r"cogan", re.I)
    assert _mentions(REPO / "platform", word) == {}
    outside = {f: lines for f, lines in _mentions(REPO / "trainables", word).items()
               if not f.startswith("trainables/cogan/")}
    assert list(outside) == ["trainables/registry.py"]
    entries = [line for line in outside["trainables/registry.py"] if not line.startswith(("from ", "import "))]
    assert entries == ['"cogan": Trainable("cogan", CoGANConfig, CoGAN, CoGANEvaluator, "sync_rate",',
                       '"two GANs coupled by shared layers, no pairs (the CoGAN baseline)", cogan_samples.write_samples),']


@pytest.fixture(scope="module")
def cogan_study_yaml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("studies") / "cogan_study.yaml"
    path.write_text(yaml.safe_dump(COGAN_STUDY))
    return path


def test_dry_run_resolves_the_study_from_the_registry(cogan_study_yaml, capsys):
    from platform.tune import main

    assert main(["--study", str(cogan_study_yaml), "--dry-run"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["trainable"] == "cogan" and printed["name"] == "cogan_study"


@pytest.mark.slow
def test_tune_report_train_and_generate_run_the_new_model(ray_local, cogan_study_yaml, shared_data_root, tmp_path, capsys):
    from platform.generate import main as generate
    from platform.report import main as report
    from platform.train import main as train
    from platform.tune import main as tune

    results = tmp_path / "results"
    where = ["--results", str(results), "--data", str(shared_data_root)]
    assert tune(["--study", str(cogan_study_yaml), "--name", "search", *where]) == 0
    out = capsys.readouterr().out
    # the study's progress: the objective, then the evaluator's declared headline metrics
    assert re.search(r"^trial 0 epoch 2/2  sync_rate=[0-9.]+ \| sync_kappa=[0-9.-]+ fid_image=", out, re.M), out[-3000:]
    assert "what it means:     The judges put both halves of" in out

    assert report(["--study", str(cogan_study_yaml), "--results", str(results), "--no-plots"]) == 0
    assert "what it means: The judges put both halves of" in capsys.readouterr().out
    assert (results / "cogan_study" / "best" / "checkpoint" / "state.pt").is_file()

    assert train(["--study", str(cogan_study_yaml), "--name", "one", *where]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    # the evaluator's declared progress line: headline metrics, then CoGAN's losses
    assert re.match(r"epoch 2/2: sync_rate=\S+ sync_kappa=\S+ fid_image=\S+ class_coverage_image=\S+ "
                    r"class_coverage_audio=\S+ loss_d_image=\S+ loss_d_audio=\S+ loss_g=\S+ \(", lines[1]), lines[1]
    summary = json.loads((results / "cogan_study" / "one" / "summary.json").read_text())
    assert {"transfer_acc_a_to_b", "transfer_acc_b_to_a"} <= set(summary["metrics"])

    out_dir = tmp_path / "generated"
    assert generate(["--checkpoint", summary["checkpoint"], "--out", str(out_dir), "--n", "4"]) == 0
    index = json.loads((out_dir / "index.json").read_text())
    assert index["trainable"] == "cogan" and len(index["pairs"]) == 4
    assert set(index["transfer"]) == {"image_to_audio", "audio_to_image"}
    assert all((out_dir / p["image"]).is_file() and (out_dir / p["audio_png"]).is_file() for p in index["pairs"])

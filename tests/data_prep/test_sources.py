import numpy as np
import pytest
import soundfile as sf

from data_prep.sources.espeak import speaker_name, synthesize_digits
from data_prep.sources.fsdd import list_fsdd, parse_clip
from data_prep.sources.idx import load_idx_split, read_idx

from dp_helpers import write_fake_fashion, write_idx


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    a = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a.idx", a, gz=gz)), a)
    f = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    back = read_idx(write_idx(tmp_path / "f.idx", f, gz=gz))
    assert back.dtype == np.float32 and np.array_equal(back, f)


def test_idx_corruption_names_the_file(tmp_path):
    bad = write_idx(tmp_path / "bad-idx3-ubyte.gz", np.zeros((2, 2, 2), np.uint8))
    raw = bytearray(__import__("gzip").decompress(bad.read_bytes()))
    raw[0] = 7
    bad.write_bytes(__import__("gzip").compress(bytes(raw)))
    with pytest.raises(ValueError, match="bad-idx3-ubyte.gz"):
        read_idx(bad)
    short = tmp_path / "short.idx"
    short.write_bytes(bytes([0, 0, 8, 1]) + np.array([10], ">u4").tobytes() + b"\x00" * 3)
    with pytest.raises(ValueError, match="short.idx.*size mismatch"):
        read_idx(short)
    broken_gz = tmp_path / "broken.gz"
    broken_gz.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(ValueError, match="broken.gz"):
        read_idx(broken_gz)


def test_load_idx_split_and_missing_files(tmp_path):
    data = write_fake_fashion(tmp_path / "fm", per_class=2)
    images, labels = load_idx_split(tmp_path / "fm", "test")
    assert images.dtype == np.uint8 and images.shape == (20, 28, 28) and labels.dtype == np.int64
    assert np.array_equal(images, data["test"][0]) and np.array_equal(labels, data["test"][1])
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_idx_split(tmp_path / "absent", "train")
    (tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_idx_split(tmp_path / "fm", "test")


def test_fsdd_names(tmp_path):
    c = parse_clip(tmp_path / "7_jackson_32.wav")
    assert (c.label, c.speaker, c.index, c.stem) == (7, "jackson", 32, "7_jackson_32")
    assert parse_clip("3_en-us-f3_4.wav").speaker == "en-us-f3"
    for bad in ("x_jackson_1.wav", "7_jackson.wav", "12_a_1.wav", "7_a_b_1.wav", "7_a_1.flac"):
        with pytest.raises(ValueError, match=bad.replace(".", r"\.")):
            parse_clip(bad)
    for name in ("1_a_0.wav", "0_b_2.wav", ".0_b_3.tmp.wav"):
        (tmp_path / name).touch()
    assert [c.stem for c in list_fsdd(tmp_path)] == ["0_b_2", "1_a_0"]
    (tmp_path / "notes.wav").touch()
    with pytest.raises(ValueError, match="notes.wav"):
        list_fsdd(tmp_path)


def test_speaker_name():
    assert speaker_name("en+m3") == "en-m3" and speaker_name("en-us+f3") == "en-us-f3"
    assert "_" not in speaker_name("en_x+y")


def test_espeak_synthesis(tmp_path):
    paths = synthesize_digits(tmp_path, ["en+m3"], [160], [50], sample_rate=8000, digits=[3, 8])
    assert [p.name for p in paths] == ["3_en-m3_0.wav", "8_en-m3_0.wav"]
    for p in paths:
        y, sr = sf.read(p, always_2d=True)
        assert sr == 8000 and y.shape[1] == 1 and sf.info(p).subtype == "PCM_16"
        assert 0.15 < len(y) / sr < 1.5 and np.abs(y).max() > 0.05
        assert np.abs(y[0]).max() > 0 or np.abs(y[-1]).max() > 0  # silence trimmed at an edge
    mtimes = [p.stat().st_mtime_ns for p in paths]
    assert synthesize_digits(tmp_path, ["en+m3"], [160], [50], digits=[3, 8]) == paths
    assert [p.stat().st_mtime_ns for p in paths] == mtimes  # reused, not rewritten
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_espeak_unknown_voice(tmp_path):
    with pytest.raises(RuntimeError, match="nosuchvoice"):
        synthesize_digits(tmp_path, ["nosuchvoice"], [160], [50], digits=[1])
    assert not list(tmp_path.iterdir())


def test_scan_fsdd_quarantines_bad_names(tmp_path):
    from data_prep.sources.fsdd import scan_fsdd

    from dp_helpers import write_fsdd

    write_fsdd(tmp_path, per_class=2)
    (tmp_path / "seven_x_1.wav").write_bytes(b"")
    clips, bad = scan_fsdd(tmp_path)
    assert len(clips) == 20 and [b["path"] for b in bad] == [str(tmp_path / "seven_x_1.wav")]
    assert "label does not parse" in bad[0]["reason"]
    with pytest.raises(FileNotFoundError, match="free-spoken-digit-dataset"):
        scan_fsdd(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no"):
        scan_fsdd(tmp_path / "empty")


def test_sklearn_digits_split_and_size():
    from data_prep.sources.digits import load_sklearn_digits

    tr, te = load_sklearn_digits("train"), load_sklearn_digits("test")
    assert tr[0].shape[1:] == (28, 28) and tr[0].dtype == np.uint8 and tr[0].max() > 200
    assert len(tr[1]) + len(te[1]) == 1797 and not set(tr[2]) & set(te[2])
    assert set(te[1]) == set(range(10)) and 0.12 < len(te[1]) / 1797 < 0.16
    small = load_sklearn_digits("test", size=None)[0]
    assert small.shape[1:] == (8, 8)
    assert np.array_equal(load_sklearn_digits("test")[2], te[2])  # deterministic


def test_rotate_images():
    from data_prep.sources.rotated import rotate_images

    a = np.zeros((1, 5, 5), np.uint8)
    a[0, 0, 4] = 255  # top right
    assert rotate_images(a, 90)[0, 0, 0] == 255  # counter-clockwise: top right -> top left
    assert np.array_equal(rotate_images(a, 360), a)
    r = rotate_images(np.full((2, 9, 9), 255, np.uint8), 45)
    assert r.shape == (2, 9, 9) and r[0, 0, 0] == 0 and r[0, 4, 4] == 255


def test_class_folder_layouts(tmp_path):
    from data_prep.sources.class_folder import scan_class_folder

    from dp_helpers import write_class_folder

    files = write_class_folder(tmp_path / "a", per_class=2)
    (tmp_path / "a" / "audio" / "tuba" / "notes.txt").write_text("x")
    items, bad, classes = scan_class_folder(tmp_path / "a", ("image", "audio"), ("image", "audio"))
    assert classes == ["sax", "tuba", "violin"]
    assert len(items) == 12 and {i.label for i in items} == {"violin", "tuba", "sax"}
    assert len(bad) == 1 and "notes.txt" in bad[0]["path"] and "not a supported audio file" in bad[0]["reason"]
    # layout 2: <root>/<class>/ with both kinds side by side
    flat = tmp_path / "flat" / "violin"
    flat.mkdir(parents=True)
    for p in (files["image"][0], files["audio"][0]):
        (flat / p.name).write_bytes(p.read_bytes())
    items, _, _ = scan_class_folder(tmp_path / "flat", ("image", "audio"), ("image", "audio"))
    assert sorted(i.modality for i in items) == ["audio", "image"]
    # layout 3: CSV list with relative paths
    csv = tmp_path / "a" / "list.csv"
    csv.write_text("path,modality,label\nimage/violin/violin0.png,image,violin\naudio/tuba/tuba0.wav,audio,tuba\n"
                   "audio/tuba/tuba1.wav,speech,tuba\n")
    items, bad, _ = scan_class_folder(csv, ("image", "audio"), ("image", "audio"))
    assert [(i.modality, i.label) for i in items] == [("image", "violin"), ("audio", "tuba")]
    assert items[0].path == tmp_path / "a" / "image/violin/violin0.png"
    assert "row 4" in bad[0]["reason"] and "unknown modality 'speech'" in bad[0]["reason"]
    (tmp_path / "bad.csv").write_text("file,label\nx,y\n")
    with pytest.raises(ValueError, match="bad.csv.*missing column"):
        scan_class_folder(tmp_path / "bad.csv", ("image", "audio"), ("image", "audio"))
    with pytest.raises(FileNotFoundError, match="nowhere.*one folder per modality"):
        scan_class_folder(tmp_path / "nowhere", ("image", "audio"), ("image", "audio"))

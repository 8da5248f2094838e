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

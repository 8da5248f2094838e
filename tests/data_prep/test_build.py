"""End-to-end builds on tiny local IDX files with real espeak-ng and a real local Ray instance."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_prep import build, load_manifest
from data_prep import pipeline
from data_prep.pipeline import TEST_PAIR_OFFSET

from dp_helpers import write_fake_fashion

TINY = {"voices": ["en"], "speeds": [160], "pitches": [40, 60], "num_shards": 2}


def _read(corpus, manifest, split) -> pa.Table:
    return pa.concat_tables([pq.read_table(corpus / f) for f in manifest["splits"][split]["files"]])


@pytest.fixture(scope="module")
def tiny(ray_local, fake_fashion, tmp_path_factory):
    fashion_dir, data = fake_fashion
    out = tmp_path_factory.mktemp("corpora")
    overrides = {**TINY, "fashion_dir": str(fashion_dir)}
    return build("fashion_spoken", out, overrides), out, overrides, data


def test_tiny_build_contract(tiny):
    corpus, out, _, data = tiny
    m = load_manifest(corpus)
    assert corpus.name == f"fashion_spoken-{m['config_hash'][:8]}" and corpus.parent == out
    assert m["config"]["voices"] == ["en"] and m["config"]["logmel"]["n_mels"] == 48  # defaults resolved
    assert m["image"]["shape"] == [28, 28] and m["audio"]["shape"] == [48, 48]
    assert m["classes"]["image"][0] == "T-shirt/top" and m["classes"]["audio"][9] == "nine"
    idx = {k: v for k, v in m["sources"].items() if k != "espeak-ng"}
    assert len(idx) == 4 and all(len(h) == 64 for h in idx.values())
    assert m["sources"]["espeak-ng"]["files"] == 20 and len(m["sources"]["espeak-ng"]["sha256"]) == 64
    assert m["quarantine"] == [] and m["audio"]["representation"] == "log_mel"
    assert -1 <= m["audio"]["stats"]["mean"] <= 1 and len(m["audio"]["stats"]["row_mean"]) == 48
    assert set(m["versions"]) >= {"python", "numpy", "librosa", "pyarrow", "ray", "espeak-ng"}
    ids = {}
    for split in ("train", "test"):
        t = _read(corpus, m, split)
        assert t.schema == pipeline.SCHEMA
        info = m["splits"][split]
        assert t.num_rows == info["rows"] == 30 and len(info["files"]) == 2
        label = t["label"].to_numpy()
        assert info["per_class"] == {str(k): int((label == k).sum()) for k in range(10)}
        assert all(a[0] == str(k) for a, k in zip(t["audio_id"].to_pylist(), label))  # pairs share the class
        images, labels = data[split]
        image_id = t["image_id"].to_numpy()
        assert np.array_equal(labels[image_id], label) and len(set(image_id)) == 30
        img = np.stack([np.frombuffer(b, np.uint8).reshape(28, 28) for b in t["image"].to_pylist()])
        assert np.array_equal(img, images[image_id])
        aud = np.stack([np.frombuffer(b, "<f2") for b in t["audio"].to_pylist()])
        assert aud.shape == (30, 48 * 48) and aud.min() >= -1 and aud.max() <= 1
        pair_id = np.sort(t["pair_id"].to_numpy())
        assert np.array_equal(pair_id, np.arange(30) + (TEST_PAIR_OFFSET if split == "test" else 0))
        ids[split] = set(t["audio_id"].to_pylist())
        assert info["clips"] == 10  # 2 clips per class: one train, one test
    assert ids["train"] and ids["test"] and not ids["train"] & ids["test"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_rebuild_is_a_noop_unless_forced(tiny):
    corpus, out, overrides, _ = tiny
    manifest = corpus / "manifest.json"
    before = manifest.stat().st_mtime_ns
    assert build("fashion_spoken", out, overrides) == corpus
    assert manifest.stat().st_mtime_ns == before
    assert build("fashion_spoken", out, overrides, force=True) == corpus
    assert manifest.stat().st_mtime_ns != before
    assert load_manifest(corpus)["splits"]["train"]["rows"] == 30
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_failed_build_leaves_nothing(ray_local, fake_fashion, tmp_path, monkeypatch):
    real, calls = pipeline._write_split, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # train written, test fails
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_write_split", flaky)
    with pytest.raises(OSError, match="simulated"):
        build("fashion_spoken", tmp_path, {**TINY, "fashion_dir": str(fake_fashion[0])})
    assert len(calls) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["_cache"]  # no final dir, no temp dir


def test_missing_fashion_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        build("fashion_spoken", tmp_path / "out", {"fashion_dir": str(tmp_path / "nowhere")})
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "_cache"]


def test_unknown_override(tmp_path):
    with pytest.raises(ValueError, match="'pitch'"):
        build("fashion_spoken", tmp_path, {"pitch": [50]})
    assert not (tmp_path / "fashion_spoken").exists()

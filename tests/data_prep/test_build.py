"""End-to-end builds on tiny local IDX files with real espeak-ng and a real local Ray instance."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_prep import build, load_manifest
from data_prep import corpus_writer
from data_prep.corpus_writer import TEST_PAIR_OFFSET

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
        assert t.schema == corpus_writer.SCHEMA
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
    real, calls = corpus_writer.write_split, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # train written, test fails
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(corpus_writer, "write_split", flaky)
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


@pytest.fixture
def cli_log():
    """``data_prep.cli.main`` adds a handler on the ``data_prep`` logger bound to this test's captured stderr."""
    import logging

    log = logging.getLogger("data_prep")
    handlers, level = list(log.handlers), log.level
    yield
    log.handlers[:] = handlers
    log.setLevel(level)


def _error_line(err: str) -> str:
    """The CLI's last line (log lines come before it), checked to be its only error and no traceback."""
    assert "Traceback" not in err and err.count("error: ") == 1, err
    return err.splitlines()[-1]


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["truncated shard", "missing shard", "manifest that does not parse"])
def test_a_damaged_corpus_is_rebuilt_before_use_keeping_its_judges(tiny, damage):
    """The config hash still matches, but the files do not: build() rebuilds instead of trusting them."""
    corpus, out, overrides, _ = tiny
    judges = corpus / "classifiers-i1-a1-s0.json"  # a judge cache: the rebuild keeps it
    judges.write_text('{"test_accuracy": {"image": 0.5, "audio": 0.5}}')
    shard = corpus / load_manifest(corpus)["splits"]["test"]["files"][1]
    if damage == "truncated shard":
        _truncate(shard)
    elif damage == "missing shard":
        shard.unlink()
    else:
        _truncate(corpus / "manifest.json")
    assert build("fashion_spoken", out, overrides) == corpus
    m = load_manifest(corpus)
    for split in ("train", "test"):
        assert sum(pq.read_table(corpus / f).num_rows for f in m["splits"][split]["files"]) == 30
    assert judges.read_text() == '{"test_accuracy": {"image": 0.5, "audio": 0.5}}'
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_damaged_corpus_that_cannot_be_rebuilt_is_one_line_naming_the_file(tiny, fake_fashion, capsys, monkeypatch,
                                                                              cli_log):
    """The sources are gone: `python -m data_prep build` stops with the damaged file, why, and --force."""
    from data_prep.cli import main

    corpus, out, overrides, _ = tiny
    shard = corpus / load_manifest(corpus)["splits"]["train"]["files"][0]
    _truncate(shard)
    damaged = shard.read_bytes()
    fashion_dir = fake_fashion[0]
    away = fashion_dir.with_name(fashion_dir.name + "-away")
    monkeypatch.setenv("DATA_PREP_PROGRESS", "0")
    args = ["build", "fashion_spoken", "--out", str(out), *(f"--set={k}={v}" for k, v in overrides.items())]
    fashion_dir.rename(away)
    try:
        assert main(args) == 2
    finally:
        away.rename(fashion_dir)
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {shard}: ") and "rebuilding it failed (FileNotFoundError" in line, line
    assert line.endswith("python -m data_prep build fashion_spoken --force")
    assert shard.read_bytes() == damaged  # nothing replaced by a half build
    assert main(args) == 0 and pq.read_table(shard).num_rows > 0  # sources back: repaired


def test_a_corpus_that_cannot_be_written_is_one_line_naming_the_path(ray_local, fake_fashion, tmp_path, capsys,
                                                                     monkeypatch, cli_log):
    """The disk fills up while the test split is written (injected): the CLI names the path, nothing is left."""
    import errno

    from data_prep.cli import main

    real = corpus_writer.write_split

    def disk_full(shards, out_dir, rows_per_file):
        if out_dir.name == "test":
            raise OSError(errno.ENOSPC, "No space left on device", str(out_dir / "part-00000.parquet"))
        return real(shards, out_dir, rows_per_file)

    monkeypatch.setattr(corpus_writer, "write_split", disk_full)
    monkeypatch.setenv("DATA_PREP_PROGRESS", "0")
    overrides = {**TINY, "fashion_dir": str(fake_fashion[0])}
    assert main(["build", "fashion_spoken", "--out", str(tmp_path), *(f"--set={k}={v}" for k, v in overrides.items())]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"error: cannot write the corpus under {tmp_path}: ") and line.endswith(
        "/test/part-00000.parquet: No space left on device"), line
    assert [p.name for p in tmp_path.iterdir()] == ["_cache"]  # no corpus, no temporary directory

"""``verify_corpus`` on real Parquet shards and manifests (no Ray): what each kind of damage reads as."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_prep.manifest import CorpusDamaged, file_checksums, load_manifest, verify_corpus, write_manifest


def write_corpus(root: Path, checksums: bool = True) -> Path:
    """Two splits of two real Parquet shards each and a manifest (with or without the checksums)."""
    splits = {}
    for split in ("train", "test"):
        (root / split).mkdir(parents=True)
        files = []
        for i in range(2):
            pq.write_table(pa.table({"pair_id": list(range(50)), "label": [k % 10 for k in range(50)]}),
                           root / split / f"part-{i:05d}.parquet")
            files.append(f"{split}/part-{i:05d}.parquet")
        splits[split] = {"rows": 100, "files": files}
        if checksums:
            splits[split]["checksums"] = file_checksums(root, files)
    write_manifest(root, {"corpus": "t", "config": {}, "config_hash": "x", "splits": splits, "image": {}, "audio": {}})
    return root


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_sound_corpus_passes_and_records_sizes_and_sha256(tmp_path):
    corpus = write_corpus(tmp_path / "c")
    verify_corpus(corpus)
    rec = load_manifest(corpus)["splits"]["train"]["checksums"]["train/part-00001.parquet"]
    assert rec["bytes"] == (corpus / "train/part-00001.parquet").stat().st_size and len(rec["sha256"]) == 64


@pytest.mark.parametrize("checksums", [True, False], ids=["manifest-with-checksums", "manifest-before-checksums"])
@pytest.mark.parametrize("damage, message", [
    (truncate, r"part-00001\.parquet: (\d+ bytes, the manifest records \d+|not a readable Parquet file)"),
    (Path.unlink, r"part-00001\.parquet: missing \(listed in manifest\.json\)"),
])
def test_a_truncated_or_missing_shard_is_named(tmp_path, checksums, damage, message):
    corpus = write_corpus(tmp_path / "c", checksums)
    damage(corpus / "test" / "part-00001.parquet")
    with pytest.raises(CorpusDamaged, match=message) as info:
        verify_corpus(corpus)
    assert str(corpus / "test" / "part-00001.parquet") in str(info.value) and "\n" not in str(info.value)


def test_same_size_other_bytes_fail_the_checksum(tmp_path):
    corpus = write_corpus(tmp_path / "c")
    shard = corpus / "train" / "part-00000.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CorpusDamaged, match=r"train/part-00000\.parquet: sha256 differs"):
        verify_corpus(corpus)
    verify_corpus(corpus, checksums=False)  # sizes only (remote corpora) cannot see it


def test_an_old_manifest_whose_row_count_disagrees_is_damaged(tmp_path):
    corpus = write_corpus(tmp_path / "c", checksums=False)
    manifest = json.loads((corpus / "manifest.json").read_text())
    manifest["splits"]["train"]["rows"] = 120
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorpusDamaged, match=r"/train: 100 rows in its files, the manifest records 120"):
        verify_corpus(corpus)


def test_a_manifest_that_does_not_parse_or_lists_no_files(tmp_path):
    corpus = write_corpus(tmp_path / "c")
    text = (corpus / "manifest.json").read_text()
    (corpus / "manifest.json").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"manifest\.json: corrupt manifest .*rebuild with --force"):
        verify_corpus(corpus)
    manifest = json.loads(text)
    manifest["splits"]["test"] = {"rows": 100}
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorpusDamaged, match=r"manifest\.json: splits\.test lists no files; rebuild with --force"):
        verify_corpus(corpus)

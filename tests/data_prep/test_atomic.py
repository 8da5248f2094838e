"""data_prep.atomic: a failed write or swap leaves the previous file or directory as it was, and no temporary."""
import pytest

from data_prep.atomic import atomic_path, staged_directory, swap_directory, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and len(list(tmp_path.iterdir())) == 1


def test_swap_directory_replaces_the_old_one_and_puts_it_back_on_failure(tmp_path):
    target, new = tmp_path / "best", tmp_path / ".best.tmp"
    target.mkdir()
    (target / "a").write_text("old")
    new.mkdir()
    (new / "a").write_text("new")
    swap_directory(new, target)
    assert (target / "a").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["best"]

    missing = tmp_path / "never-built"  # the rename of the new directory fails: the old one comes back
    with pytest.raises(FileNotFoundError):
        swap_directory(missing, target)
    assert (target / "a").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["best"]

    swap_directory(tmp_path / "best", tmp_path / "fresh")  # no target yet: a plain rename
    assert (tmp_path / "fresh" / "a").read_text() == "new"


def test_a_staged_directory_replaces_its_target_only_when_its_block_ends_without_error(tmp_path):
    target = tmp_path / "generated"
    with staged_directory(target) as tmp:
        (tmp / "a").write_text("first")
        assert not target.exists()  # nothing in place while the block writes
    assert (target / "a").read_text() == "first"

    with pytest.raises(RuntimeError):
        with staged_directory(target) as tmp:
            (tmp / "a").write_text("half")
            raise RuntimeError("the writer failed")
    assert (target / "a").read_text() == "first" and sorted(p.name for p in tmp_path.iterdir()) == ["generated"]

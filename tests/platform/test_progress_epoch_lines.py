"""platform.train's console: EpochLines prints the run's epoch lines as rank 0 appends them."""
import json
import time

from platform.progress import EpochLines


def _row(epoch: int, **extra) -> str:
    return json.dumps({"epoch": epoch, "epoch_seconds": 1.25, "sync_rate": 0.5 + epoch / 10, **extra}) + "\n"


def test_lines_follow_the_file_once_each_a_partial_line_waits_and_old_lines_are_not_repeated(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text(_row(1))  # a previous run's line in a reused run directory
    printed: list[str] = []
    with EpochLines(path, 3, lambda m: f"sync_rate={m['sync_rate']:.3f}", interval=0.05,
                    out=lambda line, **_: printed.append(line)):
        with open(path, "a") as f:
            f.write(_row(2, warning="S is at chance on real pairs; look at the labelled pairs"))
            f.flush()
            time.sleep(0.3)
            f.write(_row(3)[:10])  # being written
            f.flush()
            time.sleep(0.3)
            assert printed == ["epoch 2/3: sync_rate=0.700 (1.2 s)", "S is at chance on real pairs; look at the labelled pairs"]
            f.write(_row(3)[10:])
    assert printed[2:] == ["epoch 3/3: sync_rate=0.800 (1.2 s)"]


def test_no_file_yet_prints_nothing(tmp_path):
    printed: list[str] = []
    with EpochLines(tmp_path / "none.jsonl", 2, str, interval=0.01, out=lambda line, **_: printed.append(line)):
        time.sleep(0.05)
    assert printed == []

"""tests/hang_watchdog.py ends a session whose test hangs, with the stack that hung."""
import os
import subprocess
import sys
from pathlib import Path


def test_a_hanging_test_ends_the_session_with_its_stack(tmp_path):
    (tmp_path / "test_sleeps.py").write_text("import time\n\ndef test_waits_forever():\n    time.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent), "PYTEST_HANG_SECONDS": "2"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "hang_watchdog", "-p", "no:cacheprovider",
                           str(tmp_path / "test_sleeps.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    assert "Timeout" in proc.stderr and "test_waits_forever" in proc.stderr, proc.stderr[-2000:]

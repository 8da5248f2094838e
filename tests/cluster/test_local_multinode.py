"""A real 2-node Ray cluster on this machine (cluster/local.sh) running a tiny study end to end.

The study runs as the user runs it, `python -m platform.tune --address ...`, in a subprocess: this
pytest process's own Ray (the session's `ray_local` fixture) is never touched, and the cluster's
nodes are stopped by `cluster/local.sh down`, which ends only the processes it started.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from tiny_study import TINY_STUDY

ROOT = Path(__file__).resolve().parents[2]
LOCAL_SH = ROOT / "cluster" / "local.sh"

# two trials that must run at the same time, on different nodes: each Train worker takes 0.9 CPU and
# each node has 1 CPU, so two workers never fit on one node
TINY_MULTINODE_STUDY = {
    **copy.deepcopy(TINY_STUDY),
    "num_samples": 2,
    "scheduler": {"type": "fifo"},  # both trials run to the end
    "presets": {"local-cpu": {"trial_cpus": 0.01, "num_workers": 1, "cpus_per_worker": 0.9,
                              "max_concurrent_trials": 2, "startup_retries": 2}},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def local_cluster(tmp_path):
    """`cluster/local.sh up` with a head (1 CPU) and one worker node (1 CPU); `down` afterwards."""
    # short state dir: Ray's unix sockets live under it (path length limit ~107 bytes)
    state = tempfile.mkdtemp(prefix="xm-", dir="/tmp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update({
        "XMODAL_LOCAL_STATE": state, "XMODAL_LOCAL_PORT": str(_free_port()),
        "XMODAL_LOCAL_DASHBOARD_PORT": str(_free_port()), "XMODAL_LOCAL_WORKERS": "1",
        "XMODAL_HEAD_CPUS": "1", "XMODAL_WORKER_CPUS": "1", "XMODAL_STORAGE": str(tmp_path / "results"),
        "RAY": str(Path(sys.executable).parent / "ray"),
    })
    try:
        up = subprocess.run(["bash", str(LOCAL_SH), "up"], env=env, capture_output=True, text=True, timeout=240)
        assert up.returncode == 0, up.stdout + up.stderr
        exports = dict(re.findall(r"^export (\w+)=(.*)$", up.stdout, re.M))
        assert exports["RAY_AUTH_MODE"] == "token" and Path(exports["RAY_AUTH_TOKEN_PATH"]).is_file()
        assert oct(Path(exports["RAY_AUTH_TOKEN_PATH"]).stat().st_mode & 0o777) == "0o600"
        yield {"env": env, "exports": exports, "state": state}
    finally:
        down = subprocess.run(["bash", str(LOCAL_SH), "down"], env=env, capture_output=True, text=True, timeout=120)
        left = subprocess.run(["pgrep", "-f", "--", f"{state}/ray"], capture_output=True, text=True).stdout.split()
        shutil.rmtree(state, ignore_errors=True)
        assert down.returncode == 0, down.stdout + down.stderr
        assert not left, f"processes of the local cluster left running: {left}"


@pytest.mark.slow
def test_study_runs_on_two_nodes(local_cluster, tmp_path):
    env, exports = local_cluster["env"], local_cluster["exports"]
    client_env = {**env, **exports}
    client_env.pop("RAY_ADDRESS")  # the address is given explicitly, as a user would with --address

    # `up` returns once the GCS lists both nodes; `ray status` shows the autoscaler's view, which
    # follows a few seconds later
    deadline = time.time() + 60
    while True:
        status = subprocess.run(["bash", str(LOCAL_SH), "status"], env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stdout + status.stderr
        cluster_nodes = set(re.findall(r"node_([0-9a-f]{40,})", status.stdout))
        if len(cluster_nodes) >= 2 or time.time() > deadline:
            break
        time.sleep(2)
    assert len(cluster_nodes) == 2, status.stdout
    assert "0.0/2.0 CPU" in status.stdout, status.stdout

    # token authentication is on: a client without this cluster's token is refused
    refused = subprocess.run(
        [sys.executable, "-c", f"import ray; ray.init(address='{exports['RAY_ADDRESS']}')"],
        env={**{k: v for k, v in env.items()}, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 64},
        capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode != 0

    study_path = tmp_path / "multinode_study.yaml"
    study_path.write_text(yaml.safe_dump(TINY_MULTINODE_STUDY))
    results, data = Path(exports["XMODAL_STORAGE"]), tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, "-m", "platform.tune", "--study", str(study_path), "--address", exports["RAY_ADDRESS"],
         "--results", str(results), "--data", str(data), "--name", "multinode"],
        cwd=ROOT, env=client_env, capture_output=True, text=True, timeout=480,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    experiment = results / "multinode_study" / "multinode"
    summary = json.loads((experiment / "summary.json").read_text())
    assert summary["trials"] == 2 and summary["trials_failed"] == 0, summary["errors"]

    trial_dirs = [d for d in experiment.iterdir() if d.is_dir() and (d / "result.json").exists()]
    assert len(trial_dirs) == 2
    nodes_per_trial = {}
    for d in trial_dirs:
        rows = [json.loads(line) for line in (d / "result.json").read_text().splitlines() if line.strip()]
        assert rows and rows[-1]["epoch"] == TINY_STUDY["config"]["epochs"], f"{d.name} did not finish"
        assert all("node_id" in r for r in rows), f"{d.name}: a result without node_id"
        nodes_per_trial[d.name] = {r["node_id"] for r in rows}
    all_nodes = set().union(*nodes_per_trial.values())
    assert all_nodes <= cluster_nodes, (all_nodes, cluster_nodes)
    assert len(all_nodes) >= 2, f"every trial ran on the same node: {nodes_per_trial}"

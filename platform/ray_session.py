"""Starting or joining Ray the way the platform needs it.

A local instance is started with its own GCS address in every worker's ``RAY_ADDRESS`` and, where a Ray
Train run needs it, its dashboard (it serves the state API): Ray Train's detached PlacementGroupCleaner
asks the state API whether a run's controller is still alive, and without an address it resolves the
cluster by scanning this machine's processes, which fails as soon as two Ray instances run here
("Found multiple active Ray instances"). The placement groups of trials that ASHA stops then
leak, and the next trial never starts. A study whose trials train in their own process runs no Train
run and starts no dashboard unless asked (``platform.tune --dashboard``): the dashboard and its
modules cost CPU all along (docs/benchmarks.md, orchestration cost).
"""
from __future__ import annotations

import os
import socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def init_ray(address: str | None = None, **kwargs) -> None:
    """Join ``address`` (a running cluster), or start a local instance; no-op if already connected.

    ``include_dashboard`` (default True) applies to a local instance only: a cluster has its own.
    Every worker process runs ``trainables.ray_logs.one_line_train_errors`` first, so a failing
    trial's traceback is not printed by Ray Train's worker and controller (it stays in ``error.txt``)."""
    import ray
    import ray.cloudpickle
    from ray._private.services import get_node_ip_address

    from trainables import ray_logs

    if ray.is_initialized():
        return
    # the hook travels by value: a worker runs it before it can import this checkout's trainables
    ray.cloudpickle.register_pickle_by_value(ray_logs)
    hook = {"worker_process_setup_hook": ray_logs.one_line_train_errors}
    if address:
        kwargs.pop("include_dashboard", None)
        ray.init(address=address, runtime_env={**kwargs.pop("runtime_env", {}), **hook}, **kwargs)
        return
    port = _free_port()
    os.environ["RAY_GCS_SERVER_PORT"] = str(port)  # read only when this process starts a head node
    dashboard = kwargs.pop("include_dashboard", True)
    kwargs.setdefault("_system_config", local_system_config(dashboard))
    try:
        ray.init(
            address="local", include_dashboard=dashboard, dashboard_host="127.0.0.1",
            runtime_env={"env_vars": {"RAY_ADDRESS": f"{get_node_ip_address()}:{port}"}, **hook}, **kwargs,
        )
    finally:
        os.environ.pop("RAY_GCS_SERVER_PORT", None)


def local_system_config(dashboard: bool) -> dict:
    """Ray's system settings for a local instance (measured: ``benchmarks/orchestration_cost.py``).

    - ``worker_niceness`` 0: Ray runs its workers at nice 15, and on a small machine they then lose the
      CPU to the driver and Ray's own daemons; trials and Train workers are the work here.
    - ``prestart_worker_first_driver`` off: the worker Ray starts ahead for the driver never matches a
      trial's runtime environment (``RAY_ADDRESS``, the setup hook) and idles the whole study (~1 % of a core).
    - without the dashboard, ``enable_metrics_collection`` off: no one reads Ray's metrics then; every
      process stops exporting them (~0.5 % of a core).
    """
    return {"worker_niceness": 0, "prestart_worker_first_driver": False,
            **({} if dashboard else {"enable_metrics_collection": False})}

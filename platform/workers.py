"""Several ``platform.tune`` runs of one study at once (workers of one Optuna study, as Optuna users run
them): each holds a numbered slot of the study's results directory while it runs.

The slot tells a run apart from the others alive: its sampler's seed (``platform.search.make_sampler``:
slot 0, a run alone, keeps the study's seed, so a lone run stays reproducible; slot k adds
``k * SEED_STRIDE``), its default experiment name (``<study>-<time>`` and, from slot 1 on, ``-w<k>``),
and which of them enqueues the ``searcher.cover`` values (slot 0). An experiment name a live run
holds is refused to a second run (``--resume`` of a running experiment included).

A slot is ``<results>/<study>/.workers/slot-<k>.lock`` held with ``flock``: the kernel drops it when its
process ends, however it ends (a SIGKILL leaves no stale slot). Local results only: runs on several
machines sharing remote results are not told apart here (they share the Optuna storage, whose heartbeats
still fail a dead run's trials).
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Callable

SEED_STRIDE = 100_003
"""A slot's offset to the sampler seed: far beyond any trial count, so two slots never share a seed."""


class ExperimentBusy(ValueError):
    """Another live run holds the experiment; the message names it and its process."""


class WorkerSlot:
    """This process's slot ``number`` in a study's results directory and the ``experiment`` it runs."""

    def __init__(self, number: int, experiment: str, fd: int | None):
        self.number, self.experiment, self._fd = number, experiment, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def claim_slot(study_dir: Path | None, name: str | None, default_name: Callable[[int], str]) -> WorkerSlot:
    """The lowest free slot of ``study_dir`` (None: remote results, always slot 0), the experiment ``name``
    (or ``default_name(slot)``); ExperimentBusy if a live run holds that experiment."""
    if study_dir is None:
        return WorkerSlot(0, name or default_name(0), None)
    folder = study_dir / ".workers"
    folder.mkdir(parents=True, exist_ok=True)
    guard = os.open(folder / "claim.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one claim at a time
        live, number, fd = {}, None, None
        for k in range(1024):
            path = folder / f"slot-{k}.lock"
            if not path.exists() and number is not None:
                break
            f = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # held by a live run
                live[k] = _read(path)
                os.close(f)
                continue
            if number is None:
                number, fd = k, f
            else:
                os.close(f)
        experiment = name or default_name(number)
        holder = next((info for info in live.values() if info.get("experiment") == experiment), None)
        if holder is not None:
            os.close(fd)
            raise ExperimentBusy(f"experiment {experiment} is being run by another platform.tune (pid "
                                 f"{holder.get('pid')}, since {holder.get('started')}); wait for it, or give another --name")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "experiment": experiment,
                                  "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode(), 0)
        return WorkerSlot(number, experiment, fd)
    finally:
        os.close(guard)


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}

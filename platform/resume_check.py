"""``--resume`` continues an experiment with the settings it started with, or refuses in one line.

Tune restores the experiment as it was saved (its searcher, scheduler, ``num_samples``,
``max_concurrent_trials``); a study whose settings changed since would train the trials that run
again with other settings than the finished ones, and rank them together. So the study's resolved
settings (``settings``) are recorded in ``run_info.json`` and compared on ``--resume``: any difference
outside ``MAY_CHANGE`` is an error naming each key, its recorded and its new value.
"""
from __future__ import annotations

import json
from typing import Any

from platform.study import SET_BY_PLATFORM, Study, StudyError
from trainables.config import to_dict

MAY_CHANGE = ("description", "resources.cpus_per_worker", "resources.gpus_per_worker", "resources.max_failures",
              "resources.startup_retries", "resources.keep_checkpoints")
"""What ``--resume`` may change: the study's description, and the resources a trial's Train run takes when
it starts again (they place work and guard against failures; the numbers a trial computes stay the same)."""


def settings(study: Study, storage: str) -> dict[str, Any]:
    """Everything that decides what the experiment's trials compute and how they are ranked, resolved
    (defaults filled in, numbers as numbers), as flat ``key: value`` pairs; ``storage``: the Optuna
    storage URL without its password."""
    from data_prep.corpora import config_from_dict, config_to_dict

    nested = {
        "description": study.description, "trainable": study.trainable,
        "corpus": {"name": study.corpus.name, **config_to_dict(config_from_dict(study.corpus.name, study.corpus.overrides))},
        "config": {k: v for k, v in to_dict(study.trainable_config()).items() if k not in SET_BY_PLATFORM},
        **study.resolved(), "classifiers": study.classifiers.given(), "optuna_storage": storage,
        "resources": to_dict(study.resources),
    }
    return json.loads(json.dumps(_flat(nested), default=str))  # as run_info.json holds them


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and tree:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): tree}


IN_PROCESS = "resources.in_process"
"""Recorded since one-worker trials train in their own process; an experiment without it ran TorchTrainer
trials, whose checkpoints only a TorchTrainer trial resumes from."""


def recorded_settings(info: dict[str, Any], where: str) -> dict[str, Any]:
    """The settings an experiment recorded in its ``run_info.json`` (``info``); one written before they were
    recorded is resolved from the study and preset it holds (``in_process`` false where it is not recorded)."""
    if isinstance(info.get("settings"), dict):
        recorded = dict(info["settings"])
    else:
        try:
            study = Study.from_dict(info["study"], name="study", preset=info.get("preset"))
        except (KeyError, TypeError, StudyError) as e:
            raise StudyError(f"--resume: {where} does not hold the experiment's settings ({e}); start a new "
                             "experiment (another --name)") from None
        recorded = settings(study, info.get("optuna_storage", ""))
    if "in_process" not in (info.get("resources") or {}):
        recorded[IN_PROCESS] = False
    return recorded


def check_resume(recorded: dict[str, Any], now: dict[str, Any], where: str) -> None:
    """StudyError naming every setting that differs from the recorded ones, unless it is in ``MAY_CHANGE``."""
    changed = [k for k in sorted(set(recorded) | set(now)) if k not in MAY_CHANGE and _differs(recorded.get(k), now.get(k))]
    if changed:
        diff = "; ".join(f"{k}: {json.dumps(recorded.get(k))} -> {json.dumps(now.get(k))}" for k in changed)
        hint = (f" ({IN_PROCESS} false: its trials ran a TorchTrainer; resume with --set presets.<preset>.in_process=false)"
                if IN_PROCESS in changed and recorded.get(IN_PROCESS) is False else "")
        raise StudyError(f"--resume: the study's settings differ from those {where} recorded: {diff}{hint}. A resumed "
                         f"experiment keeps its settings (only {', '.join(MAY_CHANGE)} may change); resume without "
                         "these --set/--preset changes, or start a new experiment with another --name")


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) != float(b)
    return a != b

"""Training state on disk: every network and optimizer, the grad scaler, progress and RNG states.

A checkpoint directory holds ``state.pt`` (written by rank 0) and one ``rng-rank<r>.pt`` per rank:
under Ray Train every worker reports its directory and Train merges them, so each rank resumes
its own random stream. Everything loads with ``torch.load(weights_only=True)``.

The data order needs no saved state: each epoch's permutation is derived from (seed, rank,
epoch), and ``step_in_epoch`` says how many of its batches were already trained on.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from data_prep.atomic import atomic_path

STATE_FILE = "state.pt"


class CheckpointDamaged(ValueError):
    """A checkpoint file that does not load (cut short, altered); the message names the file."""


def read_state(path: str | Path) -> dict[str, Any]:
    """``torch.load`` of a checkpoint file (``state.pt``, ``rng-rank<r>.pt``), weights only; a file that
    does not load is one CheckpointDamaged naming it and why, never a traceback from deep in torch."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - torch raises RuntimeError, EOFError, UnpicklingError, zipfile errors...
        why = (str(e).strip().splitlines() or [""])[0]
        raise CheckpointDamaged(f"{path}: damaged checkpoint file, it does not load ({type(e).__name__}: {why})") from None
    if not isinstance(state, dict):
        raise CheckpointDamaged(f"{path}: damaged checkpoint file (holds a {type(state).__name__}, not a dict)")
    return state


def check_intact(directory: str | Path) -> None:
    """CheckpointDamaged (or FileNotFoundError) unless ``directory``'s ``state.pt`` and every
    ``rng-rank<r>.pt`` load and ``state.pt`` holds what ``load_checkpoint`` reads."""
    directory = Path(directory)
    if not (directory / STATE_FILE).is_file():
        raise FileNotFoundError(f"{directory}: not a training checkpoint (no {STATE_FILE})")
    state = read_state(directory / STATE_FILE)
    missing = [k for k in ("progress", "model", "optimizers") if k not in state]
    if missing:
        raise CheckpointDamaged(f"{directory / STATE_FILE}: damaged checkpoint file (no {missing})")
    for rng in sorted(directory.glob("rng-rank*.pt")):
        read_state(rng)


class Checkpointable(Protocol):
    cfg: Any

    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> Any: ...
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...


@dataclass
class Progress:
    """Where training stands: ``epoch`` epochs done plus ``step_in_epoch`` batches of the next."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(model: Checkpointable, progress: Progress, config: dict, directory: str | Path,
                    rank: int = 0, trainable: str = "") -> Path:
    """Write this rank's part of a checkpoint into ``directory``; returns the directory. ``trainable``:
    the registry name of the model (``platform.generate`` rebuilds it from that and ``config``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _save(_rng_state(), directory / f"rng-rank{rank}.pt")
    if rank == 0:
        precision = getattr(model, "precision", None)
        _save(
            {
                "progress": asdict(progress),
                "trainable": trainable,
                "config": config,
                "model": model.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in model.optimizers().items()},
                "precision": precision.state_dict() if precision is not None else {},
            },
            directory / STATE_FILE,
        )
    return directory


def _save(obj: Any, path: Path) -> None:
    """``torch.save`` under a temporary name, then rename: a failed write (full disk) leaves no file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(model: Checkpointable, directory: str | Path, rank: int = 0) -> Progress:
    """Restore model, optimizers, grad scaler and this rank's RNG; returns the saved progress.

    The optimizers keep the learning rates the model was built with (its config), not the saved
    ones: a trial that population-based training clones from another trial's checkpoint with mutated
    learning rates trains with the new rates (restoring an optimizer's state silently brings the donor's
    back, the pitfall Ray's PBT examples warn of); a plain resume has the same rates either way.
    A rank without a saved RNG state (the run resumes on more workers than it saved with) keeps
    the stream it was seeded with.
    """
    directory = Path(directory)
    path = directory / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a training checkpoint (no {STATE_FILE})")
    state = read_state(path)
    model.load_state_dict(state["model"])
    opts = model.optimizers()
    if set(opts) != set(state["optimizers"]):
        raise ValueError(f"{path}: optimizers {sorted(state['optimizers'])} do not match the model's {sorted(opts)}")
    for k, opt in opts.items():
        configured = [group["lr"] for group in opt.param_groups]
        opt.load_state_dict(state["optimizers"][k])
        for group, lr in zip(opt.param_groups, configured):
            group["lr"] = lr
    precision = getattr(model, "precision", None)
    if precision is not None:
        precision.load_state_dict(state.get("precision", {}))
    rng = directory / f"rng-rank{rank}.pt"
    if rng.is_file():
        _set_rng_state(read_state(rng))
    return Progress(**state["progress"])

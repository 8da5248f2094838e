"""SyncGAN's sample writer: generated pairs and test pairs translated both ways, as files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from trainables.generated_pairs import write_pair_samples


def write_samples(model, cfg, corpus_dir: Path, manifest: dict, out: Path, n: int, seed: int,
                  transfer_steps: int | None = None, transfer_n: int | None = None) -> dict[str, Any]:
    """SyncGAN's samples (``platform.generate``): pairs generated from one code each and test pairs
    translated both ways by its ``transfer_method`` (``trainables.generated_pairs.write_pair_samples``)."""
    steps = cfg.transfer_steps if transfer_steps is None else transfer_steps
    return write_pair_samples(model, cfg, corpus_dir, manifest, out, n, seed, transfer_n, steps,
                              {"method": cfg.transfer_method, "steps": steps, "restarts": cfg.transfer_restarts,
                               "draws": cfg.transfer_draws, "seed": seed})

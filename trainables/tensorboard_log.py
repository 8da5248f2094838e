"""TensorBoard output written from rank 0 into the trial directory: scalars, pair grids, hparams."""
from __future__ import annotations

import warnings
from typing import Any

import torch
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams as tb_hparams

from trainables.sample_grid import labelled_grid


class TrialWriter:
    """A SummaryWriter that only rank 0 opens; other ranks get a no-op."""

    def __init__(self, log_dir: str, rank: int) -> None:
        self.writer = SummaryWriter(log_dir) if (rank == 0 and log_dir) else None
        self.audio_skipped = False

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        if self.writer is None:
            return
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def pairs(self, tag: str, images: torch.Tensor, spectrograms: torch.Tensor, step: int,
              captions: list[str] | None = None, agree: list[bool | None] | None = None) -> None:
        """A grid of pairs, four to a row: each cell an image and its spectrogram, framed green where the
        judges agree (``agree``), red where not, with ``captions`` (what the judges see) under it."""
        if self.writer is None:
            return
        n = len(images)
        grid = labelled_grid([[images[i], spectrograms[i]] for i in range(n)], [False, True],
                             captions or [""] * n, agree or [None] * n)
        self.writer.add_image(tag, grid, step, dataformats="HWC")

    def audio(self, tag: str, samples: torch.Tensor, audio: dict, step: int, count: int = 4) -> None:
        """The first ``count`` generated audio-column samples as sound, one summary each (none for
        corpora whose second modality is an image). ``audio`` is the manifest's ``audio`` entry."""
        if self.writer is None or not audio:
            return
        from trainables.audio import spectrogram_to_audio

        for i, x in enumerate(samples[:count].float().cpu().numpy()):
            try:
                out = spectrogram_to_audio(x[0], audio)
            except ImportError as e:  # Griffin-Lim needs librosa: a machine that only trains may lack it
                if not self.audio_skipped:
                    warnings.warn(f"no audio in TensorBoard: {e}")
                self.audio_skipped = True
                return
            if out is None:
                return
            wave, rate = out
            self.writer.add_audio(f"{tag}/{i}", torch.from_numpy(wave)[None], step, sample_rate=rate)

    def hparams_start(self, hparams: dict[str, Any], metric_tags: list[str]) -> None:
        """The HParams tab's entry for this trial, written when it starts: its hyperparameters and the
        scalar tags TensorBoard shows as its metrics (their last logged values). A trial that a scheduler
        stops early thus keeps its row, with the metrics of its last epoch."""
        if self.writer is None:
            return
        simple = {k: v for k, v in hparams.items() if isinstance(v, (int, float, str, bool))}
        experiment, session_start, _ = tb_hparams(simple, dict.fromkeys(metric_tags, 0.0))
        self.writer.file_writer.add_summary(experiment)
        self.writer.file_writer.add_summary(session_start)
        self.writer.flush()

    def hparams_end(self) -> None:
        """Mark the trial's HParams session as finished (status success): it ran to its last epoch."""
        if self.writer is None:
            return
        _, _, session_end = tb_hparams({}, {})
        self.writer.file_writer.add_summary(session_end)

    def flush(self) -> None:
        """Write pending events to disk (a worker can be killed right after)."""
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

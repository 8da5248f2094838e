"""Listen to generated audio-column samples, whatever the corpus's representation.

data_prep knows how it built the audio column (``manifest["audio"]``: normalized log-mel, folded
waveform, or a second image domain) and owns the inverse (``data_prep.features.to_waveform``:
Griffin-Lim for log-mel, unfolding for folded waveforms, None for images).
"""
from __future__ import annotations

import numpy as np


def spectrogram_to_audio(x: np.ndarray, audio: dict, n_iter: int = 32) -> tuple[np.ndarray, int] | None:
    """One generated [H, W] audio-column sample -> (waveform float32 in [-1, 1], sample rate), or None."""
    from data_prep.features import to_waveform

    out = to_waveform(np.clip(x, -1.0, 1.0), audio, n_iter)
    if out is None:
        return None
    wave, rate = out
    peak = float(np.abs(wave).max())
    return (wave / peak * 0.9 if peak > 0 else wave).astype(np.float32), int(rate)

"""Listen to generated spectrograms: invert the corpus's normalized log-mel with Griffin-Lim.

The manifest's ``audio.features`` holds the parameters data_prep used; data_prep's own inverse of
its normalization (``log_mel_to_power``) turns the spectrogram back into mel power.
"""
from __future__ import annotations

import numpy as np


def spectrogram_to_audio(x: np.ndarray, features: dict, n_iter: int = 32) -> np.ndarray:
    """A [n_mels, frames] normalized log-mel -> a waveform (float32 in [-1, 1]) by Griffin-Lim."""
    import librosa

    from data_prep.features import LogMelConfig, log_mel_to_power

    cfg = LogMelConfig(**{k: v for k, v in features.items() if k in LogMelConfig.__dataclass_fields__})
    power = log_mel_to_power(np.clip(x, -1.0, 1.0), cfg)
    wave = librosa.feature.inverse.mel_to_audio(
        power, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, fmin=cfg.fmin, fmax=cfg.fmax,
        power=2.0, n_iter=n_iter,
    )
    peak = float(np.abs(wave).max())
    return (wave / peak * 0.9 if peak > 0 else wave).astype(np.float32)

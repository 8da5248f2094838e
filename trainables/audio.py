"""Listen to generated spectrograms: invert the corpus's normalized log-mel with Griffin-Lim.

The manifest's ``audio.features`` holds the parameters data_prep used; its normalization is
``x = 1 + 2 * dB / top_db`` with dB relative to the clip's peak, so ``P / max(P) = 10 ** ((x - 1) * top_db / 20)``.
"""
from __future__ import annotations

import numpy as np


def log_mel_to_power(x: np.ndarray, top_db: float) -> np.ndarray:
    """Normalized log-mel in [-1, 1] -> mel power relative to the peak."""
    return np.power(10.0, (np.clip(x, -1.0, 1.0) - 1.0) * top_db / 20.0)


def spectrogram_to_audio(x: np.ndarray, features: dict, n_iter: int = 32) -> np.ndarray:
    """A [n_mels, frames] normalized log-mel -> a waveform (float32 in [-1, 1]) by Griffin-Lim."""
    import librosa

    power = log_mel_to_power(np.asarray(x, np.float64), float(features["top_db"]))
    wave = librosa.feature.inverse.mel_to_audio(
        power, sr=int(features["sample_rate"]), n_fft=int(features["n_fft"]),
        hop_length=int(features["hop_length"]), fmin=float(features.get("fmin", 0.0)),
        fmax=features.get("fmax"), power=2.0, n_iter=n_iter,
    )
    peak = float(np.abs(wave).max())
    return (wave / peak * 0.9 if peak > 0 else wave).astype(np.float32)

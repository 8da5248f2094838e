"""Log-mel features: each clip becomes a float32 [n_mels, frames] image in [-1, 1].

Normalization (invertible up to the clip's unknown peak power and the -top_db floor):
    P    = librosa mel power spectrogram (power 2, center=True, hann window)
    dB   = 10 * log10(max(P / max(P), 10 ** (-top_db / 10)))        in [-top_db, 0]
    x    = 1 + 2 * dB / top_db                                       in [-1, 1]
Inverse: P / max(P) = 10 ** ((x - 1) * top_db / 20)  (see ``log_mel_to_power``).
Relative to the clip's own peak, so the features do not depend on the recording level.
Time axis: clips shorter than ``frames`` are padded on the right with -1 (silence, the floor);
longer ones are center-cropped. The default hop (160 samples = 20 ms at 8 kHz) fits clips of up
to 47 * 160 = 7520 samples (0.94 s) whole, which covers every default espeak-ng clip.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SILENCE = -1.0


@dataclass
class LogMelConfig:
    sample_rate: int = 8000
    n_fft: int = 256
    hop_length: int = 160
    n_mels: int = 48
    frames: int = 48
    fmin: float = 0.0
    fmax: float = 4000.0
    top_db: float = 80.0

    def __post_init__(self) -> None:
        for k in ("sample_rate", "n_fft", "hop_length", "n_mels", "frames"):
            v = getattr(self, k)
            if isinstance(v, bool) or int(v) != v or v <= 0:
                raise ValueError(f"logmel.{k} must be a positive integer, got {v!r}")
            setattr(self, k, int(v))
        for k in ("fmin", "fmax", "top_db"):
            setattr(self, k, float(getattr(self, k)))
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(f"logmel needs 0 <= fmin < fmax <= sample_rate/2, got {self.fmin}, {self.fmax}")
        if self.top_db <= 0:
            raise ValueError(f"logmel.top_db must be > 0, got {self.top_db}")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def max_samples(self) -> int:
        """Longest clip that fits in ``frames`` without cropping."""
        return (self.frames - 1) * self.hop_length + self.hop_length - 1


def _fit_frames(x: np.ndarray, frames: int) -> np.ndarray:
    t = x.shape[1]
    if t >= frames:
        start = (t - frames) // 2
        return x[:, start:start + frames]
    return np.pad(x, ((0, 0), (0, frames - t)), constant_values=SILENCE)


def log_mel(wave: np.ndarray, cfg: LogMelConfig | None = None) -> np.ndarray:
    """Normalized log-mel spectrogram, float32 [n_mels, frames] in [-1, 1] (see module doc)."""
    import librosa

    cfg = cfg or LogMelConfig()
    y = np.asarray(wave, dtype=np.float32).reshape(-1)
    if y.size == 0:
        return np.full((cfg.n_mels, cfg.frames), SILENCE, np.float32)
    power = librosa.feature.melspectrogram(
        y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels,
        fmin=cfg.fmin, fmax=cfg.fmax, power=2.0, center=True,
    ).astype(np.float64)
    peak = float(power.max())
    if not peak > 0:
        x = np.full(power.shape, SILENCE)
    else:
        db = 10.0 * np.log10(np.maximum(power / peak, 10.0 ** (-cfg.top_db / 10.0)))
        x = 1.0 + 2.0 * db / cfg.top_db
    return np.clip(_fit_frames(x, cfg.frames), -1.0, 1.0).astype(np.float32)


def log_mel_to_power(x: np.ndarray, cfg: LogMelConfig | None = None) -> np.ndarray:
    """Inverse of the normalization: mel power relative to the clip's peak (1.0 at x = 1)."""
    cfg = cfg or LogMelConfig()
    return 10.0 ** ((np.asarray(x, np.float64) - 1.0) * cfg.top_db / 20.0)


def read_wave(path: str, sample_rate: int) -> np.ndarray:
    """Mono float32 samples of a sound file at ``sample_rate`` (resampled if it differs)."""
    import soundfile as sf

    y, sr = sf.read(path, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != sample_rate:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
    return y


def featurize_batch(batch: dict[str, np.ndarray], cfg: LogMelConfig) -> dict[str, np.ndarray]:
    """Ray Data ``map_batches`` UDF: reads ``batch["path"]`` wavs, adds ``audio`` float16
    [B, n_mels * frames] (row-major log-mel); the other columns pass through."""
    feats = np.stack([log_mel(read_wave(str(p), cfg.sample_rate), cfg).reshape(-1) for p in batch["path"]])
    return {**batch, "audio": feats.astype(np.float16)}

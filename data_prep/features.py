"""Features: normalized log-mel spectrograms, folded waveforms and normalized images.

Every feature is a float image in [-1, 1] (stored float16); images themselves are uint8.

Log-mel (``LogMelConfig``, 48x48 by default), invertible up to the clip's peak power and the floor:
    P    = mel power spectrogram (|STFT|^2, hann window, center=True with zero padding, slaney mel)
    dB   = 10 * log10(max(P / max(P), 10 ** (-top_db / 10)))        in [-top_db, 0]
    x    = 1 + 2 * dB / top_db                                       in [-1, 1]
Inverse: P / max(P) = 10 ** ((x - 1) * top_db / 20)  (see ``log_mel_to_power``), then Griffin-Lim.
Relative to the clip's own peak, so the features do not depend on the recording level.
Time axis: clips shorter than ``frames`` are padded on the right with -1 (silence, the floor);
longer ones are center-cropped. The default hop (160 samples = 20 ms at 8 kHz) fits clips of up
to 47 * 160 = 7520 samples (0.94 s) whole, which covers every default espeak-ng clip.
``log_mel_batch`` computes a whole batch with one framed FFT and one matrix product (same numbers
as librosa's ``melspectrogram``, ~20x faster than one librosa call per clip).

Folded waveform (``FoldedWaveConfig``, the SyncGAN paper's instruments recipe): a ``window`` of 512
samples cut from the clip (seeded position among its loud windows), down-sampled to ``values`` = 128
by averaging groups of 4, scaled by its peak, then drawn as a ``height`` x ``values`` = 64x128 image:
column j holds value v_j as an anti-aliased dot at row position p = (1 - v_j) / 2 * (height - 1)
(top = +1), split between the two nearest rows, rescaled from [0, 1] to [-1, 1]. Inverse
(``unfold_waveform``): per column the intensity-weighted mean row, exact up to float16.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

SILENCE = -1.0
SILENT_PEAK = 1e-4  # a clip whose peak amplitude is below this is "silent" and quarantined
IMAGE_SCALE = "x/127.5-1"
_CHUNK = 64  # clips per framed FFT in log_mel_batch
_BLOCK = 1024  # frames per FFT block when a long clip's peak is sought
_LONG_CLIP = 8  # featurize_batch: a clip over 8 windows (``max_samples``) is featurized as soon as it is read


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
    def shape(self) -> tuple[int, int]:
        return self.n_mels, self.frames

    @property
    def max_samples(self) -> int:
        """Longest clip that fits in ``frames`` without cropping."""
        return (self.frames - 1) * self.hop_length + self.hop_length - 1


@dataclass
class FoldedWaveConfig:
    sample_rate: int = 16000
    window: int = 512
    values: int = 128
    height: int = 64
    windows_per_clip: int = 1  # distinct windows cut from each file (each one audio unit)
    min_loudness: float = 0.5  # a window qualifies when its RMS >= this share of the clip's loudest window

    def __post_init__(self) -> None:
        for k in ("sample_rate", "window", "values", "height", "windows_per_clip"):
            v = getattr(self, k)
            if isinstance(v, bool) or int(v) != v or v <= 0:
                raise ValueError(f"folded.{k} must be a positive integer, got {v!r}")
            setattr(self, k, int(v))
        if self.window % self.values:
            raise ValueError(f"folded.window ({self.window}) must be a multiple of folded.values ({self.values})")
        if self.height < 2:
            raise ValueError(f"folded.height must be >= 2, got {self.height}")
        if not 0.0 <= float(self.min_loudness) <= 1.0:
            raise ValueError(f"folded.min_loudness must be in [0, 1], got {self.min_loudness!r}")
        self.min_loudness = float(self.min_loudness)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.values


# --------------------------------------------------------------------------- log-mel
@lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float64)


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)  # periodic, as librosa's "hann"


def _fit_frames(x: np.ndarray, frames: int) -> np.ndarray:
    t = x.shape[1]
    if t >= frames:
        start = (t - frames) // 2
        return x[:, start:start + frames]
    return np.pad(x, ((0, 0), (0, frames - t)), constant_values=SILENCE)


def log_mel_batch(waves: list[np.ndarray], cfg: LogMelConfig | None = None) -> np.ndarray:
    """Normalized log-mel spectrograms of clips of any lengths, float32 [B, n_mels, frames] in [-1, 1].

    Only the frames a clip keeps (its own ``frames``-long center crop, or all of a shorter clip) are
    computed with the batch's other clips, ``_CHUNK`` clips per framed FFT; a longer clip's peak power
    (the normalization's reference) is found block by block (``_BLOCK`` frames). So memory is bounded by
    ``frames`` and the block, not by the longest clip: a 10-minute clip no longer pads the whole batch
    to its length (8 GB for one chunk at 16 kHz).
    """
    cfg = cfg or LogMelConfig()
    waves = [np.asarray(w, dtype=np.float32).reshape(-1) for w in waves]
    out = np.full((len(waves), cfg.n_mels, cfg.frames), SILENCE, np.float32)
    own = [1 + w.size // cfg.hop_length if w.size else 0 for w in waves]  # center=True frames of each clip
    first = [max(0, (t - cfg.frames) // 2) for t in own]  # the center crop (``_fit_frames``)
    kept = [min(t, cfg.frames) for t in own]
    floor = 10.0 ** (-cfg.top_db / 10.0)
    n = max(kept, default=0)  # one frame count for every chunk: BLAS rounds a few-row product otherwise
    for c in range(0, len(waves), _CHUNK):
        part = [i for i in range(c, min(c + _CHUNK, len(waves))) if own[i]]
        if not part:
            continue
        power = _mel_power([_frames_of(waves[i], first[i], n, cfg) for i in part], n, cfg)
        for j, i in enumerate(part):
            p = power[j, :kept[i]].T.astype(np.float64)
            peak = float(p.max())
            if own[i] > kept[i]:  # cropped: the peak may lie outside the kept frames
                peak = max(peak, _peak_power(waves[i], own[i], cfg))
            if not peak > 0:
                continue
            x = 1.0 + 2.0 * (10.0 * np.log10(np.maximum(p / peak, floor))) / cfg.top_db
            out[i] = np.clip(_fit_frames(x, cfg.frames), -1.0, 1.0)
    return out


def _frames_of(w: np.ndarray, first: int, n: int, cfg: LogMelConfig) -> np.ndarray:
    """The samples behind frames ``first .. first + n - 1`` of clip ``w`` (center=True: the clip starts
    n_fft // 2 samples into the zero-padded signal), zeros beyond the clip."""
    length = (n - 1) * cfg.hop_length + cfg.n_fft
    lo = first * cfg.hop_length - cfg.n_fft // 2
    seg = np.zeros(length, np.float32)
    a, b = max(lo, 0), min(lo + length, w.size)
    if b > a:
        seg[a - lo:b - lo] = w[a:b]
    return seg


def _mel_power(segments: list[np.ndarray], n: int, cfg: LogMelConfig) -> np.ndarray:
    """Mel power of ``n`` frames of each segment (``_frames_of``), float32 [len(segments), n, n_mels]."""
    import scipy.fft

    mel = _mel_basis(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax).astype(np.float32).T
    window = _hann(cfg.n_fft).astype(np.float32)
    framed = np.lib.stride_tricks.sliding_window_view(np.stack(segments), cfg.n_fft, axis=1)[:, ::cfg.hop_length][:, :n]
    spec = scipy.fft.rfft(framed * window, axis=2)
    return (spec.real ** 2 + spec.imag ** 2) @ mel


def _peak_power(w: np.ndarray, frames: int, cfg: LogMelConfig) -> float:
    """The largest mel power over all ``frames`` frames of clip ``w``, ``_BLOCK`` frames at a time."""
    peak = 0.0
    for first in range(0, frames, _BLOCK):
        n = min(_BLOCK, frames - first)
        peak = max(peak, float(_mel_power([_frames_of(w, first, n, cfg)], n, cfg).max()))
    return peak


def log_mel(wave: np.ndarray, cfg: LogMelConfig | None = None) -> np.ndarray:
    """Normalized log-mel spectrogram of one clip, float32 [n_mels, frames] in [-1, 1] (see module doc)."""
    return log_mel_batch([wave], cfg)[0]


def log_mel_to_power(x: np.ndarray, cfg: LogMelConfig | None = None) -> np.ndarray:
    """Inverse of the normalization: mel power relative to the clip's peak (1.0 at x = 1)."""
    cfg = cfg or LogMelConfig()
    return 10.0 ** ((np.asarray(x, np.float64) - 1.0) * cfg.top_db / 20.0)


def log_mel_to_audio(x: np.ndarray, cfg: LogMelConfig | None = None, n_iter: int = 32) -> np.ndarray:
    """A normalized log-mel [n_mels, frames] -> waveform (float32, peak 0.9) by Griffin-Lim."""
    import librosa

    cfg = cfg or LogMelConfig()
    power = log_mel_to_power(np.clip(np.asarray(x, np.float32), -1.0, 1.0), cfg)
    wave = librosa.feature.inverse.mel_to_audio(
        power, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, fmin=cfg.fmin, fmax=cfg.fmax,
        power=2.0, n_iter=n_iter)
    peak = float(np.abs(wave).max())
    return (wave / peak * 0.9 if peak > 0 else wave).astype(np.float32)


# --------------------------------------------------------------------------- folded waveform
def _window_start(y: np.ndarray, cfg: FoldedWaveConfig, rng: np.random.Generator) -> int:
    if y.size <= cfg.window:
        return 0
    hop = max(1, cfg.window // 4)
    starts = np.arange(0, y.size - cfg.window + 1, hop)
    csum = np.concatenate([[0.0], np.cumsum(y.astype(np.float64) ** 2)])
    rms = np.sqrt((csum[starts + cfg.window] - csum[starts]) / cfg.window)
    loud = starts[rms >= cfg.min_loudness * rms.max()]
    return int(loud[rng.integers(0, loud.size)])


def fold_waveform(values: np.ndarray, height: int) -> np.ndarray:
    """Values in [-1, 1], shape [..., W] -> images [..., height, W] in [-1, 1] (anti-aliased dots)."""
    v = np.clip(np.asarray(values, np.float64), -1.0, 1.0)
    pos = (1.0 - v) / 2.0 * (height - 1)
    lo = np.minimum(np.floor(pos).astype(np.int64), height - 2)
    frac = pos - lo
    rows = np.arange(height).reshape((1,) * (v.ndim - 1) + (height, 1))
    img = (rows == lo[..., None, :]) * (1.0 - frac[..., None, :]) + (rows == lo[..., None, :] + 1) * frac[..., None, :]
    return (2.0 * img - 1.0).astype(np.float32)


def unfold_waveform(image: np.ndarray) -> np.ndarray:
    """Inverse of ``fold_waveform``: [..., height, W] -> values [..., W] in [-1, 1]."""
    x = np.clip((np.asarray(image, np.float64) + 1.0) / 2.0, 0.0, None)
    height = x.shape[-2]
    rows = np.arange(height, dtype=np.float64)[:, None]
    weight = x.sum(axis=-2)
    pos = np.where(weight > 0, (x * rows).sum(axis=-2) / np.maximum(weight, 1e-12), (height - 1) / 2.0)
    return (1.0 - 2.0 * pos / (height - 1)).astype(np.float32)


def folded_windows(y: np.ndarray, cfg: FoldedWaveConfig, key: str, seed: int = 0) -> np.ndarray:
    """``windows_per_clip`` folded windows of one clip, float32 [K, height, values]; the positions
    depend only on (seed, key) so a rebuild gives the same windows."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    y = np.asarray(y, np.float64).reshape(-1)
    if y.size < cfg.window:
        y = np.pad(y, (0, cfg.window - y.size))
    out = []
    for _ in range(cfg.windows_per_clip):
        s = _window_start(y, cfg, rng)
        v = y[s:s + cfg.window].reshape(cfg.values, -1).mean(axis=1)
        peak = float(np.abs(v).max())
        out.append(fold_waveform(v / peak if peak > 0 else v, cfg.height))
    return np.stack(out)


def folded_to_audio(image: np.ndarray, cfg: FoldedWaveConfig | None = None) -> np.ndarray:
    """A folded waveform image -> ``window`` samples at ``sample_rate`` (linear up-sampling), float32."""
    cfg = cfg or FoldedWaveConfig()
    v = unfold_waveform(image)
    t = (np.arange(cfg.window) + 0.5) * cfg.values / cfg.window - 0.5
    return (0.9 * np.interp(t, np.arange(cfg.values), v)).astype(np.float32)


# --------------------------------------------------------------------------- reading and images
def read_wave(path: str, sample_rate: int) -> tuple[np.ndarray, int]:
    """Mono float32 samples of a sound file at ``sample_rate`` (resampled if it differs) and the
    file's own rate. Raises ValueError naming the file if it cannot be decoded or is empty."""
    import soundfile as sf

    try:  # the name's bytes: soundfile encodes a str name as strict UTF-8, which a Latin-1 name fails
        y, sr = sf.read(os.fsencode(path) if os.name == "posix" else path, dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise ValueError(f"{path}: unreadable audio ({type(e).__name__}: {e})") from e
    if y.shape[0] == 0:
        raise ValueError(f"{path}: empty audio file (0 samples)")
    y = y.mean(axis=1)
    if sr != sample_rate:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
    return y, int(sr)


def load_image(path: str, size: int | None) -> np.ndarray:
    """A grayscale uint8 [H, W] image; ``size``: center-cropped to a square and resized to size x size.
    Raises ValueError naming the file when it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            g = im.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"{path}: unreadable image ({type(e).__name__}: {e})") from e
    if size is not None:
        w, h = g.size
        s = min(w, h)
        g = g.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        g = g.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(g, dtype=np.uint8)


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 [N, h, w] -> uint8 [N, size, size] (bicubic; used to bring 8x8 digits to MNIST size)."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BICUBIC)) for im in images])


def image_to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float in [-1, 1] (``x/127.5-1``), the scale readers use."""
    return np.asarray(images, np.float32) / 127.5 - 1.0


# --------------------------------------------------------------------------- Ray Data batch UDF
def featurize_batch(batch: dict[str, np.ndarray], cfg: LogMelConfig | FoldedWaveConfig | int,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """Ray Data ``map_batches`` UDF (also the single-process path): one batch of files -> features.

    ``batch["path"]`` and ``batch["audio_id"]`` name the inputs; ``cfg`` says what to compute:
    ``LogMelConfig`` (audio -> log-mel), ``FoldedWaveConfig`` (audio -> ``windows_per_clip`` rows
    each, ids ``<audio_id>@<k>``) or an int ``size`` (image file -> uint8 size x size).
    Output columns: ``audio`` (float16 / uint8 rows, flattened), ``audio_id``, ``source_id`` (the
    input's id), ``error`` ("" or why the file is quarantined), ``sample_rate`` (the file's own
    rate; 0 for images) and every other input column passed through. A bad file never raises: it
    yields one row with ``error`` set and zeros.
    """
    n = len(batch["path"])
    extra = {k: v for k, v in batch.items() if k not in ("path", "audio_id")}
    ids = [str(a) for a in batch["audio_id"]]
    errors, rates, data, goods = [""] * n, [0] * n, [None] * n, []
    if isinstance(cfg, int):
        for i, p in enumerate(batch["path"]):
            try:
                data[i] = load_image(str(p), cfg)[None]
            except ValueError as e:
                errors[i] = str(e)
        width, dtype, per = cfg * cfg, np.uint8, [1] * n
    else:
        waves = [None] * n
        for i, p in enumerate(batch["path"]):
            try:
                y, rates[i] = read_wave(str(p), cfg.sample_rate)
                peak = float(np.abs(y).max())
                if not peak >= SILENT_PEAK:
                    raise ValueError(f"{p}: silent clip (peak amplitude {peak:.2g} < {SILENT_PEAK:g})")
                if isinstance(cfg, LogMelConfig) and y.size > _LONG_CLIP * cfg.max_samples:
                    data[i] = log_mel_batch([y], cfg)  # now: the batch holds no long clip's samples
                else:
                    waves[i] = y
                    goods.append(i)
            except ValueError as e:
                errors[i] = str(e)
        if isinstance(cfg, LogMelConfig):
            mels = log_mel_batch([waves[i] for i in goods], cfg)
            for j, i in enumerate(goods):
                data[i] = mels[j][None]
            per = [1] * n
        else:
            for i in goods:
                data[i] = folded_windows(waves[i], cfg, ids[i], seed)
            per = [cfg.windows_per_clip if not errors[i] else 1 for i in range(n)]
        width, dtype = int(np.prod(cfg.shape)), np.float16
    rows = np.zeros((sum(per), width), dtype)
    out_ids, src, err, sr, idx = [], [], [], [], []
    r = 0
    for i in range(n):
        if data[i] is not None:
            rows[r:r + per[i]] = data[i].reshape(per[i], -1)
        many = isinstance(cfg, FoldedWaveConfig) and not errors[i]
        for k in range(per[i]):
            out_ids.append(f"{ids[i]}@{k}" if many else ids[i])
            src.append(ids[i]), err.append(errors[i]), sr.append(rates[i]), idx.append(i)
        r += per[i]
    out = {k: np.asarray(v)[idx] for k, v in extra.items()}
    out.update(audio=rows, audio_id=np.array(out_ids, dtype=object), source_id=np.array(src, dtype=object),
               error=np.array(err, dtype=object), sample_rate=np.array(sr, np.int64))
    return out


def to_waveform(x: np.ndarray, audio: dict, n_iter: int = 32) -> tuple[np.ndarray, int] | None:
    """Listen to one audio-column value: (waveform, sample rate), dispatching on the manifest's
    ``audio["representation"]`` (log_mel: Griffin-Lim; folded_waveform: unfold); None for images."""
    rep = audio.get("representation", "log_mel")
    feats = audio.get("features", {})
    if rep == "log_mel":
        cfg = LogMelConfig(**{k: v for k, v in feats.items() if k in LogMelConfig.__dataclass_fields__})
        return log_mel_to_audio(x, cfg, n_iter), cfg.sample_rate
    if rep == "folded_waveform":
        cfg = FoldedWaveConfig(**{k: v for k, v in feats.items() if k in FoldedWaveConfig.__dataclass_fields__})
        return folded_to_audio(x, cfg), cfg.sample_rate
    return None


def featurize_like_corpus(path: str, manifest: dict, modality: str) -> np.ndarray:
    """One file of a user's, featurized exactly as the corpus of ``manifest`` featurizes that modality:
    float32 [H, W] in [-1, 1]. ``modality`` "image" (any size: center-cropped and resized like the
    class-folder corpora) or "audio" (any sample rate and length: resampled, then log-mel or a folded
    window with the corpus's parameters; a second image domain is read as an image). Raises ValueError
    naming the file when it cannot be read, is silent, or the corpus's representation is unknown."""
    from pathlib import Path

    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file")
    if modality == "image":
        h, w = manifest["image"]["shape"]
        return image_to_unit(load_image(path, h) if h == w else _resized(load_image(path, None), h, w))
    audio = manifest.get("audio", {})
    rep, feats = audio.get("representation", "log_mel"), audio.get("features", {})
    if rep == "image":
        h, w = manifest["audio"]["shape"]
        return image_to_unit(load_image(path, h) if h == w else _resized(load_image(path, None), h, w))
    if rep == "log_mel":
        cfg: LogMelConfig | FoldedWaveConfig = LogMelConfig(**{k: v for k, v in feats.items() if k in LogMelConfig.__dataclass_fields__})
    elif rep == "folded_waveform":
        cfg = FoldedWaveConfig(**{k: v for k, v in feats.items() if k in FoldedWaveConfig.__dataclass_fields__})
    else:
        raise ValueError(f"{path}: the corpus's audio representation {rep!r} cannot be computed from a file")
    y, _ = read_wave(path, cfg.sample_rate)
    peak = float(np.abs(y).max())
    if not peak >= SILENT_PEAK:
        raise ValueError(f"{path}: silent clip (peak amplitude {peak:.2g} < {SILENT_PEAK:g}): nothing to translate")
    if isinstance(cfg, LogMelConfig):
        return log_mel(y, cfg)
    return folded_windows(y, cfg, key=str(path))[0]


def _resized(image: np.ndarray, h: int, w: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.LANCZOS), dtype=np.uint8)

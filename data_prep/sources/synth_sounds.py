"""Non-speech sound families synthesized with NumPy, offline: tones, chords, noises, clicks, sweeps.

Each family is one class; every clip draws its own pitch (over two octaves), loudness (-24..0 dB),
note length, envelope and a faint noise floor from a seeded generator, so a class is a kind of sound,
not one waveform. Files: ``<out>/<family>/<family>_<k>.wav`` (mono, 16-bit).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

Synth = Callable[[np.random.Generator, np.ndarray, float], np.ndarray]


def _pitch(rng: np.random.Generator, low: float = 110.0, octaves: float = 2.0) -> float:
    return float(low * 2.0 ** rng.uniform(0.0, octaves))


def _harmonics(t: np.ndarray, f0: float, weights: list[float]) -> np.ndarray:
    return sum(w * np.sin(2 * np.pi * f0 * (k + 1) * t) for k, w in enumerate(weights))


def _sine(rng, t, sr):
    return np.sin(2 * np.pi * _pitch(rng, 220.0) * t)


def _square(rng, t, sr):  # odd harmonics, 1/k: a hollow, reedy tone
    f0 = _pitch(rng, 110.0)
    return _harmonics(t, f0, [1.0 / (k + 1) if k % 2 == 0 else 0.0 for k in range(min(15, int(sr / 2 / f0)))])


def _chord(rng, t, sr):  # a major or minor triad of soft harmonic tones
    f0 = _pitch(rng, 130.0)
    third = 4 if rng.random() < 0.5 else 3
    return sum(_harmonics(t, f0 * 2 ** (s / 12), [1.0, 0.4, 0.2]) for s in (0, third, 7)) / 3


def _noise(rng, t, sr):  # band-passed white noise around a drawn centre frequency
    x = rng.standard_normal(t.size)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(t.size, 1 / sr)
    centre, width = _pitch(rng, 300.0, 3.0), rng.uniform(0.2, 0.6)
    spec *= np.exp(-0.5 * (np.log2(np.maximum(f, 1.0) / centre) / width) ** 2)
    return np.fft.irfft(spec, t.size)


def _clicks(rng, t, sr):  # a train of short decaying clicks at 4-20 per second
    rate = rng.uniform(4.0, 20.0)
    x = np.zeros(t.size)
    for start in np.arange(rng.uniform(0, 1 / rate), t[-1], 1 / rate):
        i = int(start * sr)
        n = min(int(0.004 * sr), t.size - i)
        x[i:i + n] += np.exp(-np.arange(n) / (0.001 * sr)) * rng.choice([-1.0, 1.0])
    return x


def _sweep(rng, t, sr):  # an exponential chirp up or down over one to three octaves
    f0, octaves = _pitch(rng, 200.0), rng.uniform(1.0, 3.0) * rng.choice([-1.0, 1.0])
    dur = t[-1] + 1 / sr
    k = octaves * np.log(2) / dur
    return np.sin(2 * np.pi * f0 * (np.expm1(k * t) / k))


def _pluck(rng, t, sr):  # Karplus-Strong plucked string
    period = max(2, int(sr / _pitch(rng, 110.0)))
    buf = rng.uniform(-1.0, 1.0, period)
    out = np.empty(t.size)
    for i in range(t.size):
        out[i] = buf[i % period]
        buf[i % period] = 0.996 * 0.5 * (buf[i % period] + buf[(i + 1) % period])
    return out


def _tremolo(rng, t, sr):  # a tone amplitude-modulated at 3-12 Hz
    return np.sin(2 * np.pi * _pitch(rng, 150.0) * t) * (1 + 0.8 * np.sin(2 * np.pi * rng.uniform(3, 12) * t)) / 1.8


FAMILIES: dict[str, Synth] = {"sine": _sine, "square": _square, "chord": _chord, "noise": _noise,
                              "clicks": _clicks, "sweep": _sweep, "pluck": _pluck, "tremolo": _tremolo}


def synthesize(family: str, rng: np.random.Generator, sample_rate: int, seconds: float) -> np.ndarray:
    """One clip of ``family``: the sound for a drawn length within ``seconds``, an attack/release
    envelope, a drawn loudness and a faint noise floor; float32 in [-1, 1]."""
    n = int(round(seconds * sample_rate))
    length = int(n * rng.uniform(0.5, 0.9))
    t = np.arange(length) / sample_rate
    x = FAMILIES[family](rng, t, sample_rate)
    attack, release = int(rng.uniform(0.005, 0.08) * sample_rate), int(rng.uniform(0.05, 0.3) * length)
    env = np.ones(length)
    env[:attack] = np.linspace(0.0, 1.0, attack)
    env[length - release:] *= np.linspace(1.0, 0.0, release)
    x = x * env / max(float(np.abs(x).max()), 1e-9)
    clip = np.zeros(n)
    start = int(rng.integers(0, n - length + 1))
    clip[start:start + length] = x * 10 ** (rng.uniform(-24.0, 0.0) / 20) * 0.9
    clip += rng.standard_normal(n) * 10 ** (-60 / 20)
    return np.clip(clip, -1.0, 1.0).astype(np.float32)


def write_family(out: Path, family: str, count: int, seed: int, sample_rate: int = 16000,
                 seconds: float = 1.5) -> list[Path]:
    """``count`` clips of ``family`` as wav files in ``out/family/``."""
    import soundfile as sf

    if family not in FAMILIES:
        raise ValueError(f"unknown sound family {family!r}; known: {', '.join(FAMILIES)}")
    rng = np.random.default_rng([seed, list(FAMILIES).index(family)])
    folder = out / family
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"{family}_{k:04d}.wav"
        sf.write(path, synthesize(family, rng, sample_rate, seconds), sample_rate, subtype="PCM_16")
        paths.append(path)
    return paths

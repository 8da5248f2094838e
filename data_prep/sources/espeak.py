"""Spoken digits synthesized offline with espeak-ng, written in the FSDD layout.

Each (voice, speed, pitch) is one "variant": the file ``{digit}_{speaker}_{index}.wav`` holds the
word for ``digit`` spoken by ``speaker`` (the voice name made filesystem-safe, ``en+m3`` -> ``en-m3``)
with variant ``index`` = position of (speed, pitch) in ``itertools.product(speeds, pitches)``.
Audio: mono, ``sample_rate`` Hz, leading/trailing silence trimmed, PCM_16.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TRIM_TOP_DB = 40.0


def espeak_binary() -> str:
    """Path of espeak-ng, or a FileNotFoundError saying how to install it."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng not found on PATH; install it: `apt-get install espeak-ng`")
    return exe


def espeak_version() -> str:
    """``espeak-ng --version`` without its data path, e.g. "eSpeak NG text-to-speech: 1.51"."""
    out = subprocess.run([espeak_binary(), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[0].split("  Data at:")[0].strip()


def speaker_name(voice: str) -> str:
    """Filesystem- and FSDD-safe speaker name of an espeak-ng voice (no ``_``): ``en+m3`` -> ``en-m3``."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", voice).strip("-")
    if not name:
        raise ValueError(f"voice {voice!r} gives an empty speaker name")
    return name


def _is_complete(path: Path) -> bool:
    import soundfile as sf  # imported where audio files are read or written: reading a built corpus needs none

    try:
        return sf.info(str(path)).frames > 0
    except Exception:  # unreadable or half-written: synthesize again
        return False


def _trim(y: np.ndarray, top_db: float = TRIM_TOP_DB) -> np.ndarray:
    """Drop leading/trailing samples quieter than ``top_db`` below the peak (espeak pads with zeros)."""
    peak = float(np.abs(y).max(initial=0.0))
    if peak == 0.0:
        return y
    loud = np.flatnonzero(np.abs(y) >= peak * 10 ** (-top_db / 20))
    return y[loud[0]: loud[-1] + 1]


def _synthesize_one(exe: str, word: str, voice: str, speed: int, pitch: int, sample_rate: int, dest: Path) -> Path:
    import librosa  # imported lazily: only synthesis needs it here
    import soundfile as sf

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".wav", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        cmd = [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(tmp), word]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"espeak-ng failed for voice {voice!r}: {(res.stderr or res.stdout).strip()}")
        y, sr = sf.read(str(tmp), dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        if sr != sample_rate:
            y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
        y = _trim(y)
        if y.size == 0 or not np.abs(y).max() > 0:
            raise RuntimeError(f"espeak-ng produced silence for {word!r} with voice {voice!r}")
        sf.write(str(tmp), np.clip(y, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)


def synthesize_digits(
    out_dir: str | Path,
    voices: Sequence[str],
    speeds: Sequence[int],
    pitches: Sequence[int],
    sample_rate: int = 8000,
    digits: Sequence[int] = range(10),
    workers: int | None = None,
) -> list[Path]:
    """Write every (digit, voice, speed, pitch) clip into ``out_dir``; complete files are reused.

    Returns the clip paths ordered by (digit, voice, variant). espeak-ng runs as concurrent
    subprocesses (``workers`` threads, default: one per core); each file appears atomically.
    """
    exe = espeak_binary()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    speakers = [speaker_name(v) for v in voices]
    if len(set(speakers)) != len(speakers):
        raise ValueError(f"voices {list(voices)} map to clashing speaker names {speakers}")
    variants = list(itertools.product(speeds, pitches))
    jobs, paths = [], []
    for d in digits:
        for voice, spk in zip(voices, speakers):
            for i, (speed, pitch) in enumerate(variants):
                dest = out / f"{d}_{spk}_{i}.wav"
                paths.append(dest)
                if not _is_complete(dest):
                    jobs.append((exe, WORDS[d], voice, int(speed), int(pitch), sample_rate, dest))
    if jobs:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            for f in [pool.submit(_synthesize_one, *j) for j in jobs]:
                f.result()
    return paths

"""Spoken digits from several offline speech engines and voices, written in the FSDD layout.

Engines (Debian packages, installed by ``scripts/setup.sh``):
  * ``espeak``   espeak-ng, voice names with optional ``+variant`` (``en-us+f3``); variants are the
                 product of ``espeak_speeds`` (words per minute) x ``espeak_pitches`` (0..99);
  * ``flite``    flite's built-in voices ``kal``, ``kal16``, ``awb``, ``rms``, ``slt``; variants are
                 ``stretches`` (duration_stretch);
  * ``festival`` festival's ``text2wave`` with festvox voices (``kal_diphone``, ``ked_diphone``,
                 ``cmu_us_slt_arctic_hts``); variants are ``stretches`` (Duration_Stretch, which
                 HTS voices ignore).
A speaker is written ``engine:voice`` (``flite:slt``); its FSDD speaker id is
``engine-<voice made safe>`` (``flite-slt``, ``espeak-en-us-f3``), the file
``{digit}_{speaker id}_{variant}.wav``. Audio as ``data_prep.sources.espeak``: mono, ``sample_rate``
Hz, leading/trailing silence trimmed, PCM_16, each file written atomically, complete files reused.

Augmentation (``augment_clip``): seeded speed change (resampling, so pitch moves with it), pitch
shift, gain, additive white noise at a random SNR and a leading silence (time shift).
"""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from data_prep.sources.espeak import WORDS, _is_complete, _trim, espeak_binary, speaker_name

ENGINES = {"espeak": "espeak-ng", "flite": "flite", "festival": "text2wave"}
APT_PACKAGE = {"espeak": "espeak-ng", "flite": "flite",
               "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"}
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")


@dataclass(frozen=True)
class Speaker:
    engine: str
    voice: str

    @property
    def id(self) -> str:
        return f"{self.engine}-{speaker_name(self.voice)}"

    def __str__(self) -> str:
        return f"{self.engine}:{self.voice}"


def parse_speaker(spec: str) -> Speaker:
    """``"flite:slt"`` -> Speaker("flite", "slt"); a bare voice name is an espeak-ng voice."""
    engine, sep, voice = str(spec).partition(":")
    if not sep:
        engine, voice = "espeak", engine
    if engine not in ENGINES:
        raise ValueError(f"speaker {spec!r}: unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    if not voice:
        raise ValueError(f"speaker {spec!r}: empty voice name")
    if engine == "flite" and voice not in FLITE_VOICES:
        raise ValueError(f"speaker {spec!r}: flite has voices {', '.join(FLITE_VOICES)}")
    return Speaker(engine, voice)


def engine_binary(engine: str) -> str:
    exe = espeak_binary() if engine == "espeak" else shutil.which(ENGINES[engine])
    if exe is None:
        raise FileNotFoundError(f"{ENGINES[engine]} not found on PATH; install it: `apt-get install {APT_PACKAGE[engine]}`")
    return exe


def engine_versions(engines: Sequence[str]) -> dict[str, str]:
    """Version strings of the engines used (for the manifest and the synthesis cache key)."""
    out = {}
    for e in sorted(set(engines)):
        exe = engine_binary(e)
        if e == "espeak":
            from data_prep.sources.espeak import espeak_version

            out["espeak-ng"] = espeak_version()
        elif e == "flite":  # "  version: flite-2.2-current Sep 2018 (http://cmuflite.org)"
            r = subprocess.run([exe, "--version"], capture_output=True, text=True)
            lines = [x.strip() for x in (r.stdout + r.stderr).splitlines() if "version" in x]
            out["flite"] = lines[0].removeprefix("version:").strip() if lines else "flite (version unknown)"
        else:  # "festival: Festival Speech Synthesis System: 2.5.0:release December 2017"
            r = subprocess.run([shutil.which("festival") or "festival", "--version"], capture_output=True, text=True)
            text = (r.stdout + r.stderr).strip()
            out["festival"] = text.splitlines()[0].split("festival: ", 1)[-1] if text else "festival (version unknown)"
    return out


def variants(engine: str, espeak_speeds: Sequence[int], espeak_pitches: Sequence[int],
             stretches: Sequence[float]) -> list[tuple]:
    if engine == "espeak":
        return list(itertools.product(espeak_speeds, espeak_pitches))
    return [(float(s),) for s in stretches]


def _command(exe: str, spk: Speaker, word: str, variant: tuple, wav: Path, txt: Path) -> list[str]:
    if spk.engine == "espeak":
        speed, pitch = variant
        return [exe, "-v", spk.voice, "-s", str(int(speed)), "-p", str(int(pitch)), "-w", str(wav), word]
    if spk.engine == "flite":
        return [exe, "-voice", spk.voice, "--setf", f"duration_stretch={variant[0]:g}", "-t", word, "-o", str(wav)]
    txt.write_text(word + "\n")
    return [exe, "-eval", f"(voice_{spk.voice})", "-eval", f"(Parameter.set 'Duration_Stretch {variant[0]:g})",
            str(txt), "-o", str(wav)]


def _synthesize_one(exe: str, spk: Speaker, word: str, variant: tuple, sample_rate: int, dest: Path) -> Path:
    import librosa
    import soundfile as sf  # imported where audio files are read or written: reading a built corpus needs none

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".wav", dir=dest.parent)
    os.close(fd)
    tmp, txt = Path(tmp_name), Path(tmp_name).with_suffix(".txt")
    try:
        res = subprocess.run(_command(exe, spk, word, variant, tmp, txt), capture_output=True, text=True)
        if res.returncode != 0 or not tmp.stat().st_size:
            raise RuntimeError(f"{spk.engine} failed for {spk} saying {word!r}: {(res.stderr or res.stdout).strip()[:300]}")
        try:
            y, sr = sf.read(str(tmp), dtype="float32", always_2d=True)
        except Exception as e:
            raise RuntimeError(f"{spk.engine} wrote no readable wav for {spk} saying {word!r} "
                               f"({(res.stderr or res.stdout).strip()[:300]})") from e
        y = y.mean(axis=1)
        if sr != sample_rate:
            y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
        y = _trim(y)
        if y.size == 0 or not np.abs(y).max() > 0:
            raise RuntimeError(f"{spk.engine} produced silence for {word!r} with voice {spk}")
        sf.write(str(tmp), np.clip(y, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
        txt.unlink(missing_ok=True)


def synthesize_speakers(out_dir: str | Path, speakers: Sequence[str], espeak_speeds: Sequence[int] = (130, 160, 190),
                        espeak_pitches: Sequence[int] = (35, 50, 65), stretches: Sequence[float] = (0.85, 1.0, 1.2),
                        sample_rate: int = 8000, digits: Sequence[int] = range(10),
                        workers: int | None = None) -> list[Path]:
    """Write every (digit, speaker, variant) clip into ``out_dir``; complete files are reused.

    Engines run as concurrent subprocesses (``workers`` threads, default one per core). Returns
    the paths ordered by (digit, speaker, variant)."""
    spks = [parse_speaker(s) for s in speakers]
    ids = [s.id for s in spks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"speakers {list(speakers)} map to clashing speaker ids {ids}")
    exes = {e: engine_binary(e) for e in {s.engine for s in spks}}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs, paths = [], []
    for d in digits:
        for spk in spks:
            for i, v in enumerate(variants(spk.engine, espeak_speeds, espeak_pitches, stretches)):
                dest = out / f"{d}_{spk.id}_{i}.wav"
                paths.append(dest)
                if not _is_complete(dest):
                    jobs.append((exes[spk.engine], spk, WORDS[d], v, sample_rate, dest))
    if jobs:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            for f in [pool.submit(_synthesize_one, *j) for j in jobs]:
                f.result()
    return paths


@dataclass
class AugmentConfig:
    """Ranges drawn uniformly per augmented copy (seeded by the clip's name and copy index)."""

    # augmented copies of every training clip; test clips are never augmented. Off by default: measured
    # on mnist_spoken (15 epochs, unseen speakers), 2 copies of speed+pitch+gain+noise+shift took the
    # audio judge from 0.955 to 0.888 (the noise floor is absent from every clean test clip), speed+shift
    # to 0.924, speed+pitch+shift to 0.952, all with noise at 40-60 dB SNR to 0.955: no gain.
    copies: int = 0
    speed: list[float] = field(default_factory=lambda: [0.85, 1.15])  # resampling factor (tempo and pitch together)
    pitch_semitones: list[float] = field(default_factory=lambda: [-3.0, 3.0])
    gain_db: list[float] = field(default_factory=lambda: [-12.0, 0.0])
    snr_db: list[float] = field(default_factory=lambda: [15.0, 40.0])  # white noise
    shift_ms: list[float] = field(default_factory=lambda: [0.0, 150.0])  # leading silence


def augment_clip(y: np.ndarray, sample_rate: int, cfg: AugmentConfig, key: str) -> np.ndarray:
    import librosa

    rng = np.random.default_rng(zlib.crc32(key.encode()))
    u = lambda r: float(rng.uniform(*r))  # noqa: E731
    speed, semis, gain, snr, shift = u(cfg.speed), u(cfg.pitch_semitones), u(cfg.gain_db), u(cfg.snr_db), u(cfg.shift_ms)
    y = np.asarray(y, np.float32)
    if abs(speed - 1.0) > 1e-3:
        y = librosa.resample(y, orig_sr=sample_rate * speed, target_sr=sample_rate, res_type="soxr_hq")
    if abs(semis) > 1e-3:
        y = librosa.effects.pitch_shift(y, sr=sample_rate, n_steps=semis, n_fft=256, hop_length=64)
    y = y * 10 ** (gain / 20)
    y = np.concatenate([np.zeros(int(shift / 1000 * sample_rate), np.float32), y])
    rms = float(np.sqrt(np.mean(y ** 2))) or 1e-4
    y = y + rng.normal(0, rms * 10 ** (-snr / 20), size=y.shape).astype(np.float32)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def augment_files(paths: Sequence[Path], out_dir: str | Path, cfg: AugmentConfig, sample_rate: int,
                  workers: int | None = None) -> list[Path]:
    """``cfg.copies`` augmented copies of each clip, ``{digit}_{speaker}_{100 * (variant + 1) + j}.wav``
    in ``out_dir`` (FSDD names; cached: complete files are reused). Returns them in input order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    todo, result = [], []
    for p in paths:
        d, spk, i = Path(p).stem.split("_")
        for j in range(cfg.copies):
            dest = out / f"{d}_{spk}_{100 * (int(i) + 1) + j}.wav"
            result.append(dest)
            if not _is_complete(dest):
                todo.append((Path(p), dest, j))

    def one(src: Path, dest: Path, j: int) -> None:
        import soundfile as sf

        y, sr = sf.read(str(src), dtype="float32")
        y = augment_clip(y, sr, cfg, f"{src.stem}/{j}")
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".wav", dir=out)
        os.close(fd)
        try:
            sf.write(tmp, y, sr, subtype="PCM_16", format="WAV")
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)

    if todo:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            for f in [pool.submit(one, *t) for t in todo]:
                f.result()
    return result

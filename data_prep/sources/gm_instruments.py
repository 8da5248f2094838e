"""Real sampled instrument notes, offline: General MIDI programs rendered by FluidSynth from a SoundFont.

Debian's ``fluid-soundfont-gm`` (FluidR3_GM.sf2) holds recorded samples of real instruments; ``fluidsynth``
renders one MIDI file per instrument holding every note (seeded pitch within the instrument's range,
velocity and length), with reverb and chorus off, and the notes are cut out of the rendering at
their known onsets. Files: ``<out>/<instrument>/<instrument>_<k>.wav`` (mono, ``sample_rate``).
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

# name: (General MIDI program, lowest and highest MIDI note of its usual range)
INSTRUMENTS: dict[str, tuple[int, int, int]] = {
    "piano": (0, 36, 96), "vibraphone": (11, 53, 89), "organ": (19, 36, 96), "nylon_guitar": (24, 40, 84),
    "acoustic_bass": (32, 28, 55), "violin": (40, 55, 88), "cello": (42, 36, 72), "harp": (46, 36, 96),
    "timpani": (47, 40, 57), "trumpet": (56, 55, 82), "trombone": (57, 40, 72), "tuba": (58, 28, 58),
    "french_horn": (60, 41, 77), "alto_sax": (65, 49, 80), "oboe": (68, 58, 91), "clarinet": (71, 50, 84),
    "flute": (73, 60, 96), "pan_flute": (75, 60, 96), "sitar": (104, 48, 77), "steel_drums": (114, 52, 76),
}
TICKS_PER_SECOND = 960  # 480 ticks per quarter note at the default 120 beats per minute


def _varlen(n: int) -> bytes:
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def midi_notes(program: int, notes: list[tuple[int, int, float]], slot: float) -> bytes:
    """A format-0 Standard MIDI File: ``program`` on channel 0, then note k = (pitch, velocity, seconds)
    starting at ``k * slot`` seconds (each note must end within its slot)."""
    track = b"\x00" + bytes([0xC0, program])
    for k, (pitch, velocity, seconds) in enumerate(notes):
        rest = 0 if k == 0 else slot - notes[k - 1][2]
        track += _varlen(int(round(rest * TICKS_PER_SECOND))) + bytes([0x90, pitch, velocity])
        track += _varlen(int(round(seconds * TICKS_PER_SECOND))) + bytes([0x80, pitch, 0])
    track += _varlen(int(round(slot * TICKS_PER_SECOND))) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_SECOND // 2)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def fluidsynth_available(soundfont: str = SOUNDFONT) -> str | None:
    """None when FluidSynth and the SoundFont are there, else what is missing (one line)."""
    if shutil.which("fluidsynth") is None:
        return "fluidsynth is not installed (Debian package fluidsynth)"
    if not Path(soundfont).is_file():
        return f"SoundFont {soundfont} not found (Debian package fluid-soundfont-gm)"
    return None


def render_instrument(out: Path, name: str, count: int, seed: int, sample_rate: int = 22050,
                      soundfont: str = SOUNDFONT, note_seconds: tuple[float, float] = (0.6, 2.0),
                      clip_seconds: float = 2.75) -> list[Path]:
    """``count`` notes of instrument ``name`` as wav files in ``out/name/``, each ``clip_seconds`` long
    (the note, then its release). Pitch, velocity (40-127) and note length are drawn with ``seed``."""
    import soundfile as sf

    missing = fluidsynth_available(soundfont)
    if missing:
        raise RuntimeError(missing)
    if name not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {name!r}; known: {', '.join(sorted(INSTRUMENTS))}")
    program, low, high = INSTRUMENTS[name]
    rng = np.random.default_rng([seed, program])
    notes = [(int(rng.integers(low, high + 1)), int(rng.integers(40, 128)), float(rng.uniform(*note_seconds)))
             for _ in range(count)]
    slot = clip_seconds + 0.25  # the note, its release within the clip, a margin
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "notes.mid", Path(tmp) / "notes.wav"
        mid.write_bytes(midi_notes(program, notes, slot))
        subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", str(sample_rate),
                        "-F", str(wav), soundfont, str(mid)], check=True, capture_output=True, timeout=600)
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    n = int(round(clip_seconds * sr))
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        start = int(round(k * slot * sr))
        clip = mono[start:start + n]
        if clip.size < n:
            clip = np.pad(clip, (0, n - clip.size))
        path = folder / f"{name}_{k:04d}.wav"
        sf.write(path, clip, sr, subtype="PCM_16")
        paths.append(path)
    return paths

"""Class-folder corpora synthesized offline: real sampled instrument notes (FluidSynth) or NumPy sound
families <-> drawn shapes, written as class folders and built the way a user's own folder is."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

import data_prep
from data_prep.corpora import config_from_dict
from data_prep.sources.gm_instruments import fluidsynth_available, render_instrument
from data_prep.sources.shape_images import SHAPES, draw_shape
from data_prep.sources.synth_sounds import FAMILIES, synthesize


def test_every_sound_family_is_a_clip_of_its_own_kind():
    rng = np.random.default_rng(0)
    clips = {f: synthesize(f, rng, 16000, 1.0) for f in FAMILIES}
    for family, clip in clips.items():
        assert clip.shape == (16000,) and clip.dtype == np.float32 and np.abs(clip).max() <= 1.0, family
        assert np.abs(clip).max() > 10 ** (-24 / 20) * 0.9 * 0.5, f"{family} is silent"
    # the families differ where a listener hears them differ: a tone's spectrum is peaked, noise's is not
    flat = lambda x: np.exp(np.log(np.abs(np.fft.rfft(x)) + 1e-9).mean()) / (np.abs(np.fft.rfft(x)).mean() + 1e-9)  # noqa: E731
    assert flat(clips["sine"]) < 0.5 * flat(clips["noise"])


def test_every_shape_is_drawn_differently_each_time():
    rng = np.random.default_rng(0)
    for kind in SHAPES:
        a, b = draw_shape(kind, rng, 48), draw_shape(kind, rng, 48)
        assert a.shape == (48, 48) and a.dtype == np.uint8 and a.max() > 120, kind
        assert not np.array_equal(a, b), kind


@pytest.mark.skipif(fluidsynth_available() is not None, reason="FluidSynth or its SoundFont is not installed")
def test_instrument_notes_are_real_renderings_of_the_asked_length(tmp_path):
    paths = render_instrument(tmp_path, "violin", 3, seed=0, sample_rate=22050, clip_seconds=1.5)
    assert [p.name for p in paths] == ["violin_0000.wav", "violin_0001.wav", "violin_0002.wav"]
    for p in paths:
        y, sr = sf.read(p)
        assert sr == 22050 and len(y) == int(round(1.5 * 22050))
        assert np.abs(y[: sr // 2]).max() > 1e-3  # the note sounds from its onset


def test_sounds_offline_builds_seven_unequal_classes_as_a_class_folder_corpus(ray_local, tmp_path):
    out = data_prep.build("sounds_offline", tmp_path, {"per_class": [40, 30, 24, 20, 16, 14, 12], "image_size": 32})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"]["image"] == ["chord", "clicks", "noise", "pluck", "sine", "sweep", "tremolo"]
    assert manifest["audio"]["representation"] == "folded_waveform" and manifest["image"]["shape"] == [32, 32]
    counts = {**manifest["splits"]["train"]["per_class"]}
    assert len(set(counts.values())) > 3  # the unequal sizes survive the build
    assert "shapes drawn" in manifest["image"]["source"] and "NumPy" in manifest["audio"]["source"]
    again = data_prep.build("sounds_offline", tmp_path, {"per_class": [40, 30, 24, 20, 16, 14, 12], "image_size": 32})
    assert again == out  # cached by config


@pytest.mark.skipif(fluidsynth_available() is not None, reason="FluidSynth or its SoundFont is not installed")
def test_instruments_offline_builds_the_papers_five_as_log_mel(ray_local, tmp_path):
    out = data_prep.build("instruments_offline", tmp_path, {"per_class": 12, "audio": "log_mel", "clip_seconds": 1.0})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"]["audio"] == sorted(["violin", "trumpet", "tuba", "clarinet", "alto_sax"])
    assert manifest["audio"]["representation"] == "log_mel" and manifest["image"]["shape"] == [64, 64]
    assert sum(manifest["splits"]["train"]["per_class"].values()) + manifest["splits"]["test"]["rows"] == 60


@pytest.mark.parametrize("overrides, message", [
    ({"root": "/data/mine"}, "root must stay empty"),
    ({"classes": ["violin", "kazoo"]}, "are not instruments sounds"),
    ({"per_class": [20, 20]}, "one count (>= 10) or one per class"),
    ({"shapes": ["circle", "circle", "star", "ring", "bars"]}, "one distinct shape per class"),
])
def test_bad_settings_are_one_line_naming_the_key(overrides, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_from_dict("instruments_offline", overrides)

import numpy as np
import pytest
import soundfile as sf

from data_prep.features import LogMelConfig, featurize_batch, log_mel, log_mel_to_power


def _tone(seconds=0.5, sr=8000, f=440.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f * t) * np.hanning(t.size) + 0.01 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)


def test_log_mel_shape_range_and_level_invariance():
    cfg = LogMelConfig()
    y = _tone()
    x = log_mel(y, cfg)
    assert x.shape == (48, 48) and x.dtype == np.float32
    assert x.min() >= -1 and x.max() == pytest.approx(1.0)
    for gain in (0.1, 3.0):
        assert np.allclose(log_mel(gain * y, cfg), x, atol=1e-4)


def test_log_mel_pads_with_silence_and_crops():
    cfg = LogMelConfig()
    short = log_mel(_tone(0.2), cfg)
    n = 1 + int(0.2 * 8000) // cfg.hop_length
    assert (short[:, n:] == -1).all() and (short[:, :n] > -1).any()
    long = log_mel(_tone(3.0), cfg)
    assert long.shape == (48, 48) and (long > -1).any(axis=0).all()
    assert (log_mel(np.zeros(4000), cfg) == -1).all() and (log_mel(np.zeros(0), cfg) == -1).all()
    assert cfg.max_samples >= 7000  # the longest default espeak clip (~7010 samples) fits whole


def test_normalization_is_invertible():
    import librosa

    cfg, y = LogMelConfig(), _tone(0.5)
    p = librosa.feature.melspectrogram(y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                       n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    rel = p / p.max()
    back = log_mel_to_power(log_mel(y, cfg)[:, :p.shape[1]], cfg)
    keep = rel > 10 ** (-cfg.top_db / 10)
    assert np.allclose(back[keep], rel[keep], rtol=1e-3)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="hop_length"):
        LogMelConfig(hop_length=0)
    with pytest.raises(ValueError, match="fmax"):
        LogMelConfig(fmax=5000)


def test_featurize_batch_reads_and_resamples(tmp_path):
    y = _tone(0.5)
    sf.write(tmp_path / "a.wav", y, 8000, subtype="PCM_16")
    import librosa

    sf.write(tmp_path / "b.wav", librosa.resample(y, orig_sr=8000, target_sr=16000), 16000, subtype="PCM_16")
    batch = {"path": np.array([str(tmp_path / "a.wav"), str(tmp_path / "b.wav")]), "audio_id": np.array(["a", "b"])}
    out = featurize_batch(batch, LogMelConfig())
    assert out["audio"].dtype == np.float16 and out["audio"].shape == (2, 48 * 48)
    assert list(out["audio_id"]) == ["a", "b"]
    assert np.abs(out["audio"][0].astype(np.float32) - out["audio"][1].astype(np.float32)).mean() < 0.05


def _librosa_log_mel(y, cfg):
    import librosa

    from data_prep.features import _fit_frames

    p = librosa.feature.melspectrogram(y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                       n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax).astype(np.float64)
    x = 1 + 2 * 10 * np.log10(np.maximum(p / p.max(), 10 ** (-cfg.top_db / 10))) / cfg.top_db
    return np.clip(_fit_frames(x, cfg.frames), -1, 1)


def test_batch_log_mel_matches_librosa_per_clip():
    from data_prep.features import log_mel_batch

    rng = np.random.default_rng(1)
    for cfg in (LogMelConfig(), LogMelConfig(n_mels=40, frames=30, hop_length=100, n_fft=512, fmin=50, top_db=60)):
        waves = [_tone(s, f=f) + 0.05 * rng.standard_normal(int(s * 8000)).astype(np.float32)
                 for s, f in ((0.1, 300), (0.5, 700), (0.9, 1200), (2.0, 500))]
        batch = log_mel_batch(waves, cfg)
        assert batch.shape == (4, cfg.n_mels, cfg.frames)
        for w, x in zip(waves, batch):
            assert np.abs(x - _librosa_log_mel(w, cfg)).max() < 1e-4


def test_folded_waveform_round_trip_and_windows():
    from data_prep.features import FoldedWaveConfig, fold_waveform, folded_to_audio, folded_windows, unfold_waveform

    v = np.sin(np.linspace(0, 9, 128)) * np.linspace(0.2, 1, 128)
    img = fold_waveform(v, 64)
    assert img.shape == (64, 128) and img.min() == -1 and img.max() <= 1
    assert ((img > -1).sum(axis=0) <= 2).all()  # one anti-aliased dot per column
    assert np.abs(unfold_waveform(img.astype(np.float16)) - v).max() < 2e-3
    assert unfold_waveform(fold_waveform(np.array([1.0, -1.0, 0.0]), 64)).tolist() == pytest.approx([1, -1, 0], abs=1e-6)
    cfg = FoldedWaveConfig(windows_per_clip=3)
    y = np.concatenate([np.zeros(4000), _tone(0.5, sr=16000, f=440), np.zeros(4000)])
    w = folded_windows(y, cfg, "clip", seed=0)
    assert w.shape == (3, 64, 128)
    vals = unfold_waveform(w)
    assert np.allclose(np.abs(vals).max(axis=1), 1.0, atol=0.05)  # peak-normalized, never a silent window
    assert np.array_equal(w, folded_windows(y, cfg, "clip", seed=0))
    assert not np.array_equal(w, folded_windows(y, cfg, "clip", seed=1))
    assert folded_to_audio(w[0], cfg).shape == (512,)
    with pytest.raises(ValueError, match="multiple"):
        FoldedWaveConfig(window=500)


def test_featurize_batch_quarantines_bad_files(tmp_path):
    from data_prep.features import FoldedWaveConfig

    sf.write(tmp_path / "good.wav", _tone(0.5), 8000, subtype="PCM_16")
    sf.write(tmp_path / "silent.wav", np.zeros(4000, np.float32), 8000, subtype="PCM_16")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 8000, subtype="PCM_16")
    names = ["good", "silent", "corrupt", "empty", "missing"]
    batch = {"path": np.array([str(tmp_path / f"{n}.wav") for n in names]), "audio_id": np.array(names),
             "label": np.arange(5)}
    out = featurize_batch(batch, LogMelConfig())
    err = dict(zip(out["audio_id"], out["error"]))
    assert err["good"] == "" and "silent clip" in err["silent"] and "silent.wav" in err["silent"]
    assert "unreadable audio" in err["corrupt"] and "corrupt.wav" in err["corrupt"]
    assert "empty" in err["empty"] and "missing.wav" in err["missing"]
    assert list(out["label"]) == [0, 1, 2, 3, 4] and (out["audio"][1:] == 0).all()
    folded = featurize_batch(batch, FoldedWaveConfig(sample_rate=8000, windows_per_clip=2))
    assert list(folded["audio_id"][:3]) == ["good@0", "good@1", "silent"]
    assert list(folded["source_id"][:2]) == ["good", "good"] and folded["audio"].shape == (6, 64 * 128)
    assert list(folded["label"]) == [0, 0, 1, 2, 3, 4]


def test_featurize_batch_images(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((30, 40, 3), 200, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out = featurize_batch({"path": np.array([str(tmp_path / "a.png"), str(tmp_path / "b.png")]),
                           "audio_id": np.array(["a", "b"])}, 16)
    assert out["audio"].dtype == np.uint8 and out["audio"].shape == (2, 256)
    assert (out["audio"][0] == 200).all() and out["error"][0] == ""
    assert "unreadable image" in out["error"][1] and "b.png" in out["error"][1]


def test_to_waveform_dispatches_on_representation():
    from data_prep.features import FoldedWaveConfig, fold_waveform, to_waveform

    wave, sr = to_waveform(log_mel(_tone(0.5)), {"representation": "log_mel", "features": LogMelConfig().to_dict()}, n_iter=4)
    assert sr == 8000 and wave.ndim == 1 and np.abs(wave).max() == pytest.approx(0.9, abs=1e-3)
    wave, sr = to_waveform(fold_waveform(np.zeros(128), 64), {"representation": "folded_waveform",
                                                             "features": FoldedWaveConfig().to_dict()})
    assert sr == 16000 and wave.shape == (512,)
    assert to_waveform(np.zeros((28, 28)), {"representation": "image"}) is None


def test_featurize_to_parquet_ray_and_single_agree(ray_local, tmp_path):
    import pyarrow.parquet as pq

    from data_prep.ray_featurize import featurize_to_parquet

    paths = []
    for i in range(12):
        p = tmp_path / "in" / f"{i % 10}_s_{i}.wav"
        p.parent.mkdir(exist_ok=True)
        sf.write(p, _tone(0.3, f=200 + 50 * i), 8000, subtype="PCM_16")
        paths.append(str(p))
    (tmp_path / "in" / "bad.wav").write_bytes(b"nope")
    paths.append(str(tmp_path / "in" / "bad.wav"))
    tables = {}
    for use_ray in (False, True):
        out = tmp_path / f"out-{use_ray}"
        assert featurize_to_parquet(paths, out, LogMelConfig(), batch_size=5, use_ray=use_ray) == 13
        tables[use_ray] = pq.read_table(out).sort_by("audio_id")
        assert len(list(out.glob("*.parquet"))) == 3
    assert tables[False].equals(tables[True])
    t = tables[True]
    assert t["error"].to_pylist().count("") == 12 and "unreadable" in t["error"].to_pylist()[t["audio_id"].to_pylist().index("bad")]
    row = t["audio_id"].to_pylist().index("3_s_3")
    x = np.frombuffer(t["audio"][row].as_py(), "<f2").reshape(48, 48)
    assert np.allclose(x, log_mel(sf.read(tmp_path / "in" / "3_s_3.wav")[0], LogMelConfig()), atol=2e-3)


def test_log_mel_batch_gives_the_same_features_however_the_clips_are_batched():
    from data_prep.features import log_mel_batch

    rng = np.random.default_rng(3)
    waves = [_tone(s, f=f) + 0.05 * rng.standard_normal(int(s * 8000)).astype(np.float32)
             for s, f in ((0.05, 300), (0.5, 700), (3.0, 1200), (40.0, 500), (0.0, 100))]
    waves[3][200_000:200_100] *= 8  # the loudest moment of the long clip lies outside its kept frames
    batch = log_mel_batch(waves)
    for w, x in zip(waves, batch):
        assert np.abs(x - log_mel_batch([w])[0]).max() < 1e-6
    assert np.array_equal(batch[3], log_mel_batch([waves[3]])[0])  # the long clip: computed the same way alone
    assert np.abs(batch[3] - _librosa_log_mel(waves[3], LogMelConfig())).max() < 1e-4


MEMORY_CEILING = r"""
import resource, sys
import numpy as np
from data_prep.features import LogMelConfig, featurize_batch

paths = sys.argv[1:]
featurize_batch({"path": np.array(paths[-1:]), "audio_id": np.array(["warm"])}, LogMelConfig())  # imports, FFT plans
vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (500 << 20), resource.RLIM_INFINITY))  # 500 MB more than now
out = featurize_batch({"path": np.array(paths), "audio_id": np.array([str(i) for i in range(len(paths))])}, LogMelConfig())
assert not any(out["error"]), out["error"]
np.save(sys.argv[1] + ".npy", out["audio"])
"""


def test_a_ten_minute_clip_is_featurized_within_a_memory_ceiling(tmp_path):
    """One 10-minute wav among 63 short clips in one Ray batch: the log-mel batch used to pad all 64 to its
    length (framed copy, FFT and power: several GB); within 500 MB over the warmed-up process it must work,
    and give the clip the same features as on its own."""
    import subprocess
    import sys
    from pathlib import Path

    from data_prep.features import log_mel_batch, read_wave

    long = tmp_path / "long.wav"
    sf.write(long, np.tile(_tone(1.0, f=330), 600), 8000, subtype="PCM_16")  # 10 minutes at 8 kHz
    short = []
    for i in range(63):
        short.append(tmp_path / f"short{i}.wav")
        sf.write(short[-1], _tone(0.6, f=300 + 20 * i), 8000, subtype="PCM_16")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", MEMORY_CEILING, str(long), *map(str, short)], cwd=root,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = np.load(str(long) + ".npy")
    assert np.array_equal(rows[0].reshape(48, 48), log_mel_batch([read_wave(str(long), 8000)[0]])[0].astype(np.float16))
    assert np.array_equal(rows[5].reshape(48, 48), log_mel_batch([read_wave(str(short[4]), 8000)[0]])[0].astype(np.float16))


def test_a_users_file_is_featurized_exactly_as_the_corpus_pipeline_does(tmp_path):
    """featurize_like_corpus (platform.generate --from-audio/--from-image) computes what the corpus
    build computes for the same file: resampled, then log-mel with the manifest's parameters; images
    center-cropped and resized to the corpus's size."""
    import soundfile
    from PIL import Image

    from data_prep.features import LogMelConfig, featurize_batch, featurize_like_corpus, image_to_unit, load_image

    rate = 44100
    t = np.arange(int(1.3 * rate)) / rate
    wav = tmp_path / "chirp.wav"
    soundfile.write(str(wav), (0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t)).astype(np.float32), rate)
    cfg = LogMelConfig(hop_length=100)
    manifest = {"image": {"shape": [28, 28]}, "audio": {"representation": "log_mel", "features": cfg.to_dict(), "shape": [48, 48]}}
    pipeline = featurize_batch({"path": np.array([str(wav)]), "audio_id": np.array(["a"])}, cfg)["audio"][0]
    mine = featurize_like_corpus(str(wav), manifest, "audio")
    assert mine.shape == (48, 48) and np.allclose(mine.reshape(-1), pipeline.astype(np.float32), atol=2e-3)
    png = tmp_path / "wide.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 90), dtype=np.uint8)).save(png)
    assert np.array_equal(featurize_like_corpus(str(png), manifest, "image"), image_to_unit(load_image(str(png), 28)))

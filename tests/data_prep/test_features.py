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

import numpy as np

from data_prep.features import LogMelConfig, log_mel_to_power
from trainables.audio import spectrogram_to_audio

FEATURES = {"sample_rate": 8000, "n_fft": 256, "hop_length": 160, "n_mels": 48, "fmin": 0.0, "fmax": 4000.0, "top_db": 80.0}


def test_log_mel_normalization_inverts():
    assert np.allclose(log_mel_to_power(np.array([1.0, -1.0]), LogMelConfig(top_db=80.0)), [1.0, 1e-8])


def test_griffin_lim_restores_a_tone_at_the_right_pitch():
    import librosa

    sr, f0 = 8000, 1000.0
    tone = np.sin(2 * np.pi * f0 * np.arange(int(0.9 * sr)) / sr)
    mel = librosa.feature.melspectrogram(y=tone, sr=sr, n_fft=256, hop_length=160, n_mels=48, fmin=0.0, fmax=4000.0)
    db = 10 * np.log10(np.maximum(mel / mel.max(), 1e-8))
    x = (1 + 2 * db / 80.0)[:, :45]
    wave, rate = spectrogram_to_audio(x, {"representation": "log_mel", "features": FEATURES})
    assert rate == sr
    assert wave.dtype == np.float32 and 0.5 < np.abs(wave).max() <= 1.0
    spectrum = np.abs(np.fft.rfft(wave))
    peak_hz = np.argmax(spectrum) * sr / len(wave)
    assert abs(peak_hz - f0) < 100, peak_hz


def test_image_domains_have_no_sound():
    assert spectrogram_to_audio(np.zeros((28, 28)), {"representation": "image", "features": {}}) is None

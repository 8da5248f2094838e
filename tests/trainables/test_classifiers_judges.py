"""Judges of the real-MNIST corpora: a judge trained on the manifest's ``judge_data`` (all Fashion-MNIST
train images for mnist_fashion_offline), ``sync_rate_real`` and the audio judge per test speaker."""
import gzip
import json

import numpy as np
import pytest
import torch

from data_prep import build
from trainables.classifiers import _mask, _shift, ensure_classifiers, load_classifiers, speaker_of


def _write_idx(path, a):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[a.dtype], a.ndim]) + np.array(a.shape, ">u4").tobytes()
    path.write_bytes(gzip.compress(header + a.tobytes()))


@pytest.fixture(scope="module")
def fashion_dir(tmp_path_factory):
    """Fashion-MNIST-format files: a class-k item is a bright horizontal bar at row 2k (learnable)."""
    d = tmp_path_factory.mktemp("fashion")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 13), ("t10k", 3)):
        labels = np.repeat(np.arange(10), n).astype(np.uint8)
        images = rng.integers(0, 40, (len(labels), 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k + 4: 2 * k + 7, 3:25] = 250
        _write_idx(d / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(d / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return d


def test_fashion_judge_trains_on_judge_data_and_sync_rate_real_is_recorded(ray_local, fashion_dir, tmp_path):
    corpus = build("mnist_fashion_offline", tmp_path, {"fashion_dir": str(fashion_dir), "train_per_class": 5,
                                                       "test_per_class": 3, "num_shards": 1})
    path = ensure_classifiers(corpus, epochs_image=2, epochs_audio=40)  # 130 images: 2 steps an epoch
    j = json.loads(path.with_suffix(".json").read_text())
    assert j["trained_on"]["audio"].startswith("130 images of the IDX train split")  # not the corpus's 50 units
    assert j["trained_on"]["image"] == "50 train-split images"
    assert 0.0 <= j["sync_rate_real"] <= 1.0 and j["audio_per_speaker"] == {}
    _, audio, acc = load_classifiers(path)
    assert acc == j["test_accuracy"] and acc["audio"] >= 0.9  # bars are easy: the judge did learn
    assert torch.load(path, weights_only=True)["sync_rate_real"] == j["sync_rate_real"]


def test_audio_judge_per_speaker(ray_local, tmp_path):
    corpus = build("mnist_spoken", tmp_path, {
        "speakers": ["espeak:en", "espeak:en-us", "flite:kal"], "test_speakers": ["flite:kal"],
        "espeak_speeds": [160], "espeak_pitches": [50], "stretches": [1.0], "augment.copies": 0,
        "train_per_class": 2, "test_per_class": 2, "num_shards": 1})
    lines: list[str] = []
    path = ensure_classifiers(corpus, epochs_image=1, epochs_audio=2, log=lines.append)
    # training says what it trains, then a line per epoch of each judge; the cached judges are found silently
    assert lines[0].startswith("judges: training the image judge (1 epochs) and the audio judge (2 epochs)"), lines
    assert [x.split(":")[0] for x in lines[1:]] == ["judge image epoch 1/1", "judge audio epoch 1/2",
                                                    "judge audio epoch 2/2"], lines
    assert ensure_classifiers(corpus, epochs_image=1, epochs_audio=2, log=lines.append) == path and len(lines) == 4
    j = json.loads(path.with_suffix(".json").read_text())
    assert list(j["audio_per_speaker"]) == ["flite-kal"] and j["audio_per_speaker"]["flite-kal"]["units"] == 10
    assert 0.0 <= j["sync_rate_real"] <= 1.0


def test_speaker_of_and_augmentations():
    assert speaker_of("7_flite-slt_2") == "flite-slt" and speaker_of("test-12") is None
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4)
    y = _shift(x, 1, g)
    assert y.shape == x.shape and set(y.unique().tolist()) <= set(x.unique().tolist()) | {-1.0}
    assert _shift(x, 0, g).equal(x)
    m = _mask(torch.zeros(64, 1, 8, 8), 3, 3, g)
    assert m.shape == (64, 1, 8, 8) and (m == -1).any() and (m == 0).any()


def test_the_image_judge_follows_the_image_size_and_a_cached_judge_of_the_other_kind_is_retrained(tmp_path, corpus_writer):
    from trainables.classifiers import IMAGE_JUDGES, ImageCNN, LeNet5, image_judge_for

    assert [image_judge_for(s) for s in ([28, 28], [32, 32], [64, 64], [48, 24])] == ["lenet5", "lenet5", "cnn3", "cnn3"]
    kinds = {}
    for side in (28, 64):
        corpus = corpus_writer(tmp_path / str(side), image_shape=(side, side))
        path = ensure_classifiers(corpus, epochs_image=15, epochs_audio=1, log=None)
        image, _, acc = load_classifiers(path)
        kinds[side] = type(image)
        assert json.loads(path.with_suffix(".json").read_text())["image_judge"] == image_judge_for([side, side])
        assert acc["image"] >= 0.5, (side, acc)  # a band per class: either judge learns it (chance 0.1)
        # a state cached before the key existed is a LeNet-5: kept at 28 px, retrained at 64 px
        state = torch.load(path, weights_only=True)
        del state["image_judge"]
        if side == 64:
            state["image"] = LeNet5(state["n_classes"]).state_dict()
        torch.save(state, path)
        lines: list[str] = []
        assert ensure_classifiers(corpus, epochs_image=15, epochs_audio=1, log=lines.append) == path
        assert bool(lines) == (side == 64), lines
        assert isinstance(load_classifiers(path)[0], kinds[side])
    assert kinds == {28: LeNet5, 64: ImageCNN} and IMAGE_JUDGES["cnn3"] is ImageCNN

"""What makes the SyncGAN recipe follow the corpus: the synchronizer's warm-up leaves it above chance on
a class-folder corpus of non-speech sounds (and says so when it cannot), the categorical code has a
category per class, a folded waveform is seen as its 1-D signal, and the generators' weight average."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trainables.config import from_dict
from trainables.data import load_split, read_manifest
from trainables.registry import build_model, get_trainable
from trainables.representation import Waveform
from trainables.syncgan.config import SyncGANConfig


@pytest.fixture(scope="module")
def sounds5(ray_local, tmp_path_factory):
    """Five sound families (tones, chords, noise, clicks, sweeps) <-> five drawn shapes, 32x32 images and
    folded 64x128 waveforms, 80 files a class: a tiny class-folder corpus built as a user's folder is."""
    import data_prep

    return data_prep.build("sounds_offline", tmp_path_factory.mktemp("sounds5"), {
        "classes": ["sine", "chord", "noise", "clicks", "sweep"], "per_class": 80, "image_size": 32,
        "clip_seconds": 0.5, "test_fraction": 0.25})


def _model(corpus, **overrides):
    cfg = from_dict(SyncGANConfig, {"corpus_dir": str(corpus), "batch_size": 32, "width": 8, "sync_width": 8, "z_dim": 16,
                                    "sync_warmup_steps": 150, "sync_warmup_max_steps": 300, **overrides})
    torch.manual_seed(0)
    model = build_model(get_trainable("syncgan"), cfg, read_manifest(corpus))
    train = load_split(corpus, "train")
    model.bind_train_data(train.image, train.audio, train.label, np.ones(len(train), bool), "cpu")
    return model


def _real_pair_accuracy(model, corpus) -> float:
    """S's balanced accuracy over every pairing of the held-out real images and clips (chance: 0.5)."""
    test = load_split(corpus, "test")
    labels = torch.from_numpy(test.label)
    same = labels[:, None] == labels[None]
    images, clips = test.images(), test.audios()
    verdict = torch.stack([model.synchronizer_logits(images, clips.roll(k, 0)) > 0 for k in range(len(labels))], 1)
    same = torch.stack([same.diagonal(0) if k == 0 else (labels == labels.roll(k, 0)) for k in range(len(labels))], 1)
    return float(0.5 * (verdict & same).sum() / same.sum() + 0.5 * (~verdict & ~same).sum() / (~same).sum())


def test_the_warm_up_leaves_the_synchronizer_above_chance_on_a_class_folder_corpus(sounds5, capsys):
    model = _model(sounds5)
    assert model.latent_classes == 5  # one category per class of the corpus
    assert isinstance(model.view_b, Waveform) and model.d_b.features[0].kernel_size == (1, 4)
    model.warm_up_synchronizer(lambda opt: None)
    assert bool(model.sync_warmup_ended) and model.warmup_accuracy >= model.cfg.sync_warmup_accuracy
    assert _real_pair_accuracy(model, sounds5) > 0.58  # every pairing of 100 held-out real pairs: chance is 0.5 (+- 0.01)
    assert "near chance" not in capsys.readouterr().out


def test_a_synchronizer_that_cannot_beat_chance_says_so_in_one_line(sounds5, capsys):
    model = _model(sounds5, sync_warmup_max_steps=200)
    rng = np.random.default_rng(0)
    model.pool.labels = model.pool.labels[torch.from_numpy(rng.permutation(len(model.pool)))]  # pairing carries no class
    model.warm_up_synchronizer(lambda opt: None)
    out = capsys.readouterr().out.strip().splitlines()
    assert int(model.sync_warmup_done) == 200 and bool(model.sync_warmup_ended)
    warning = [line for line in out if "near chance" in line]
    assert len(warning) == 1 and "semi_rate" in warning[0] and "judges" in warning[0] and "lr_s" in warning[0]
    assert model.warmup_warning == warning[0]  # the evaluator reports it once (platform.tune prints it as a line)
    assert abs(_real_pair_accuracy(model, sounds5) - 0.5) < 0.05


def test_the_generators_weight_average_follows_the_trained_weights_and_gives_the_samples(sounds5):
    model = _model(sounds5, sync_warmup_steps=0, ema_decay=0.9)
    train = load_split(sounds5, "train")
    expected = [p.clone() for p in model.ema_a.parameters()]
    for t in range(1, 4):
        rows = slice(32 * (t - 1), 32 * t)
        model.train_step(train.images(rows), train.audios(rows), torch.from_numpy(train.label[rows]),
                         torch.ones(32, dtype=torch.bool))
        decay = min(0.9, (1 + t) / (10 + t))  # an average over the steps so far, early on
        expected = [decay * e + (1 - decay) * p.detach() for e, p in zip(expected, model.g_a.parameters())]
    assert int(model.ema_steps) == 3
    assert all(torch.allclose(e, a, atol=1e-6) for e, a in zip(expected, model.ema_a.parameters()))
    assert not all(torch.equal(e, p) for e, p in zip(model.ema_a.parameters(), model.g_a.parameters()))
    assert all(not p.requires_grad for p in model.ema_a.parameters())
    z = model.sample_z(8, "cpu", generator=torch.Generator().manual_seed(0))
    image, audio = model.generate(z)
    with torch.no_grad():
        assert torch.allclose(image, model.ema_a(z)) and not torch.allclose(image, model.g_a(z))
    assert audio.shape[-2:] == (64, 128)  # drawn the corpus's way from the 1-D signal
    assert torch.allclose(model.view_b.to_net(audio), model.view_b.to_net(model.view_b.from_net(model.ema_b(z))), atol=1e-5)


def test_the_waveform_view_reads_and_draws_exactly_as_data_prep_folds():
    from data_prep.features import fold_waveform, unfold_waveform

    v = np.random.default_rng(0).uniform(-1, 1, (6, 128)).astype(np.float32)
    drawn = fold_waveform(v, 64)
    view = Waveform((64, 128))
    signal = view.to_net(torch.from_numpy(drawn)[:, None])
    assert signal.shape == (6, 1, 1, 128)
    assert np.allclose(signal[:, 0, 0].numpy(), unfold_waveform(drawn), atol=1e-6)
    assert np.allclose(view.from_net(signal)[:, 0].numpy(), drawn, atol=1e-5)

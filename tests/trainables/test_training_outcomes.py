"""What training achieves, through the shared loop (``trainables.loop.fit``) and each model's own
evaluator on the tiny corpus: the VAE and VAE-GAN draw the right class from a clip, and the
semi-supervised rate is the mask the synchronizer learns from. (SyncGAN's synchronization is shown
on a task its small nets learn in seconds: tests/trainables/test_syncgan_recipe.py; on this corpus
its generators collapse onto one class within 5 epochs, with or without the sync loss.)"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from trainables.data import labelled_mask, load_split
from trainables.loop import fit
from trainables.registry import get_trainable
from trainables.syncgan import SyncGAN

CHANCE = 0.1  # ten classes


def _fit(name: str, corpus, classifiers, model_cls=None, **config) -> list[dict]:
    """Every epoch's report of one seeded run (no TensorBoard, no transfer)."""
    spec = get_trainable(name)
    if model_cls is not None:
        spec = dataclasses.replace(spec, model_cls=model_cls)
    cfg = spec.config_cls(corpus_dir=str(corpus), classifier_path=str(classifiers), **config)
    reports: list[dict] = []
    fit(spec, cfg, lambda metrics, _ckpt: reports.append(dict(metrics)), hparams=False)
    return reports


SYNCGAN_SMALL = dict(width=8, z_dim=16, batch_size=16, eval_samples=50, transfer_samples=0)
VAE_EPOCHS = 60  # 10 steps an epoch: ~10 s (VAE) and ~20 s (VAE-GAN) on one core


@pytest.mark.parametrize("name,small,floor", [("vae", {"width": 8, "fc_width": 64}, 0.6),
                                              ("vaegan", {"width": 8, "conv_stages": 2}, 0.3)])
def test_vae_and_vaegan_draw_the_class_of_the_clip(name, small, floor, tiny_corpus, tiny_classifiers):
    """image_acc_from_audio: the image judge reads the clip's class in the image generated from a
    test clip (chance 0.1). Untrained, the images carry no class; after 600 steps most do (measured
    on this corpus: the VAE at 1.0 from epoch ~50, the VAE-GAN at 0.4-0.58 from epoch ~30)."""
    reports = _fit(name, tiny_corpus, tiny_classifiers, batch_size=20, epochs=VAE_EPOCHS, eval_samples=60, **small)
    first, last = reports[0]["image_acc_from_audio"], reports[-1]["image_acc_from_audio"]
    print(f"{name}: image_acc_from_audio epoch 1 {first:.3f}, epoch {len(reports)} {last:.3f}")
    assert first <= 2 * CHANCE, reports[0]
    assert last >= floor, reports[-1]


class _RecordingSyncGAN(SyncGAN):
    """SyncGAN that keeps what the loop hands it: the labelled mask of its pool and every batch's mask."""

    last: "_RecordingSyncGAN | None" = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bound: np.ndarray | None = None
        self.batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        _RecordingSyncGAN.last = self

    def bind_train_data(self, images, audios, labels, labelled, device) -> None:
        self.bound = np.asarray(labelled).copy()
        super().bind_train_data(images, audios, labels, labelled, device)

    def train_step(self, x_a, x_b, labels, labelled, average_grads=None):
        self.batches.append((x_a.clone(), labelled.clone()))
        return super().train_step(x_a, x_b, labels, labelled, average_grads)


@pytest.mark.parametrize("rate", [0.1, 1.0])
def test_the_semi_supervised_rate_is_the_mask_the_synchronizer_learns_from(rate, tiny_corpus, tiny_classifiers):
    """The pool S draws from holds exactly the corpus's labelled rows at ``semi_rate``; every batch's
    mask is those rows' mask; the reported labelled_share is the share of labelled rows trained on."""
    seed = 3
    reports = _fit("syncgan", tiny_corpus, tiny_classifiers, model_cls=_RecordingSyncGAN, epochs=1, semi_rate=rate,
                   seed=seed, sync_warmup_steps=0, **SYNCGAN_SMALL)
    model = _RecordingSyncGAN.last
    train = load_split(tiny_corpus, "train")
    expected = labelled_mask(train.pair_id, rate, seed)
    assert 0 < expected.sum() < len(expected) if rate < 1 else expected.all()
    np.testing.assert_array_equal(model.bound, expected)
    assert len(model.pool) == expected.sum()
    pool_rows = {bytes(r) for r in model.pool.images.numpy().reshape(len(model.pool), -1)}
    assert pool_rows == {bytes(r) for r in train.image[expected].reshape(int(expected.sum()), -1)}

    pair_of = {bytes(r): p for r, p in zip(train.image.reshape(len(train), -1), train.pair_id)}
    seen = []
    for x_a, labelled in model.batches:
        rows = ((x_a + 1) * 127.5).round().to(torch.uint8).numpy().reshape(len(x_a), -1)
        ids = np.array([pair_of[bytes(r)] for r in rows])
        np.testing.assert_array_equal(labelled.numpy(), labelled_mask(ids, rate, seed))
        seen.extend(labelled.tolist())
    share = reports[-1]["labelled_share"]
    assert share == pytest.approx(np.mean(seen))
    assert share == pytest.approx(rate, abs=0.05)

"""Restoring a checkpoint into a model built with other learning rates (what PBT's clones do): the
optimizers' moments come from the checkpoint, their learning rates from the model's config."""
from __future__ import annotations

import torch

from trainables.checkpoint import Progress, load_checkpoint, save_checkpoint
from trainables.loop import learning_rates
from trainables.syncgan import SyncGAN, SyncGANConfig


def _model(**lrs) -> SyncGAN:
    torch.manual_seed(0)
    return SyncGAN(SyncGANConfig(width=8, z_dim=16, sync_warmup_steps=0, batch_size=8, sync_batch="paper", **lrs), (28, 28), (48, 48))


def test_restored_optimizers_keep_the_state_and_take_the_configs_learning_rates(tmp_path):
    donor = _model(lr_g=1e-3, lr_d=2e-4, lr_s=1e-3)
    x_a, x_b = torch.rand(8, 1, 28, 28), torch.rand(8, 1, 48, 48)
    donor.train_step(x_a, x_b, torch.arange(8) % 4, torch.ones(8, dtype=torch.bool))
    save_checkpoint(donor, Progress(epoch=3, global_step=1), {}, tmp_path)

    clone = _model(lr_g=6e-4, lr_d=2.4e-4, lr_s=1e-3)
    assert load_checkpoint(clone, tmp_path) == Progress(epoch=3, global_step=1)
    assert learning_rates(clone) == {"lr_opt_g": 6e-4, "lr_opt_d": 2.4e-4, "lr_opt_s": 1e-3}
    for name, opt in clone.optimizers().items():
        saved = donor.optimizers()[name].state_dict()["state"]
        restored = opt.state_dict()["state"]
        assert saved.keys() == restored.keys() and saved  # Adam's moments came back
        for k in saved:
            assert torch.equal(saved[k]["exp_avg"], restored[k]["exp_avg"])
    for p, q in zip(donor.parameters(), clone.parameters()):
        assert torch.equal(p, q)

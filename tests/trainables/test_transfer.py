"""Latent recovery finds a known z of a fixed generator; transfer outputs G_b of it, both ways,
in every BatchNorm mode, and leaves the model as it found it."""
import copy

import pytest
import torch

from trainables.batchnorm import batch_statistics, calibrated, evaluating
from trainables.nets import Generator
from trainables.syncgan import SyncGAN, SyncGANConfig
from trainables.transfer import TransferConfig, _calibration_batches, recover_latent, transfer

Z = 8
FAST = dict(steps=150, lr=0.05, restarts=3)


def _z_true(n: int = 6) -> torch.Tensor:
    return torch.randn(n, Z, generator=torch.Generator().manual_seed(1))


def _fixed_generator() -> Generator:
    torch.manual_seed(0)
    g = Generator(Z, (28, 28), width=8)
    with torch.no_grad():  # running statistics of a few prior batches
        for _ in range(3):
            g(torch.randn(64, Z))
    return g.eval()


def test_recovers_a_known_code_in_eval_mode():
    g = _fixed_generator()
    z_true = _z_true()
    with torch.no_grad():
        target = g(z_true)
    rec = recover_latent(g, target, Z, TransferConfig(**FAST))
    assert rec.loss.max() < 1e-5
    assert ((rec.z - z_true).norm(dim=1) / z_true.norm(dim=1)).max() < 0.02


def test_a_single_short_descent_does_not_reach_it():
    """The check above can fail: too few steps leave a clear error."""
    g = _fixed_generator()
    z_true = _z_true()
    with torch.no_grad():
        target = g(z_true)
    rec = recover_latent(g, target, Z, TransferConfig(steps=3, lr=0.05, restarts=1))
    assert ((rec.z - z_true).norm(dim=1) / z_true.norm(dim=1)).max() > 0.1


def test_best_restart_wins_per_sample():
    g = _fixed_generator()
    target = g(_z_true()).detach()
    one = recover_latent(g, target, Z, TransferConfig(steps=20, lr=0.05, restarts=1, seed=3))
    many = recover_latent(g, target, Z, TransferConfig(steps=20, lr=0.05, restarts=4, seed=3))
    assert (many.loss <= one.loss + 1e-7).all()  # the first of the 4 starts is the single start


def _untrained_syncgan() -> SyncGAN:
    """Two fixed generators of one latent space: the right transfer of G_a(z) is G_b(z)."""
    torch.manual_seed(0)
    model = SyncGAN(SyncGANConfig(width=8, z_dim=Z, latent_classes=0), (28, 28), (48, 48))  # Gaussian codes
    model.train()  # as after training: BatchNorm in training mode, generate() uses batch statistics
    return model


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_transfer_in_calibrated_mode_outputs_the_other_generator_of_the_code(direction):
    model = _untrained_syncgan()
    cfg = TransferConfig(**FAST, calibration_samples=1024)
    z_true = _z_true()
    src, dst = (model.g_a, model.g_b) if direction == "a_to_b" else (model.g_b, model.g_a)
    src_c, dst_c = (calibrated(g, _calibration_batches(Z, cfg, torch.device("cpu"))) for g in (src, dst))
    x = src_c(z_true)  # a sample of the source modality whose code is z_true
    before = copy.deepcopy(model.state_dict())
    out, rec = transfer(model, x, direction, cfg)
    assert rec.loss.max() < 1e-4
    assert torch.allclose(out, dst_c(z_true), atol=0.02)
    assert model.g_a.training and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_calibrated_generator_matches_batch_statistics_generation():
    """Up to the sampling noise of a batch of 512 (its statistics are not the population's)."""
    model = _untrained_syncgan()
    z = torch.randn(512, Z, generator=torch.Generator().manual_seed(5))
    img_batch, _ = model.generate(z)
    img_cal = calibrated(model.g_a, [torch.randn(2048, Z, generator=torch.Generator().manual_seed(6))])(z)
    with evaluating(model), torch.no_grad():
        img_running = model.g_a(z)  # the running averages: far off
    assert (img_batch - img_cal).abs().mean() < 0.04
    assert (img_batch - img_running).abs().mean() > 0.15
    assert model.training


def test_transfer_with_batch_statistics_reproduces_the_target_pair():
    """With batch statistics z is only identifiable up to a batch-wide shift and scale (BatchNorm after
    the first linear layer removes them); both generators share that invariance, so G_b still matches."""
    model = _untrained_syncgan()
    z_true = _z_true(16)
    with batch_statistics(model):
        x_a, x_b = model.g_a(z_true).detach(), model.g_b(z_true).detach()
    out, rec = transfer(model, x_a, "a_to_b", TransferConfig(steps=400, lr=0.05, restarts=1, batchnorm="batch"))
    assert rec.loss.max() < 1e-6
    assert (out - x_b).abs().max() < 0.01


def test_transfer_rejects_unknown_direction_and_mode():
    model = _untrained_syncgan()
    with pytest.raises(ValueError, match="direction"):
        transfer(model, torch.zeros(2, 1, 28, 28), "image_to_audio")
    with pytest.raises(ValueError, match="batchnorm"):
        transfer(model, torch.zeros(2, 1, 28, 28), "a_to_b", TransferConfig(batchnorm="running"))

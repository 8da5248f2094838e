import pytest
import torch

from trainables.config import from_dict
from trainables.vae import VAE, VAEGAN, VAEConfig, VAEGANConfig
from trainables.vae.model import kl_divergence, reconstruction_loss


def _bands(labels: torch.Tensor, h: int, w: int, g: torch.Generator) -> torch.Tensor:
    """Dark noise with a bright band whose position is the class (as the tiny test corpus)."""
    x = torch.rand(len(labels), 1, h, w, generator=g) * 0.4 - 1
    band = h // 10
    for i, k in enumerate(labels.tolist()):
        x[i, 0, k * band:(k + 1) * band] = 0.9
    return x


def _pairs(n: int = 16):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 10
    return _bands(y, 28, 28, g), _bands(y, 48, 48, g), y


def test_vae_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    model = VAE(VAEConfig(width=8, fc_width=64, z_dim=8, lr=3e-3), (28, 28), (48, 48))
    x_a, x_b, y = _pairs()
    mask = torch.ones(len(y), dtype=torch.bool)
    losses = [model.train_step(x_a, x_b, y, mask)["loss_vae"] for _ in range(15)]
    assert losses[-1] < 0.85 * losses[0] and losses == sorted(losses, reverse=True), losses


def test_vaegan_reconstruction_and_discriminator_losses_fall_on_a_fixed_batch():
    torch.manual_seed(0)
    model = VAEGAN(VAEGANConfig(width=8, z_dim=8, lr=2e-3, lr_d=2e-3, alpha=1.0), (28, 28), (48, 48))
    x_a, x_b, y = _pairs()
    mask = torch.ones(len(y), dtype=torch.bool)
    steps = [model.train_step(x_a, x_b, y, mask) for _ in range(15)]
    first, last = steps[0], steps[-1]
    assert last["loss_reconstruction"] < 0.8 * first["loss_reconstruction"], [s["loss_reconstruction"] for s in steps]
    assert last["loss_d_image"] < first["loss_d_image"], [s["loss_d_image"] for s in steps]
    assert first["loss_vae"] == pytest.approx(
        first["loss_g_adv"] + 1.0 * first["loss_reconstruction"] + 0.5 * first["loss_kl"], rel=1e-5)


def test_reconstruction_uses_only_labelled_pairs():
    x_a, _, _ = _pairs(8)
    logits = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    mask = torch.arange(8) < 3
    other = x_a.clone()
    other[3:] = -other[3:]  # change only the unlabelled images
    for kind in ("bce", "mse"):
        assert reconstruction_loss(logits, x_a, kind, mask) == reconstruction_loss(logits, other, kind, mask)
        assert reconstruction_loss(logits, x_a, kind, mask) != reconstruction_loss(logits, other, kind, ~mask)
    none = reconstruction_loss(logits.requires_grad_(), x_a, "bce", torch.zeros(8, dtype=torch.bool))
    assert none.item() == 0.0 and none.requires_grad


def test_kl_divergence_is_zero_at_the_prior_and_matches_closed_form():
    mu, logvar = torch.zeros(4, 8), torch.zeros(4, 8)
    assert kl_divergence(mu, logvar).item() == 0.0
    mu = torch.full((4, 8), 1.0)
    assert kl_divergence(mu, logvar).item() == pytest.approx(8 * 0.5)  # 0.5 * mu^2 per dimension


@pytest.mark.parametrize("cls,cfg", [
    (VAE, VAEConfig(width=4, fc_width=16, z_dim=4)),
    (VAE, VAEConfig(width=4, fc_width=16, z_dim=4, conv_stages=None)),
    (VAEGAN, VAEGANConfig(width=4, z_dim=4)),
])
@pytest.mark.parametrize("shape_image,shape_audio", [((28, 28), (48, 48)), ((64, 64), (64, 128))])
def test_images_from_audio_have_the_image_shape_and_range(cls, cfg, shape_image, shape_audio):
    torch.manual_seed(0)
    model = cls(cfg, shape_image, shape_audio).train()
    x_b = torch.rand(6, 1, *shape_audio) * 2 - 1
    img = model.images_from_audio(x_b, batch_size=4)
    assert img.shape == (6, 1, *shape_image)
    assert img.min() >= -1 and img.max() <= 1
    assert model.training  # modes restored
    assert model.decode(model.sample_z(3, "cpu")).shape == (3, 1, *shape_image)


def test_slide_architectures_for_28x28_images_and_48x48_spectrograms():
    vae = VAE(VAEConfig(), (28, 28), (48, 48))
    convs = [m for m in vae.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128]
    assert vae.decoder.c0 * vae.decoder.h0 * vae.decoder.w0 == 7 * 7 * 128
    gan = VAEGAN(VAEGANConfig(), (28, 28), (48, 48))
    assert not any(isinstance(m, torch.nn.Linear) for m in gan.modules())  # all-convolutional
    convs = [m for m in gan.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [128, 256, 512, 128]  # mu and logvar: 2 x 64


def test_configs_reject_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="fc_width"):
        from_dict(VAEGANConfig, {"fc_width": 512})  # a VAE knob, not a VAE-GAN one
    with pytest.raises(ValueError, match="alpha"):
        from_dict(VAEGANConfig, {"alpha": -1})
    with pytest.raises(ValueError, match="reconstruction"):
        from_dict(VAEConfig, {"reconstruction": "l1"})
    with pytest.raises(ValueError, match="semi_rate"):
        from_dict(VAEConfig, {"semi_rate": 2})
    assert from_dict(VAEGANConfig, {"beta": "0.25", "conv_stages": None}).beta == 0.25


def test_kl_warmup_weight_rises_linearly_and_survives_a_state_dict_round_trip():
    torch.manual_seed(0)
    cfg = VAEConfig(width=8, fc_width=64, z_dim=8, kl_warmup_steps=4)
    model = VAE(cfg, (28, 28), (48, 48))
    x_a, x_b, y = _pairs(8)
    mask = torch.ones(len(y), dtype=torch.bool)
    weights = [model.train_step(x_a, x_b, y, mask)["kl_weight"] for _ in range(6)]
    assert weights == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    restored = VAE(cfg, (28, 28), (48, 48))
    restored.load_state_dict(model.state_dict())
    assert restored.kl_weight() == 1.0 and int(restored.steps_done) == 6
    assert VAE(VAEConfig(width=8, fc_width=64, z_dim=8), (28, 28), (48, 48)).kl_weight() == 1.0
    with pytest.raises(ValueError, match="kl_warmup_steps"):
        from_dict(VAEConfig, {"kl_warmup_steps": -1})

"""What every model's train_step promises the training loop: SyncGAN, VAE, VAE-GAN and CoGAN alike.

Every parameter is in exactly one optimizer and has a gradient when ``average_grads`` sees its optimizer
(a layer left out would break data-parallel averaging; a None gradient is averaged as zeros);
the state round-trips through ``torch.load(weights_only=True)``; a NaN loss raises naming the loss.
"""
import io

import numpy as np
import pytest
import torch

from trainables.cogan import CoGAN, CoGANConfig
from trainables.registry import TRAINABLES
from trainables.syncgan import SyncGAN, SyncGANConfig
from trainables.syncgan.config import PAPER_RECIPE
from trainables.vae import VAE, VAEGAN, VAEConfig, VAEGANConfig

SHAPES = ((28, 28), (48, 48))
MODELS = {
    "syncgan": lambda: SyncGAN(SyncGANConfig(width=8, z_dim=16), *SHAPES),
    "syncgan_paper": lambda: SyncGAN(SyncGANConfig(**{**PAPER_RECIPE, "width": 8, "z_dim": 16}), *SHAPES),
    "vae": lambda: VAE(VAEConfig(width=8, fc_width=32, z_dim=8), *SHAPES),
    "vaegan": lambda: VAEGAN(VAEGANConfig(width=8, z_dim=8), *SHAPES),
    "cogan": lambda: CoGAN(CoGANConfig(width=8, z_dim=16, shared_width=32), *SHAPES),
}
NETWORKS = {
    "syncgan": {"g_a", "g_b", "d_a", "d_b", "sync"},
    "syncgan_paper": {"g_a", "g_b", "d_a", "d_b", "sync"},
    "vae": {"encoder", "decoder"},
    "vaegan": {"encoder", "decoder", "d_image"},
    "cogan": {"g_a", "g_b", "d_a", "d_b"},
}


def test_every_registered_model_is_checked_here():
    assert set(TRAINABLES) <= set(MODELS)


def _batch(n: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.rand(n, 1, 28, 28, generator=g) * 2 - 1,
        torch.rand(n, 1, 48, 48, generator=g) * 2 - 1,
        torch.arange(n) % 10,
    )


def _make(name: str, labelled: torch.Tensor | None = None):
    """The model, given its training rows as the loop gives them (``bind_train_data``) where it takes them."""
    torch.manual_seed(0)
    model = MODELS[name]()
    if hasattr(model, "bind_train_data"):
        x_a, x_b, y = _batch()
        mask = np.ones(len(y), bool) if labelled is None else labelled.numpy()
        model.bind_train_data(((x_a + 1) * 127.5).round().numpy().astype(np.uint8), x_b.numpy().astype(np.float16),
                              y.numpy(), mask, "cpu")
    return model


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("labelled_share", [1.0, 0.0])
def test_every_parameter_has_a_gradient_when_its_optimizer_is_synced(name, labelled_share):
    x_a, x_b, y = _batch()
    labelled = torch.arange(len(y)) < round(labelled_share * len(y))
    model = _make(name, labelled)
    param_names = {id(p): n for n, p in model.named_parameters()}
    seen: dict[str, list[str]] = {}

    def average_grads(optimizer):
        opt = next(k for k, o in model.optimizers().items() if o is optimizer)
        params = [p for g in optimizer.param_groups for p in g["params"]]
        seen[opt] = [param_names[id(p)] for p in params if p.grad is None or not torch.isfinite(p.grad).all()]

    model.train_step(x_a, x_b, y, labelled, average_grads)
    assert set(seen) == set(model.optimizers())
    assert {opt: bad for opt, bad in seen.items() if bad} == {}
    if labelled_share == 1.0:  # and the gradients carry signal, not only zeros
        zero = [n for n, p in model.named_parameters() if p.grad is not None and not p.grad.abs().sum() > 0]
        assert zero == []


@pytest.mark.parametrize("name", MODELS)
def test_every_parameter_is_in_exactly_one_optimizer(name):
    model = _make(name)
    ids = [id(p) for opt in model.optimizers().values() for g in opt.param_groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in model.parameters() if p.requires_grad}
    # the only parameters no optimizer steps are frozen weight averages of trained ones (SyncGAN's ema_*)
    frozen = {n.split(".")[0] for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen <= {"ema_a", "ema_b"}
    for net in NETWORKS[name]:
        assert any(True for _ in getattr(model, net).parameters())


@pytest.mark.parametrize("name", MODELS)
def test_state_round_trips_through_weights_only_load(name):
    model = _make(name)
    x_a, x_b, y = _batch()
    mask = torch.ones(len(y), dtype=torch.bool)
    model.train_step(x_a, x_b, y, mask)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), **{k: o.state_dict() for k, o in model.optimizers().items()}}, buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)

    torch.manual_seed(123)  # different initial weights: everything must come from the file
    restored = _make(name)
    torch.manual_seed(123)
    for p in restored.parameters():
        torch.nn.init.normal_(p)
    restored.load_state_dict(state["model"])
    for k, opt in restored.optimizers().items():
        opt.load_state_dict(state[k])
    original = model.state_dict()
    assert all(torch.equal(v, original[k]) for k, v in restored.state_dict().items())

    torch.manual_seed(7)
    expected = model.train_step(x_a, x_b, y, mask)
    torch.manual_seed(7)
    assert restored.train_step(x_a, x_b, y, mask) == expected  # optimizer moments restored too


@pytest.mark.parametrize("name", MODELS)
def test_nan_loss_raises_naming_the_loss(name):
    model = _make(name)
    x_a, x_b, y = _batch()
    x_b[0, 0, 0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match=r"diverged: loss_\w+ = nan"):
        model.train_step(x_a, x_b, y, torch.ones(len(y), dtype=torch.bool))


@pytest.mark.parametrize("name", ["vae", "vaegan"])
def test_nan_loss_stops_before_any_weight_changes(name):
    model = _make(name)
    before = {k: v.clone() for k, v in model.state_dict().items() if v.is_floating_point()}
    x_a, x_b, y = _batch()
    x_b[:, :, :, :] = float("nan")
    with pytest.raises(FloatingPointError):
        model.train_step(x_a, x_b, y, torch.ones(len(y), dtype=torch.bool))
    params = dict(model.named_parameters())
    assert all(torch.equal(params[k], v) for k, v in before.items() if k in params)

import copy

import numpy as np
import pytest
import torch

from trainables.config import from_dict
from trainables.syncgan import SyncGAN, SyncGANConfig
from trainables.syncgan.config import PAPER_RECIPE


def paper_config(**kw) -> SyncGANConfig:
    """The paper's method (its synchronizer batch: the labelled rows of the batch), small networks."""
    return SyncGANConfig(**{**PAPER_RECIPE, "width": 8, "z_dim": 16, **kw})
from trainables.syncgan.model import asynchronous_partner


def _batch(n: int = 16):
    g = torch.Generator().manual_seed(0)
    x_a = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    x_b = torch.rand(n, 1, 48, 48, generator=g) * 2 - 1
    y = torch.arange(n) % 10
    return x_a, x_b, y


@pytest.mark.parametrize("recipe", ["default", "paper"])
def test_one_step_changes_every_parameter_of_every_network(recipe):
    torch.manual_seed(0)
    model = SyncGAN(SyncGANConfig(**(PAPER_RECIPE if recipe == "paper" else {}), width=8, z_dim=16), (28, 28), (48, 48))
    x_a, x_b, y = _batch()
    pool = ((x_a + 1) * 127.5).round().numpy().astype("uint8"), x_b.numpy().astype("float16"), y.numpy()
    model.bind_train_data(*pool, np.ones(len(y), bool), "cpu")
    before = copy.deepcopy(model.state_dict())
    model.train_step(x_a, x_b, y, torch.ones(len(y), dtype=torch.bool))
    unchanged = [
        name for name, p in model.named_parameters() if torch.equal(p.detach(), before[name])
    ]
    assert unchanged == []
    # every parameter belongs to exactly one optimizer (the reference code's bug: a layer left out)
    in_opts = {id(p) for opt in model.optimizers().values() for g in opt.param_groups for p in g["params"]}
    assert {id(p) for p in model.parameters() if p.requires_grad} == in_opts
    assert {n.split(".")[0] for n, p in model.named_parameters() if not p.requires_grad} <= {"ema_a", "ema_b"}
    for net in ("g_a", "g_b", "d_a", "d_b", "sync"):
        assert any(n.startswith(net + ".") for n, _ in model.named_parameters())


def test_synchronizer_untouched_without_labelled_pairs():
    torch.manual_seed(0)
    model = SyncGAN(paper_config(), (28, 28), (48, 48))
    before = {k: v.detach().clone() for k, v in model.sync.named_parameters()}
    x_a, x_b, y = _batch()
    out = model.train_step(x_a, x_b, y, torch.zeros(len(y), dtype=torch.bool))
    assert out["labelled_pairs"] == 0 and "loss_s" not in out
    assert all(torch.equal(v.detach(), before[k]) for k, v in model.sync.named_parameters())


def test_latent_pairs_follow_pair_ratio():
    model = SyncGAN(paper_config(pair_ratio=0.25), (28, 28), (48, 48))
    z_a, z_b, identical = model.latent_pairs(64, "cpu")
    assert identical.sum().item() == 16
    assert torch.equal(z_a[identical], z_b[identical])
    assert not torch.isclose(z_a[~identical], z_b[~identical]).all(1).any()


def test_asynchronous_partner_prefers_other_class():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3])
    for _ in range(20):
        p = asynchronous_partner(labels)
        assert (labels[p] != labels).all()
    same = asynchronous_partner(torch.zeros(4, dtype=torch.long))
    assert (same != torch.arange(4)).all()


def test_nan_loss_raises_clear_error():
    model = SyncGAN(paper_config(), (28, 28), (48, 48))
    x_a, x_b, y = _batch()
    x_a[0, 0, 0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="diverged"):
        model.train_step(x_a, x_b, y, torch.ones(len(y), dtype=torch.bool))


def test_config_rejects_unknown_key_and_bad_range():
    with pytest.raises(ValueError, match="lr_gen"):
        from_dict(SyncGANConfig, {"lr_gen": 1e-3})
    with pytest.raises(ValueError, match="semi_rate"):
        from_dict(SyncGANConfig, {"semi_rate": 1.5})
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        from_dict(SyncGANConfig, {"epochs": 2.5})
    with pytest.raises(ValueError, match="lr_g must be a number"):
        from_dict(SyncGANConfig, {"lr_g": "fast"})
    assert from_dict(SyncGANConfig, {"lr_g": "3e-4"}).lr_g == 3e-4

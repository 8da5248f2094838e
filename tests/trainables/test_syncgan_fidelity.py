"""SyncGAN as the paper has it: the synchronizer learns from labelled pairs only, and learns;
spectral norm in the discriminators and the synchronizer is a switch; generated pairs reach the
synchronizer only through ``sync_fake_weight``."""
import copy

import pytest
import torch
from torch.nn.utils import parametrize

from trainables.syncgan import SyncGAN, SyncGANConfig
from trainables.syncgan.config import PAPER_RECIPE


def paper_config(**kw) -> SyncGANConfig:
    """The paper's method (its synchronizer batch: the labelled rows of the batch), small networks."""
    return SyncGANConfig(**{**PAPER_RECIPE, "width": 8, "z_dim": 16, **kw})


def _batch(n: int = 16):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.rand(n, 1, 48, 48, generator=g) * 2 - 1, torch.arange(n) % 10


def _bands(labels: torch.Tensor, h: int, g: torch.Generator) -> torch.Tensor:
    """Dark noise with a bright band whose position is the class: pairs the synchronizer can learn."""
    x = torch.rand(len(labels), 1, h, h, generator=g) * 0.4 - 1
    band = h // 10
    for i, k in enumerate(labels.tolist()):
        x[i, 0, k * band:(k + 1) * band] = 0.9
    return x


def _sync_after_step(model: SyncGAN, x_a, x_b, y, labelled) -> dict[str, torch.Tensor]:
    model = copy.deepcopy(model)
    torch.manual_seed(1)
    model.train_step(x_a, x_b, y, labelled)
    return {k: v.detach().clone() for k, v in model.sync.state_dict().items()}


@pytest.mark.parametrize("fake_weight", [0.0, 1.0])
def test_synchronizer_update_depends_on_labelled_pairs_only(fake_weight):
    torch.manual_seed(0)
    model = SyncGAN(paper_config(sync_fake_weight=fake_weight), (28, 28), (48, 48))
    x_a, x_b, y = _batch()
    labelled = torch.arange(len(y)) % 2 == 0
    base = _sync_after_step(model, x_a, x_b, y, labelled)

    unlabelled_changed = x_a.clone(), x_b.clone()
    unlabelled_changed[0][~labelled] *= -1
    unlabelled_changed[1][~labelled] *= -1
    same = _sync_after_step(model, *unlabelled_changed, y, labelled)
    assert all(torch.equal(base[k], same[k]) for k in base)

    labelled_changed = x_a.clone(), x_b.clone()
    labelled_changed[1][labelled] *= -1
    other = _sync_after_step(model, *labelled_changed, y, labelled)
    assert not all(torch.equal(base[k], other[k]) for k in base)


def test_sync_fake_weight_adds_generated_pairs_as_asynchronous():
    torch.manual_seed(0)
    x_a, x_b, y = _batch()
    labelled = torch.ones(len(y), dtype=torch.bool)
    paper = SyncGAN(paper_config(), (28, 28), (48, 48))
    joint = copy.deepcopy(paper)
    joint.cfg = paper_config(sync_fake_weight=0.5)
    base, other = _sync_after_step(paper, x_a, x_b, y, labelled), _sync_after_step(joint, x_a, x_b, y, labelled)
    assert not all(torch.equal(base[k], other[k]) for k in base)
    torch.manual_seed(1)
    out = joint.train_step(x_a, x_b, y, labelled)
    torch.manual_seed(1)
    assert "loss_s_fake" not in paper.train_step(x_a, x_b, y, labelled)
    assert out["loss_s_fake"] > 0  # BCE of S(G_a(z), G_b(z)) against 0
    with pytest.raises(ValueError, match="sync_fake_weight"):
        SyncGANConfig(sync_fake_weight=-1.0).validate()


def test_synchronizer_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    model = SyncGAN(paper_config(lr_s=2e-3), (28, 28), (48, 48))
    g, y = torch.Generator().manual_seed(0), torch.arange(16) % 10
    x_a, x_b = _bands(y, 28, g), _bands(y, 48, g)
    mask = torch.ones(len(y), dtype=torch.bool)
    losses = [model.train_step(x_a, x_b, y, mask)["loss_s"] for _ in range(35)]
    assert sum(losses[-5:]) / 5 < 0.75 * sum(losses[:5]) / 5, losses  # log 4 = 1.39 at chance


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_spectral_norm_switch_covers_discriminators_and_synchronizer(spectral_norm):
    model = SyncGAN(paper_config(spectral_norm=spectral_norm), (28, 28), (48, 48))
    for d in (model.d_a, model.d_b, model.sync):
        weighted = [m for m in d.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        assert weighted and all(parametrize.is_parametrized(m, "weight") == spectral_norm for m in weighted)
    assert not any(parametrize.is_parametrized(m) for m in model.g_a.modules())

"""SyncGAN networks and its one training step.

Per step (the paper's Alg. 1):
1. Discriminators D_a, D_b: real data of their modality (all pairs, labelled or not) vs
   G_a(z_a), G_b(z_b).
2. Synchronizer S: only the *labelled* pairs of the batch (the semi-supervised share). Real
   synchronous pairs (x_a, x_b) are targets 1; asynchronous pairs, x_a with the x_b of another
   pair of a different class, are targets 0. With ``sync_fake_weight`` w > 0 (not in the paper),
   the generated pair of step 1 (G_a(z), G_b(z), one code) is a target 0 too, weighted w:
   L_S = BCE(S(x_a, x_b), 1) + BCE(S(x_a, x_b'), 0) + w BCE(S(G_a(z), G_b(z)), 0).
3. Generators: fool their discriminators, and make S call G_a(z), G_b(z) synchronous for
   identical codes and asynchronous for distinct codes; ``pair_ratio`` is the identical share.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from trainables.nets import Discriminator, Generator, Synchronizer
from trainables.precision import Precision
from trainables.syncgan.config import SyncGANConfig

GradHook = Optional[Callable[[nn.Module], None]]


def asynchronous_partner(labels: torch.Tensor) -> torch.Tensor:
    """For each row, a random other row of a different class (any other row if none differs)."""
    n = labels.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=labels.device)
    valid = labels[:, None] != labels[None, :]
    valid = torch.where(valid.any(1, keepdim=True), valid, ~eye)
    return torch.multinomial(valid.float(), 1).squeeze(1)


class SyncGAN(nn.Module):
    """G_a, D_a (image), G_b, D_b (audio) and the synchronizer S, with their optimizers."""

    def __init__(self, cfg: SyncGANConfig, shape_a: tuple[int, int], shape_b: tuple[int, int]) -> None:
        super().__init__()
        self.cfg = cfg
        self.g_a = Generator(cfg.z_dim, shape_a, cfg.width)
        self.g_b = Generator(cfg.z_dim, shape_b, cfg.width)
        self.d_a = Discriminator(shape_a, cfg.width, cfg.spectral_norm)
        self.d_b = Discriminator(shape_b, cfg.width, cfg.spectral_norm)
        self.sync = Synchronizer(shape_a, shape_b, cfg.width, cfg.spectral_norm)
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam([*self.g_a.parameters(), *self.g_b.parameters()], cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam([*self.d_a.parameters(), *self.d_b.parameters()], cfg.lr_d, betas=betas)
        self.opt_s = torch.optim.Adam(self.sync.parameters(), cfg.lr_s, betas=betas)
        self.precision = Precision()  # the training loop sets the device's mode (cfg.amp)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d, "opt_s": self.opt_s}

    def sample_z(self, n: int, device: torch.device | str) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, device=device)

    def latent_pairs(self, n: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(z_a, z_b, identical): the first round(pair_ratio * n) rows share one code."""
        z_a, z_b = self.sample_z(n, device), self.sample_z(n, device)
        identical = torch.arange(n, device=device) < round(self.cfg.pair_ratio * n)
        z_b = torch.where(identical[:, None], z_a, z_b)
        return z_a, z_b, identical

    def train_step(
        self,
        x_a: torch.Tensor,
        x_b: torch.Tensor,
        labels: torch.Tensor,
        labelled: torch.Tensor,
        sync_grads: GradHook = None,
    ) -> dict[str, float]:
        """One step of D, S and G on a batch of pairs; ``labelled`` masks the pairs S may use.

        ``sync_grads`` (data parallel) averages a module's gradients across workers before
        its optimizer steps. Forward passes run under ``self.precision``'s autocast and losses
        are scaled by its grad scaler (``amp``). Returns the losses as floats.
        """
        n, dev = x_a.shape[0], x_a.device
        hook = sync_grads or (lambda m: None)
        amp = self.precision
        out: dict[str, float] = {}

        # 1. discriminators
        with torch.no_grad(), amp.autocast():
            z = self.sample_z(n, dev)  # one code for both: the pair also serves S (sync_fake_weight)
            fake_a, fake_b = self.g_a(z), self.g_b(z)
        self.opt_d.zero_grad(set_to_none=True)
        with amp.autocast():
            loss_d_a = _bce(self.d_a(x_a), 1.0) + _bce(self.d_a(fake_a), 0.0)
            loss_d_b = _bce(self.d_b(x_b), 1.0) + _bce(self.d_b(fake_b), 0.0)
        out.update(_finite(loss_d_image=loss_d_a, loss_d_audio=loss_d_b))
        amp.backward(loss_d_a + loss_d_b)
        hook(self.d_a), hook(self.d_b)
        amp.step(self.opt_d)

        # 2. synchronizer, on labelled pairs only
        idx = labelled.nonzero().squeeze(1)
        if idx.numel() >= 2 or sync_grads is not None:
            self.opt_s.zero_grad(set_to_none=True)
            if idx.numel() >= 2:
                la, lb = x_a[idx], x_b[idx]
                partner = asynchronous_partner(labels[idx])
                with amp.autocast():
                    loss_s = _bce(self.sync(la, lb), 1.0) + _bce(self.sync(la, lb[partner]), 0.0)
                    if self.cfg.sync_fake_weight:
                        loss_s_fake = _bce(self.sync(fake_a, fake_b), 0.0)
                        out.update(_finite(loss_s_fake=loss_s_fake))
                        loss_s = loss_s + self.cfg.sync_fake_weight * loss_s_fake
                out.update(_finite(loss_s=loss_s))
            else:  # data parallel: this rank has no labelled pair but must join the gradient average
                loss_s = sum(p.sum() * 0.0 for p in self.sync.parameters())
            amp.backward(loss_s)
            hook(self.sync)
            amp.step(self.opt_s)
        out["labelled_pairs"] = float(idx.numel())

        # 3. generators: adversarial + synchronous loss
        z_a, z_b, identical = self.latent_pairs(n, dev)
        self.opt_g.zero_grad(set_to_none=True)
        with amp.autocast():
            gen_a, gen_b = self.g_a(z_a), self.g_b(z_b)
            adv = _bce(self.d_a(gen_a), 1.0) + _bce(self.d_b(gen_b), 1.0)
            sync_loss = F.binary_cross_entropy_with_logits(self.sync(gen_a, gen_b), identical.float())
            loss_g = adv + self.cfg.sync_weight * sync_loss
        out.update(_finite(loss_g_adv=adv, loss_g_sync=sync_loss))
        amp.backward(loss_g)
        hook(self.g_a), hook(self.g_b)
        amp.step(self.opt_g)
        amp.update()
        return out

    @torch.no_grad()
    def generate(self, z_a: torch.Tensor, z_b: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """G_a(z_a), G_b(z_b or z_a), without gradients.

        Batch statistics are used, as in training (DCGAN practice): the running averages of a
        generator that changes every step describe none of its recent states.
        """
        return self.g_a(z_a), self.g_b(z_a if z_b is None else z_b)


def _finite(**losses: torch.Tensor) -> dict[str, float]:
    """The losses as floats; FloatingPointError naming the first NaN or infinite one, raised before
    the optimizer that loss drives steps."""
    out = {name: float(v.detach()) for name, v in losses.items()}
    for name, value in out.items():
        if value != value or value in (float("inf"), float("-inf")):
            raise FloatingPointError(f"SyncGAN diverged: {name} = {value}")
    return out


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

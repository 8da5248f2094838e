"""CoGAN: an image GAN and an audio GAN whose generators share their first layer and whose
discriminators share their last (Liu & Tuzel 2016), the weight-sharing baseline the SyncGAN paper cites.

Per batch of N images x_a and N clips x_b (not used as pairs) and N codes z ~ N(0, I):
    G_a(z) = head_a(trunk(z)),  G_b(z) = head_b(trunk(z))          trunk shared
    D_a(x) = last(body_a(x)),   D_b(x) = last(body_b(x))           last layer shared
    loss_d_image = BCE(D_a(x_a), 1) + BCE(D_a(G_a(z)), 0),  loss_d_audio likewise  -> D, Adam(lr_d)
    loss_g       = BCE(D_a(G_a(z)), 1) + BCE(D_b(G_b(z)), 1)                       -> G, Adam(lr_g)
The shared layers are what makes G_a(z) and G_b(z) correspond; nothing tells them which classes go
together, so its sync rate is what weight sharing alone gives. Translation recovers z on one
generator and generates with the other (``trainables.transfer``).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

from trainables.cogan.config import CoGANConfig
from trainables.nets import Generator, conv_features
from trainables.precision import Precision
from trainables.step import AverageGrads, bce_to, finite_losses


def _unique(*modules: nn.Module) -> list[nn.Parameter]:
    """The parameters of ``modules``, each once (shared layers belong to two)."""
    return list({id(p): p for m in modules for p in m.parameters()}.values())


class CoGAN(nn.Module):
    """``g_a``/``g_b`` (z -> image / audio column) and ``d_a``/``d_b``, coupled by shared layers."""

    def __init__(self, cfg: CoGANConfig, shape_a: tuple[int, int], shape_b: tuple[int, int],
                 n_classes: int = 10, audio_representation: str = "") -> None:  # noqa: ARG002 (the model contract)
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        hidden = cfg.shared_width
        trunk = nn.Sequential(nn.Linear(cfg.z_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
        self.g_a = nn.Sequential(trunk, Generator(hidden, shape_a, cfg.width))
        self.g_b = nn.Sequential(trunk, Generator(hidden, shape_b, cfg.width))
        wrap = _sn if cfg.spectral_norm else (lambda m: m)
        last = wrap(nn.Linear(hidden, 1))
        self.d_a, self.d_b = (nn.Sequential(body, wrap(nn.Linear(n, hidden)), nn.LeakyReLU(0.2, inplace=True), last)
                              for body, n in (conv_features(s, cfg.width, cfg.spectral_norm) for s in (shape_a, shape_b)))
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam(_unique(self.g_a, self.g_b), cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(_unique(self.d_a, self.d_b), cfg.lr_d, betas=betas)
        self.precision = Precision()  # the training loop sets the device's mode (cfg.amp)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def sample_z(self, n: int, device: torch.device | str, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, generator=generator).to(device)

    @torch.no_grad()
    def generate(self, z_a: torch.Tensor, z_b: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """G_a(z_a), G_b(z_b or z_a), without gradients, in the mode the model is in (batch statistics
        after training, as SyncGAN's)."""
        return self.g_a(z_a), self.g_b(z_a if z_b is None else z_b)

    def translate(self, x: torch.Tensor, direction: str, steps: Optional[int] = None, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples of one modality -> (the other's, each recovered code's reconstruction error): the paper's
        latent recovery on the source generator (``direction`` "a_to_b": image -> audio, or "b_to_a")."""
        from trainables.transfer import TransferConfig, transfer

        tcfg = TransferConfig(steps=self.cfg.transfer_steps if steps is None else steps,
                              restarts=self.cfg.transfer_restarts, seed=seed)
        with torch.enable_grad():
            out, rec = transfer(self, x, direction, tcfg)
        return out, rec.loss

    def train_step(
        self, x_image: torch.Tensor, x_audio: torch.Tensor, labels: torch.Tensor,
        labelled: torch.Tensor, average_grads: AverageGrads = None,
    ) -> dict[str, float]:
        """One step of both discriminators, then one of both generators on shared codes (module docstring).
        ``labels`` and ``labelled`` are unused: CoGAN never sees a pair. Returns loss_d_image,
        loss_d_audio and loss_g; a NaN or infinite loss raises FloatingPointError naming it."""
        hook = average_grads or (lambda opt: None)
        amp = self.precision
        self.train()
        z = torch.randn(len(x_image), self.cfg.z_dim, device=x_image.device)
        with amp.autocast():
            fake_a, fake_b = self.g_a(z), self.g_b(z)
            loss_d_a = bce_to(self.d_a(x_image), 1.0) + bce_to(self.d_a(fake_a.detach()), 0.0)
            loss_d_b = bce_to(self.d_b(x_audio), 1.0) + bce_to(self.d_b(fake_b.detach()), 0.0)
        out = finite_losses("CoGAN", loss_d_image=loss_d_a, loss_d_audio=loss_d_b)
        self.opt_d.zero_grad(set_to_none=True)
        amp.backward(loss_d_a + loss_d_b)
        hook(self.opt_d)
        amp.step(self.opt_d)

        with amp.autocast():
            loss_g = bce_to(self.d_a(fake_a), 1.0) + bce_to(self.d_b(fake_b), 1.0)
        out.update(finite_losses("CoGAN", loss_g=loss_g))
        self.opt_g.zero_grad(set_to_none=True)
        amp.backward(loss_g, inputs=list(self.opt_g.param_groups[0]["params"]))
        hook(self.opt_g)
        amp.step(self.opt_g)
        amp.update()
        return out

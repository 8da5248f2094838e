"""VAE and VAE-GAN from the seed slides: an audio encoder and an image decoder, one training step each.

Notation, per batch of N pairs (x_image, x_audio), of which the ``labelled`` L are known pairs:
    (mu, logvar) = E(x_audio),  z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I),  logits = Dec(z)
    RL = (1 / L) * sum over labelled pairs of sum over pixels of
         BCE(sigmoid(logits), (x_image + 1) / 2)          (reconstruction="bce", the default), or
         (tanh(logits / 2) - x_image) ** 2                  (reconstruction="mse")
    KL = (1 / N) * sum over all N pairs of KL(N(mu, diag exp(logvar)) || N(0, I))
       = (1 / N) * sum_n sum_j -0.5 * (1 + logvar_nj - mu_nj ** 2 - exp(logvar_nj))
    (RL is 0 when no pair of the batch is labelled: the encoder still learns from KL.)

VAE (Kingma & Welling; the slides' "generation loss + KL divergence"):
    loss_vae = RL + w * KL                   -> encoder and decoder, Adam(lr)
    w = min(1, t / kl_warmup_steps) at training step t = 0, 1, ... (w = 1 with kl_warmup_steps = 0,
    the slides' loss); the step count is a buffer, so it survives a checkpoint.

VAE-GAN (the slides' minimax objective with reconstruction and KL added to the generator's loss):
    x_fake = tanh(Dec(z) / 2), decoded from the codes of all N audio clips
    loss_d_image = BCE(D(x_image), 1) + BCE(D(x_fake), 0)                    -> D, Adam(lr_d)
    loss_g_adv   = BCE(D(x_fake), 1)          (non-saturating generator loss)
    loss_vae     = loss_g_adv + alpha * RL + beta * KL                       -> E and Dec, Adam(lr)
  alpha weighs how closely the image decoded from a clip must reproduce the image paired with it
  (high alpha: VAE-like, label-faithful "archetype" images; low alpha: more diverse, GAN-like images
  that may drift from the audio's class); beta weighs how closely the audio codes must follow the
  N(0, I) prior (a smooth, sampleable latent space against codes that carry more of the clip).
  BCE is mean over the batch; RL and KL are sums per pair, so alpha and beta trade nats per pair
  against the adversarial loss of about 0.7 per pair.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.batchnorm import batch_statistics, evaluating
from trainables.precision import Precision
from trainables.step import AverageGrads, bce_to, finite_losses
from trainables.vae.config import AudioToImageConfig, VAEConfig, VAEGANConfig
from trainables.vae.nets import (
    ConvAudioEncoder, ConvDiscriminator, ConvImageDecoder, FCAudioEncoder, FCImageDecoder, to_image,
)



def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions, mean over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()


def reconstruction_loss(logits: torch.Tensor, x: torch.Tensor, kind: str, mask: torch.Tensor) -> torch.Tensor:
    """Per-pair sum over pixels, mean over the rows in ``mask`` (0, with a graph, when none is)."""
    if kind == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(logits, (x + 1) / 2, reduction="none")
    elif kind == "mse":
        per_pixel = (to_image(logits) - x).pow(2)
    else:
        raise ValueError(f"unknown reconstruction {kind!r}")
    per_pair = per_pixel.flatten(1).sum(1)
    weight = mask.to(per_pair.dtype)
    return (per_pair * weight).sum() / weight.sum().clamp(min=1)


class AudioToImage(nn.Module):
    """What VAE and VAE-GAN share: ``encoder`` (audio -> mu, logvar), ``decoder`` (z -> image logits)."""

    encoder: nn.Module
    decoder: nn.Module

    def __init__(self, cfg: AudioToImageConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.precision = Precision()  # the training loop sets the device's mode (cfg.amp)

    def encode(self, x_audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(z sampled with the reparameterization trick, mu, logvar)."""
        mu, logvar = self.encoder(x_audio)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return z, mu, logvar

    def sample_z(self, n: int, device: torch.device | str) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, device=device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, batch_stats: bool = False) -> torch.Tensor:
        """Images in [-1, 1] for codes z (e.g. from the prior)."""
        with (batch_statistics if batch_stats else evaluating)(self):
            return to_image(self.decoder(z))

    @torch.no_grad()
    def images_from_audio(self, x_audio: torch.Tensor, batch_size: int = 512, batch_stats: bool = False) -> torch.Tensor:
        """The image each clip decodes to, from its posterior mean code (the slides' evaluation).

        Eval mode by default (BatchNorm running statistics: encoder and decoder see real audio and
        its codes, whose statistics the running averages track); ``batch_stats`` normalizes each
        chunk of ``batch_size`` with its own statistics instead. The model's modes are restored.
        """
        with (batch_statistics if batch_stats else evaluating)(self):
            return torch.cat([
                to_image(self.decoder(self.encoder(x_audio[i:i + batch_size])[0]))
                for i in range(0, len(x_audio), batch_size)
            ])

    def translate(self, x: torch.Tensor, direction: str, steps: int | None = None, seed: int = 0  # noqa: ARG002
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """The model contract's translation: "b_to_a" (audio -> image, ``images_from_audio``) only;
        returns (images, zeros: no code is recovered)."""
        if direction != "b_to_a":
            raise ValueError(f"{type(self).__name__} generates images from audio only (direction b_to_a), not {direction!r}")
        return self.images_from_audio(x), torch.zeros(len(x))

    def _vae_terms(self, x_image, x_audio, labelled) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(decoder logits, RL, KL) for a batch (train mode)."""
        z, mu, logvar = self.encode(x_audio)
        logits = self.decoder(z)
        rl = reconstruction_loss(logits, x_image, self.cfg.reconstruction, labelled)
        return logits, rl, kl_divergence(mu, logvar)


class VAE(AudioToImage):
    """The slides' audio-to-image VAE; see the module docstring for the loss."""

    def __init__(self, cfg: VAEConfig, shape_image: tuple[int, int], shape_audio: tuple[int, int],
                 n_classes: int = 10, audio_representation: str = "") -> None:  # noqa: ARG002 (the model contract)
        super().__init__(cfg)
        self.encoder = FCAudioEncoder(shape_audio, cfg.z_dim, cfg.width, cfg.fc_width, cfg.conv_stages)
        self.decoder = FCImageDecoder(shape_image, cfg.z_dim, cfg.width, cfg.fc_width, cfg.conv_stages)
        self.opt_vae = torch.optim.Adam(self.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_vae": self.opt_vae}

    def kl_weight(self) -> float:
        """The KL term's weight w at this step (see the module docstring)."""
        warmup = int(self.cfg.kl_warmup_steps)  # type: ignore[attr-defined]
        return 1.0 if warmup <= 0 else min(1.0, int(self.steps_done) / warmup)

    def train_step(
        self, x_image: torch.Tensor, x_audio: torch.Tensor, labels: torch.Tensor,
        labelled: torch.Tensor, average_grads: AverageGrads = None,
    ) -> dict[str, float]:
        """One Adam step on RL + w * KL. ``labels`` are unused (pairs are the only supervision).

        Returns loss_vae, loss_reconstruction, loss_kl (unweighted), kl_weight and labelled_pairs;
        a NaN or infinite loss raises FloatingPointError before any weight changes.
        """
        hook = average_grads or (lambda m: None)
        amp = self.precision
        self.train()
        w = self.kl_weight()
        with amp.autocast():
            _, rl, kl = self._vae_terms(x_image, x_audio, labelled)
            loss = rl + w * kl
        out = finite_losses("VAE", loss_vae=loss, loss_reconstruction=rl, loss_kl=kl)
        self.opt_vae.zero_grad(set_to_none=True)
        amp.backward(loss)
        hook(self.opt_vae)
        amp.step(self.opt_vae)
        amp.update()
        self.steps_done += 1
        out["kl_weight"] = w
        out["labelled_pairs"] = float(labelled.sum())
        return out


class VAEGAN(AudioToImage):
    """The slides' all-convolutional VAE-GAN; see the module docstring for the losses."""

    def __init__(self, cfg: VAEGANConfig, shape_image: tuple[int, int], shape_audio: tuple[int, int],
                 n_classes: int = 10, audio_representation: str = "") -> None:  # noqa: ARG002 (the model contract)
        super().__init__(cfg)
        self.encoder = ConvAudioEncoder(shape_audio, cfg.z_dim, cfg.width, cfg.conv_stages)
        self.decoder = ConvImageDecoder(shape_image, cfg.z_dim, cfg.width, cfg.conv_stages)
        self.d_image = ConvDiscriminator(shape_image, cfg.width, cfg.conv_stages, cfg.spectral_norm)
        betas = (cfg.beta1, 0.999)
        self.opt_vae = torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()], cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.d_image.parameters(), cfg.lr_d, betas=betas)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_vae": self.opt_vae, "opt_d": self.opt_d}

    def train_step(
        self, x_image: torch.Tensor, x_audio: torch.Tensor, labels: torch.Tensor,
        labelled: torch.Tensor, average_grads: AverageGrads = None,
    ) -> dict[str, float]:
        """One step of D, then one of encoder + decoder. ``labels`` are unused.

        Returns loss_d_image, loss_g_adv, loss_reconstruction, loss_kl, loss_vae (the encoder/decoder
        objective) and labelled_pairs; a NaN or infinite loss raises FloatingPointError naming it.
        """
        hook = average_grads or (lambda m: None)
        amp = self.precision
        self.train()
        cfg: VAEGANConfig = self.cfg  # type: ignore[assignment]
        with amp.autocast():
            logits, rl, kl = self._vae_terms(x_image, x_audio, labelled)
            fake = to_image(logits)
            loss_d = bce_to(self.d_image(x_image), 1.0) + bce_to(self.d_image(fake.detach()), 0.0)
        out = finite_losses("VAE-GAN", loss_d_image=loss_d)
        self.opt_d.zero_grad(set_to_none=True)
        amp.backward(loss_d)
        hook(self.opt_d)
        amp.step(self.opt_d)

        with amp.autocast():
            adv = bce_to(self.d_image(fake), 1.0)
            loss = adv + cfg.alpha * rl + cfg.beta * kl
        out.update(finite_losses("VAE-GAN", loss_g_adv=adv, loss_reconstruction=rl, loss_kl=kl, loss_vae=loss))
        self.opt_vae.zero_grad(set_to_none=True)
        amp.backward(loss, inputs=list(self.opt_vae.param_groups[0]["params"]))
        hook(self.opt_vae)
        amp.step(self.opt_vae)
        amp.update()
        out["labelled_pairs"] = float(labelled.sum())
        return out

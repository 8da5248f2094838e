"""SyncGAN networks and its one training step.

Per step (the paper's Alg. 1):
1. Discriminators D_a, D_b: real data of their modality (all pairs, labelled or not) vs
   G_a(z_a), G_b(z_b).
2. Synchronizer S on real pairs whose pairing may be used (the semi-supervised share): synchronous
   pairs are targets 1, asynchronous pairs (an image with a clip of another class) targets 0. Which
   pairs: ``sync_batch`` (the labelled rows of the batch, or a full batch from the labelled pool)
   and ``sync_pairs`` (one synchronous and one asynchronous pair per row, or every pairing). With
   ``sync_fake_weight`` w > 0 (not in the paper), the generated pair of step 1 (G_a(z), G_b(z), one
   code) is a target 0 too, weighted w.
3. Generators: fool their discriminators, and make S call G_a(z), G_b(z) synchronous for
   identical codes and asynchronous for distinct codes, ``pair_ratio`` the identical share
   (``gen_pairs``: the paper's split of the batch's codes, or every pairing of one batch).
"""
from __future__ import annotations

import contextlib
import copy
import math
from typing import Callable, Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainables.augment import random_shift
from trainables.nets import Discriminator, Generator, Synchronizer
from trainables.precision import Precision
from trainables.representation import Pixels, representation
from trainables.step import AverageGrads, bce_to, finite_losses
from trainables.syncgan.config import SyncGANConfig
from trainables.syncgan.pool import LabelledPool



def asynchronous_partner(labels: torch.Tensor) -> torch.Tensor:
    """For each row, a random other row of a different class (any other row if none differs)."""
    n = labels.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=labels.device)
    valid = labels[:, None] != labels[None, :]
    valid = torch.where(valid.any(1, keepdim=True), valid, ~eye)
    return torch.multinomial(valid.float(), 1).squeeze(1)


def pairwise_bce(logits: torch.Tensor, target: torch.Tensor, weight_pos: float = 0.5) -> torch.Tensor:
    """BCE over a matrix of pair logits, positives (``target`` True) and negatives each averaged on
    their own and weighted ``weight_pos`` and 1 - ``weight_pos`` (one class never drowns the other)."""
    loss = F.binary_cross_entropy_with_logits(logits, target.float(), reduction="none")
    pos, neg = target.sum(), (~target).sum()
    return (weight_pos * (loss * target).sum() / pos.clamp_min(1)
            + (1 - weight_pos) * (loss * ~target).sum() / neg.clamp_min(1))


@contextlib.contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """No weight gradients for ``modules`` inside (gradients still flow through them to their inputs)."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class SyncGAN(nn.Module):
    """G_a, D_a (image), G_b, D_b (audio) and the synchronizer S, with their optimizers."""

    def __init__(self, cfg: SyncGANConfig, shape_a: tuple[int, int], shape_b: tuple[int, int],
                 n_classes: int = 10, audio_representation: str = "") -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.n_classes = int(n_classes)
        self.latent_classes = self.n_classes if cfg.latent_classes is None else cfg.latent_classes
        if not 0 <= self.latent_classes < cfg.z_dim:
            raise ValueError(f"latent_classes (null: the corpus's {self.n_classes} classes) must be below z_dim "
                             f"{cfg.z_dim}: set z_dim larger or latent_classes smaller")
        w_a, w_b = cfg.image_width or cfg.width, cfg.audio_width or cfg.width
        # what the audio networks see: a folded waveform's 1-D signal (waveform_nets), else the corpus's pixels
        self.view_b = representation(audio_representation, shape_b, cfg.waveform_nets)
        # S's training shifts (sync_augment) move a picture both ways, a sound along time only
        self.shift_rows_b = audio_representation == "image"
        shape_b = self.view_b.net_shape
        self.g_a = Generator(cfg.z_dim, shape_a, w_a)
        self.g_b = Generator(cfg.z_dim, shape_b, w_b)
        self.d_a = Discriminator(shape_a, w_a, cfg.spectral_norm)
        self.d_b = Discriminator(shape_b, w_b, cfg.spectral_norm)
        self.sync = Synchronizer(shape_a, shape_b, cfg.sync_width or w_a, cfg.spectral_norm, width_b=cfg.sync_width or w_b,
                                 n_classes=self.n_classes if cfg.sync_class_weight else 0)
        # the weight averages the samples come from (``ema_decay``): frozen copies, updated after each G step
        self.ema_a = copy.deepcopy(self.g_a).requires_grad_(False) if cfg.ema_decay else None
        self.ema_b = copy.deepcopy(self.g_b).requires_grad_(False) if cfg.ema_decay else None
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam([*self.g_a.parameters(), *self.g_b.parameters()], cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam([*self.d_a.parameters(), *self.d_b.parameters()], cfg.lr_d, betas=betas)
        self.opt_s = torch.optim.Adam(self.sync.parameters(), cfg.lr_s, betas=betas)
        self.precision = Precision()  # the training loop sets the device's mode (cfg.amp)
        self.pool: Optional[LabelledPool] = None
        # synchronizer warm-up steps done, and whether the warm-up ended: in the state dict, so that a
        # resumed run does not redo them
        self.register_buffer("sync_warmup_done", torch.zeros((), dtype=torch.long))
        self.register_buffer("sync_warmup_ended", torch.zeros((), dtype=torch.bool))
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))
        self.warmup_accuracy: Optional[float] = None
        """S's balanced accuracy on fresh labelled pairs when the warm-up ended (None: not measured)."""
        self.warmup_warning: Optional[str] = None
        """The one line saying S is still near chance after its warm-up (the evaluator reports it once)."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d, "opt_s": self.opt_s}

    def bind_train_data(self, images: np.ndarray, audios: np.ndarray, labels: np.ndarray, labelled: np.ndarray,
                        device: torch.device | str) -> None:
        """This rank's training rows and their labelled mask: the pool ``sync_batch: pool`` and the
        warm-up draw from (its audio as the networks see it)."""
        clips = audios[labelled]
        if not isinstance(self.view_b, Pixels):
            clips = np.concatenate([self.view_b.to_net(torch.from_numpy(clips[i:i + 4096])).numpy()
                                    for i in range(0, len(clips), 4096)] or [clips[:0, :, :1]])
        self.pool = LabelledPool(images[labelled], clips, labels[labelled], device)

    @torch.no_grad()
    def synchronizer_logits(self, x_image: torch.Tensor, x_audio: torch.Tensor) -> torch.Tensor:
        """S's verdicts (logit > 0: synchronous) on pairs in the corpus's representation, in eval mode."""
        training = self.sync.training
        self.sync.eval()
        logits = self.sync(x_image, self.view_b.to_net(x_audio))
        self.sync.train(training)
        return logits

    def sample_z(self, n: int, device: torch.device | str, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` codes of the prior: N(0, I), its first ``latent_classes`` dims replaced by a one-hot of a
        uniformly drawn category (scaled to the Gaussian part's norm per dim) where that is set."""
        z = torch.randn(n, self.cfg.z_dim, generator=generator).to(device)
        k = self.latent_classes
        if k:
            c = torch.randint(k, (n,), generator=generator).to(device)
            z[:, :k] = F.one_hot(c, k).to(z.dtype) * math.sqrt(k)
        return z

    def latent_pairs(self, n: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(z_a, z_b, identical): the first round(pair_ratio * n) rows share one code."""
        z_a, z_b = self.sample_z(n, device), self.sample_z(n, device)
        identical = torch.arange(n, device=device) < round(self.cfg.pair_ratio * n)
        z_b = torch.where(identical[:, None], z_a, z_b)
        return z_a, z_b, identical

    def sync_real_loss(self, x_a: torch.Tensor, x_b: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """S's loss on real pairs (x_a[i], x_b[i]) of one class ``labels[i]`` (``sync_pairs``), plus its
        class heads' cross-entropy weighted ``sync_class_weight``."""
        f_a, f_b = self.sync.features(*self.augmented(x_a, x_b))
        h_a, h_b = self.sync.project(f_a, f_b)
        if self.cfg.sync_pairs == "all":
            same = labels[:, None] == labels[None, :]
            loss = 2.0 * pairwise_bce(self.sync.score(h_a[:, None], h_b[None]), same)
        else:
            partner = asynchronous_partner(labels)
            loss = bce_to(self.sync.score(h_a, h_b), 1.0) + bce_to(self.sync.score(h_a, h_b[partner]), 0.0)
        if self.cfg.sync_class_weight:
            logits_a, logits_b = self.sync.classify(f_a, f_b)
            loss = loss + self.cfg.sync_class_weight * (F.cross_entropy(logits_a, labels) + F.cross_entropy(logits_b, labels))
        return loss

    def class_agreement_loss(self, f_a: torch.Tensor, f_b: torch.Tensor, identical: torch.Tensor) -> torch.Tensor:
        """The generators' class-head loss: through S's class heads, the probability that G_a(z_i) and
        G_b(z_j) show one class, sum_c p_a(c | i) p_b(c | j), pushed to 1 for identical codes and to 0 for
        distinct ones (weighted ``pair_ratio`` and 1 - ``pair_ratio``, as the pair head's loss)."""
        logits_a, logits_b = self.sync.classify(f_a, f_b)
        agree = (logits_a.float().softmax(1) @ logits_b.float().softmax(1).T).clamp(1e-6, 1 - 1e-6)
        return pairwise_bce(torch.logit(agree), identical, self.cfg.pair_ratio)

    def class_balance_loss(self, f_a: torch.Tensor, f_b: torch.Tensor) -> torch.Tensor:
        """The generators' class-balance loss: for each modality, KL(m || uniform) = log C - H(m), where m
        is the batch's mean of S's class-head probabilities on the generated samples (0 when the batch
        covers every class equally)."""
        loss = f_a.new_zeros((), dtype=torch.float32)
        for logits in self.sync.classify(f_a, f_b):
            m = logits.float().softmax(1).mean(0).clamp_min(1e-8)
            loss = loss + math.log(m.numel()) + (m * m.log()).sum()
        return loss

    def augmented(self, x_a: torch.Tensor, x_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A pair batch as S sees it in training: each modality moved at random per sample
        (``sync_augment``): an image both ways, the other side along its time axis only unless it is a
        picture too (a spectrogram's rows are frequencies; the networks' view of the audio)."""
        return (random_shift(x_a, self.cfg.sync_augment),
                random_shift(x_b, self.cfg.sync_augment, rows=self.shift_rows_b))

    @torch.no_grad()
    def pool_accuracy(self, n: int) -> float:
        """S's balanced accuracy over every pairing of ``n`` freshly drawn labelled pairs (synchronous
        and asynchronous pairs weighted equally: 0.5 is chance)."""
        x_a, x_b, labels = self.pool.sample(n)
        training = self.sync.training
        self.sync.eval()
        h_a, h_b = self.sync.embed(x_a, x_b)
        verdict = self.sync.score(h_a[:, None], h_b[None]) > 0
        self.sync.train(training)
        same = labels[:, None] == labels[None, :]
        pos = (verdict & same).sum() / same.sum().clamp_min(1)
        neg = (~verdict & ~same).sum() / (~same).sum().clamp_min(1)
        return float(0.5 * (pos + neg)) if (~same).any() else float(pos)

    def _sync_batch(self, x_a: torch.Tensor, x_b: torch.Tensor, labels: torch.Tensor,
                    labelled: torch.Tensor) -> Optional[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """S's real pairs this step, or None where this rank has too few (``sync_batch``)."""
        if self.cfg.sync_batch == "pool":
            if self.pool is None:
                raise RuntimeError("sync_batch: pool needs the training rows (bind_train_data)")
            return self.pool.sample(x_a.shape[0]) if self.pool.usable else None
        idx = labelled.nonzero().squeeze(1)
        return (x_a[idx], x_b[idx], labels[idx]) if idx.numel() >= 2 else None

    def warm_up_synchronizer(self, hook: Callable[[torch.optim.Optimizer], None]) -> None:
        """Synchronizer-only steps on batches of the labelled pool: ``sync_warmup_steps``, then
        ``sync_warmup_check`` at a time until S's balanced accuracy on fresh labelled pairs reaches
        ``sync_warmup_accuracy`` (at most ``sync_warmup_max_steps``; past that, one line says S is still
        near chance and what to look at, and training goes on). Every data-parallel rank takes the same
        number of steps: the accuracy decided on is the mean over ranks where a process group runs."""
        cfg, n = self.cfg, self.cfg.batch_size
        if cfg.sync_warmup_steps == 0:
            self.sync_warmup_ended.fill_(True)
        while not bool(self.sync_warmup_ended):
            done = int(self.sync_warmup_done)
            if done >= cfg.sync_warmup_steps and (done - cfg.sync_warmup_steps) % cfg.sync_warmup_check == 0:
                usable = self.pool is not None and self.pool.usable
                acc = self._agreed(self.pool_accuracy(4 * n) if usable else 1.0)
                if acc >= cfg.sync_warmup_accuracy or done >= cfg.sync_warmup_max_steps:
                    self.warmup_accuracy = acc if usable else None
                    self.sync_warmup_ended.fill_(True)
                    if usable and acc < cfg.sync_warmup_accuracy:
                        self.warmup_warning = (
                            f"warning: the synchronizer is still near chance after its warm-up ({done} steps: balanced "
                            f"accuracy {acc:.3f} on real labelled pairs, chance 0.5), so its verdicts tell the "
                            f"generators little; look at the labelled pairs ({len(self.pool)} at semi_rate "
                            f"{cfg.semi_rate}), whether the judges tell the classes apart (their test accuracy), "
                            f"lr_s ({cfg.lr_s:g}) and sync_class_weight ({cfg.sync_class_weight:g})")
                        print(self.warmup_warning, flush=True)
                    break
            self.opt_s.zero_grad(set_to_none=True)
            if self.pool is not None and self.pool.usable:
                with self.precision.autocast():
                    loss = self.sync_real_loss(*self.pool.sample(n))
                finite_losses("SyncGAN", loss_s_warmup=loss)
            else:
                loss = sum(p.sum() * 0.0 for p in self.sync.parameters())
            self.precision.backward(loss)
            hook(self.opt_s)
            self.precision.step(self.opt_s)
            self.precision.update()
            self.sync_warmup_done += 1

    @staticmethod
    def _agreed(value: float) -> float:
        """``value`` as every data-parallel rank sees it: the mean over ranks where a process group runs."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            t = torch.tensor([value], dtype=torch.float64)
            dist.all_reduce(t)
            return float(t) / dist.get_world_size()
        return value

    def train_step(
        self,
        x_image: torch.Tensor,
        x_audio: torch.Tensor,
        labels: torch.Tensor,
        labelled: torch.Tensor,
        average_grads: AverageGrads = None,
    ) -> dict[str, float]:
        """One step of D, S and G on a batch of pairs; ``labelled`` masks the pairs S may use.

        ``average_grads`` (data parallel) averages an optimizer's gradients across workers before
        it steps. Forward passes run under ``self.precision``'s autocast and losses
        are scaled by its grad scaler (``amp``). Returns the losses as floats.
        """
        n, dev = x_image.shape[0], x_image.device
        x_audio = self.view_b.to_net(x_audio)
        hook = average_grads or (lambda m: None)
        amp = self.precision
        out: dict[str, float] = {}
        if not bool(self.sync_warmup_ended):
            self.warm_up_synchronizer(hook)

        # 1. discriminators
        with torch.no_grad(), amp.autocast():
            z = self.sample_z(n, dev)  # one code for both: the pair also serves S (sync_fake_weight)
            fake_a, fake_b = self.g_a(z), self.g_b(z)
        self.opt_d.zero_grad(set_to_none=True)
        with amp.autocast():
            loss_d_a = bce_to(self.d_a(x_image), 1.0) + bce_to(self.d_a(fake_a), 0.0)
            loss_d_b = bce_to(self.d_b(x_audio), 1.0) + bce_to(self.d_b(fake_b), 0.0)
        out.update(finite_losses("SyncGAN", loss_d_image=loss_d_a, loss_d_audio=loss_d_b))
        amp.backward(loss_d_a + loss_d_b)
        hook(self.opt_d)
        amp.step(self.opt_d)

        # 2. synchronizer, on real pairs whose pairing may be used
        real = self._sync_batch(x_image, x_audio, labels, labelled)
        if real is not None or average_grads is not None:
            self.opt_s.zero_grad(set_to_none=True)
            if real is not None:
                with amp.autocast():
                    loss_s = self.sync_real_loss(*real)
                    if self.cfg.sync_fake_weight:
                        loss_s_fake = bce_to(self.sync(*self.augmented(fake_a, fake_b)), 0.0)
                        out.update(finite_losses("SyncGAN", loss_s_fake=loss_s_fake))
                        loss_s = loss_s + self.cfg.sync_fake_weight * loss_s_fake
                out.update(finite_losses("SyncGAN", loss_s=loss_s))
            else:  # data parallel: this rank has no labelled pair but must join the gradient average
                loss_s = sum(p.sum() * 0.0 for p in self.sync.parameters())
            amp.backward(loss_s)
            hook(self.opt_s)
            amp.step(self.opt_s)
        out["labelled_pairs"] = float(real[0].shape[0]) if real is not None else 0.0

        # 3. generators: adversarial + synchronous loss; D and S only pass gradients through
        self.opt_g.zero_grad(set_to_none=True)
        with frozen(self.d_a, self.d_b, self.sync), amp.autocast():
            if self.cfg.gen_pairs == "all":
                z = self.sample_z(n, dev)
                gen_a, gen_b = self.g_a(z), self.g_b(z)
                f_a, f_b = self.sync.features(*self.augmented(gen_a, gen_b))
                h_a, h_b = self.sync.project(f_a, f_b)
                identical = torch.eye(n, dtype=torch.bool, device=dev)
                sync_loss = pairwise_bce(self.sync.score(h_a[:, None], h_b[None]), identical, self.cfg.pair_ratio)
                if self.cfg.gen_class_weight:
                    sync_loss = sync_loss + self.cfg.gen_class_weight * self.class_agreement_loss(f_a, f_b, identical)
            else:
                z_a, z_b, identical = self.latent_pairs(n, dev)
                gen_a, gen_b = self.g_a(z_a), self.g_b(z_b)
                seen_a, seen_b = self.augmented(gen_a, gen_b)
                sync_loss = F.binary_cross_entropy_with_logits(self.sync(seen_a, seen_b), identical.float())
                if self.cfg.class_balance_weight:
                    f_a, f_b = self.sync.features(seen_a, seen_b)
            adv = bce_to(self.d_a(gen_a), 1.0) + bce_to(self.d_b(gen_b), 1.0)
            loss_g = adv + self.cfg.sync_weight * sync_loss
            if self.cfg.class_balance_weight:
                balance = self.class_balance_loss(f_a, f_b)
                out.update(finite_losses("SyncGAN", loss_g_balance=balance))
                loss_g = loss_g + self.cfg.class_balance_weight * balance
        out.update(finite_losses("SyncGAN", loss_g_adv=adv, loss_g_sync=sync_loss))
        amp.backward(loss_g)
        hook(self.opt_g)
        amp.step(self.opt_g)
        amp.update()
        self.update_averages()
        return out

    def translate(self, x: torch.Tensor, direction: str, steps: Optional[int] = None, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples x of one modality (corpus representation) -> (the other modality's samples, the
        reconstruction error of each recovered code): ``direction`` "a_to_b" (image -> audio) or "b_to_a",
        by ``transfer_method`` (``steps``: instead of ``transfer_steps``). The model is left as it was."""
        from trainables.syncgan.config import TRANSFER_SETTINGS
        from trainables.transfer import TransferConfig, transfer

        method = self.cfg.transfer_method if self.latent_classes else "recovery"
        if method in ("classes", "codes") and self.sync.classes_a is None:
            method = "synchronizer"
        starts, select = TRANSFER_SETTINGS[method]
        tcfg = TransferConfig(steps=self.cfg.transfer_steps if steps is None else steps,
                              restarts=self.cfg.transfer_restarts, starts=starts, select=select,
                              category_draws=self.cfg.transfer_draws, seed=seed)
        with torch.enable_grad():
            out, rec = transfer(self, x, direction, tcfg)
        return out, rec.loss

    def generators(self) -> tuple[nn.Module, nn.Module]:
        """The generators samples come from: the weight averages where ``ema_decay`` keeps them, else
        the trained ones (in the networks' own space: ``view_b`` draws G_b's output the corpus's way)."""
        return (self.ema_a, self.ema_b) if self.ema_a is not None else (self.g_a, self.g_b)

    @torch.no_grad()
    def update_averages(self) -> None:
        """One step of the generators' exponential moving average: decay min(ema_decay, (1 + t) / (10 + t))
        at G step t (an average over the steps so far early on, as TensorFlow's ExponentialMovingAverage
        with num_updates), BatchNorm buffers copied."""
        if self.ema_a is None:
            return
        self.ema_steps += 1
        t = float(self.ema_steps)
        decay = min(self.cfg.ema_decay, (1.0 + t) / (10.0 + t))
        for ema, net in ((self.ema_a, self.g_a), (self.ema_b, self.g_b)):
            for e, p in zip(ema.parameters(), net.parameters()):
                e.lerp_(p.detach(), 1.0 - decay)
            for e, b in zip(ema.buffers(), net.buffers()):
                e.copy_(b)

    @torch.no_grad()
    def generate(self, z_a: torch.Tensor, z_b: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """G_a(z_a), G_b(z_b or z_a) in the corpus's representations, without gradients.

        Batch statistics are used, as in training (DCGAN practice): the running averages of a
        generator that changes every step describe none of its recent states.
        """
        g_a, g_b = self.generators()
        return g_a(z_a), self.view_b.from_net(g_b(z_a if z_b is None else z_b))

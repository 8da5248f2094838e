"""SyncGAN training config: every knob with its default. Names match YAML keys and TensorBoard tags."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from trainables.config import LoopConfig


@dataclass
class SyncGANConfig(LoopConfig):
    """SyncGAN's knobs; data, loop and evaluation knobs come from ``LoopConfig``.

    The defaults are the recipe measured fastest to a high sync rate on 2 CPU cores
    (benchmarks/time_to_quality.py, docs/time_to_quality.md). ``PAPER_RECIPE`` below turns every
    departure from the paper's method back off.
    """

    z_dim: int = 64
    width: int = 16
    """Base channel count of every network (each modality's, unless ``image_width``/``audio_width`` set it)."""
    image_width: Optional[int] = None
    """Base channel count of the image networks (G_a, D_a, S's image extractor); null: ``width``."""
    audio_width: Optional[int] = 8
    """Base channel count of the audio networks (G_b, D_b, S's audio extractor); null: ``width``. The
    48x48 audio nets have four stride-2 stages to the image nets' two, so at one width they cost ~8x the
    image nets' FLOPs: a narrower audio side is the cheapest speed-up."""
    spectral_norm: bool = True
    """Spectral norm in every layer of the discriminators and of the synchronizer."""
    sync_width: Optional[int] = 16
    """Base channel count of both of the synchronizer's feature extractors; null: each modality's width.
    S has the hardest task of the three nets (class agreement across modalities, speakers and styles):
    it may need more than the audio side's generator and discriminator."""
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    lr_s: float = 1e-3
    beta1: float = 0.5
    pair_ratio: float = 0.5
    """Share of identical latent codes (z1 == z2) in each generator batch; the rest are distinct."""
    sync_weight: float = 3.0
    """Weight of the synchronizer loss in the generators' objective."""
    sync_fake_weight: float = 1.0
    """Weight of generated pairs (one code through both generators), as asynchronous, in the
    synchronizer's loss. 0 is the paper: S sees real pairs only, and the generators learn to
    satisfy it with pairs it was never shown (its verdict on them agreed with the judge
    classifiers' 30 % of the time). > 0 makes S also tell real synchronous pairs from generated
    ones, so only pairs that look like real synchronous pairs satisfy it."""
    sync_batch: str = "pool"
    """Where the synchronizer's real pairs come from. ``paper``: the labelled rows of the
    discriminators' batch, each with the clip it was paired with at prep (the positives) and one
    clip of another class among them (the negatives), so S sees ~semi_rate x batch_size pairs a step.
    ``pool`` (not in the paper): a full ``batch_size`` of rows drawn from the whole labelled pool, each
    image with a same-class clip of the pool drawn anew every step (as the authors' code resamples
    partners), so S's batch does not shrink with the semi-supervised rate."""
    sync_pairs: str = "all"
    """Which pairings of S's batch it learns from. ``paper``: each row's synchronous pair and one
    asynchronous pair. ``all`` (not in the paper): every image with every clip of the batch,
    synchronous when their classes agree, positives and negatives weighted equally: batch_size^2 pairs
    (~batch_size x 9/10 negatives per positive) for one feature pass per sample (``Synchronizer.score``)."""
    gen_pairs: str = "all"
    """Which generated pairs carry the generators' sync loss. ``paper``: a ``pair_ratio`` share of the
    batch's codes drive both generators (target synchronous), the others are drawn apart (target
    asynchronous). ``all`` (not in the paper): one code per row through both generators; the diagonal
    (identical codes) is synchronous, every off-diagonal pairing (distinct codes) asynchronous, weighted
    ``pair_ratio`` and 1 - ``pair_ratio``: the same loss in expectation over batch_size^2 pairs."""
    latent_classes: int = 10
    """A categorical part of the code (not in the paper; InfoGAN's discrete code without its
    mutual-information term): the first ``latent_classes`` of the ``z_dim`` dims hold a one-hot of a
    uniformly drawn category, the rest stay Gaussian. No labels reach the generators: only S's verdict
    ties a category to one class in both modalities, and with a discrete handle there are no
    in-between codes whose samples the two judges read differently. 0: the paper's Gaussian code."""
    sync_warmup_steps: int = 300
    """Synchronizer-only steps on real labelled pairs before the first GAN step (not in the paper):
    the generators' first sync gradients then come from an S that already tells classes apart."""
    transfer_samples: int = 200
    """Test pairs translated by latent recovery in the last epoch's evaluation (0: skip)."""
    transfer_steps: int = 200
    """Gradient steps of latent recovery per restart (``trainables.transfer``)."""

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.pair_ratio <= 1.0:
            raise ValueError(f"pair_ratio must lie in [0, 1], got {self.pair_ratio!r}")
        for name in ("lr_g", "lr_d", "lr_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("z_dim", "width", "transfer_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("image_width", "audio_width", "sync_width"):
            if getattr(self, name) is not None and int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be null or >= 1, got {getattr(self, name)!r}")
        for name, allowed in (("sync_batch", ("paper", "pool")), ("sync_pairs", ("paper", "all")),
                              ("gen_pairs", ("paper", "all"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not 0 <= self.latent_classes < self.z_dim:
            raise ValueError(f"latent_classes must lie in [0, z_dim): got {self.latent_classes!r} with z_dim "
                             f"{self.z_dim!r} (the categorical part takes latent_classes of the z_dim dims)")
        if self.sync_warmup_steps < 0:
            raise ValueError(f"sync_warmup_steps must be >= 0, got {self.sync_warmup_steps!r}")
        if self.sync_fake_weight < 0:
            raise ValueError(f"sync_fake_weight must be >= 0, got {self.sync_fake_weight!r}")
        if self.transfer_samples < 0:
            raise ValueError(f"transfer_samples must be >= 0, got {self.transfer_samples!r}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (the synchronizer needs asynchronous pairs)")


PAPER_RECIPE: dict = dict(
    lr_g=2e-4, lr_d=1e-4, lr_s=2e-4,            # the authors' Adam settings (beta1 0.5)
    sync_weight=1.0, sync_fake_weight=0.0,      # S sees real pairs only
    sync_batch="paper", sync_pairs="paper",     # the labelled rows of the batch, one async partner each
    gen_pairs="paper", latent_classes=0,        # a pair_ratio split of Gaussian codes
    sync_warmup_steps=0, audio_width=None,      # no warm-up; one width for every network
    sync_width=None,
)
"""The paper's SyncGAN (Sec. 2, Alg. 1) on this code: ``SyncGANConfig(**PAPER_RECIPE)``, or these
keys in a study's ``config:``. Network widths are not part of it (the CPU budget sets them)."""

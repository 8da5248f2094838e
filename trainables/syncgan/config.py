"""SyncGAN training config: every knob with its default. Names match YAML keys and TensorBoard tags."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from trainables.config import LoopConfig, in_range


TRANSFER_METHODS = ("recovery", "categories", "synchronizer", "classes", "codes")
"""``transfer_method`` -> (``TransferConfig.starts``, ``TransferConfig.select``)."""
TRANSFER_SETTINGS = {"recovery": ("prior", "reconstruction"), "categories": ("categories", "reconstruction"),
                     "synchronizer": ("categories", "synchronizer"), "classes": ("categories", "classes"),
                     "codes": ("categories", "codes")}


@dataclass
class SyncGANConfig(LoopConfig):
    """SyncGAN's knobs; data, loop and evaluation knobs come from ``LoopConfig``.

    The defaults are the recipe measured fastest to a high sync rate on 2 CPU cores
    (benchmarks/time_to_quality.py, docs/results/time_to_quality.md). ``PAPER_RECIPE`` below turns every
    departure from the paper's method back off.
    """

    z_dim: int = 64
    """Latent code size; > latent_classes."""
    width: int = 16
    """Base channel count of every network (each modality's, unless ``image_width``/``audio_width`` set it); >= 1."""
    image_width: Optional[int] = None
    """Base channel count of the image networks (G_a, D_a, S's image extractor); null: ``width``; else >= 1."""
    audio_width: Optional[int] = 8
    """Base channel count of the audio networks (G_b, D_b, S's audio extractor); null: ``width``. The
    48x48 audio nets have four stride-2 stages to the image nets' two, so at one width they cost ~8x the
    image nets' FLOPs: a narrower audio side is the cheapest speed-up. Null or >= 1."""
    waveform_nets: bool = True
    """On a folded-waveform corpus (audio drawn as a height x values image of dots), G_b, D_b and S's
    audio extractor work on the values-long 1-D signal the image draws, read back exactly, and G_b's
    output is drawn the corpus's way (``trainables.representation``): a GAN need not learn to draw
    one-pixel dots, and the audio networks cost ~1/60 of the 64x128 image's (not in the paper, whose
    networks take the drawn image: false)."""
    spectral_norm: bool = True
    """Spectral norm in every layer of the discriminators and of the synchronizer."""
    sync_width: Optional[int] = 16
    """Base channel count of both of the synchronizer's feature extractors; null: each modality's width.
    S has the hardest task of the three nets (class agreement across modalities, speakers and styles):
    it may need more than the audio side's generator and discriminator. Null or >= 1."""
    lr_g: float = 1e-3
    """Adam learning rate of the generators; > 0."""
    lr_d: float = 2e-4
    """Adam learning rate of the discriminators; > 0."""
    lr_s: float = 1e-3
    """Adam learning rate of the synchronizer; > 0."""
    beta1: float = 0.5
    """Adam's first-moment decay of every optimizer; in [0, 1) (1 divides by zero in Adam's bias correction)."""
    pair_ratio: float = 0.5
    """Share of identical latent codes (z1 == z2) in each generator batch; the rest are distinct. In [0, 1]."""
    sync_weight: float = 3.0
    """Weight of the synchronizer loss in the generators' objective; >= 0 (a negative weight would train
    the generators apart)."""
    sync_fake_weight: float = 1.0
    """Weight of generated pairs (one code through both generators), as asynchronous, in the
    synchronizer's loss. 0 is the paper: S sees real pairs only, and the generators learn to
    satisfy it with pairs it was never shown (its verdict on them agreed with the judge
    classifiers' 30 % of the time). > 0 makes S also tell real synchronous pairs from generated
    ones, so only pairs that look like real synchronous pairs satisfy it. >= 0."""
    sync_augment: float = 0.0
    """Each pair the synchronizer sees in training (real ones, the generated negatives and the generators'
    pairs in their loss) is moved at random, per sample and per modality, by up to this fraction of a
    side (not in the paper; DiffAugment's translation, differentiable, so the generators' gradient passes
    through it; ``trainables.augment.random_shift``): an image both ways, a sound along time only (a
    spectrogram's rows are frequencies, which a shift would change), a picture as the second modality
    both ways. Its verdicts at evaluation and in transfer see the samples as they are. It stops S
    memorizing a small corpus (S alone on 1,125 pairs of 64x64 shapes <-> instrument notes, 1,500 steps:
    held-out image class head 0.74 -> 1.00 at 0.125, 0.98 at 0.0625), but the generators did not gain from it as a
    whole: off by default (docs/models.md has the four corpora measured side by side). Range: [0, 0.5)."""
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
    latent_classes: Optional[int] = None
    """A categorical part of the code (not in the paper; InfoGAN's discrete code without its
    mutual-information term): the first ``latent_classes`` of the ``z_dim`` dims hold a one-hot of a
    uniformly drawn category, the rest stay Gaussian. No labels reach the generators: only S's verdict
    ties a category to one class in both modalities, and with a discrete handle there are no
    in-between codes whose samples the two judges read differently. null (default): one category per
    class of the corpus (its manifest's class count), so 3, 5 or 20 classes each get their own;
    0: the paper's Gaussian code. Range: null or [0, z_dim)."""
    sync_class_weight: float = 1.0
    """Weight of the synchronizer's class heads (not in the paper): a linear classifier on each of its
    feature extractors, trained with cross-entropy on the classes of its labelled real pairs beside its
    synchronous/asynchronous loss. The pair head alone sees only "same class or not"; at initialization
    its verdict is nearly additive in the two inputs, and an additive verdict cannot predict "same
    class" better than a constant, so the extractors get no class signal to first order and S can sit
    at chance for good (measured on 64x64 shapes <-> instrument notes: S_acc_real 0.500 after 900
    steps). The heads give the extractors class features directly, from the same labelled pairs (the
    pairing relation within the labelled pool is the class partition). 0: no heads. Range: >= 0."""
    gen_class_weight: float = 0.0
    """Weight, within the generators' sync loss, of S's class heads' verdict (not in the paper): the
    probability that the two halves of a generated pair show one class under the heads, pushed to 1 for
    identical codes and to 0 for distinct ones. Needs ``sync_class_weight`` > 0. Range: >= 0."""
    class_balance_weight: float = 0.0
    """Weight of the generators' class-balance loss (not in the paper; CatGAN's marginal-entropy term,
    read through S's class heads): KL(mean over the batch of p(class | G(z)) || uniform), for each
    modality. Without it two categories of the code can settle on one class and leave another class
    with none (measured on mnist_spoken: categories 4 and 8 both drew "4", no category drew "1", so a
    sound of a one could never be translated into an image of a one). Needs ``sync_class_weight`` > 0.
    Range: >= 0. Off by default: at 1.0 (``benchmarks/generalization.py --set class_balance_weight=1.0``,
    rate 1.0, 3 seeds) mnist_spoken reached 0.9 x its ceiling sooner (125 s against 182) but
    mnist_fashion_offline later (201 s against 137), and five instruments (log-mel) did not change (best
    0.49 / 0.57 against 0.54 / 0.46 over two seeds); at 3.0 mnist_spoken slowed to 278-333 s."""
    sync_warmup_steps: int = 300
    """Synchronizer-only steps on real labelled pairs before the first GAN step (not in the paper):
    the generators' first sync gradients then come from an S that already tells classes apart.
    A minimum: the warm-up goes on, ``sync_warmup_check`` steps at a time, until S's balanced accuracy
    on fresh labelled pairs reaches ``sync_warmup_accuracy`` or ``sync_warmup_max_steps`` are done
    (then training says so in one line and goes on). 0: no warm-up. Range: >= 0."""
    sync_warmup_accuracy: float = 0.65
    """Balanced accuracy (synchronous and asynchronous pairs weighted equally; chance 0.5) on
    ``4 x batch_size`` freshly drawn labelled pairs at which the warm-up may end. Range: [0.5, 1]."""
    sync_warmup_max_steps: int = 1500
    """Most warm-up steps (>= ``sync_warmup_steps``)."""
    sync_warmup_check: int = 50
    """Warm-up steps between two checks of S's accuracy after ``sync_warmup_steps``. Range: >= 1."""
    ema_decay: float = 0.999
    """Samples, evaluation, transfer and checkpoints' generators are exponential moving averages of the
    trained generators' weights (the usual GAN practice, not in the paper): decay min(ema_decay,
    (1 + t) / (10 + t)) at G step t. The average moves less from one evaluation to the next than the
    trained weights, whose sync rate swings with the adversarial game (0.811 -> 0.457 -> 0.802 over three
    epochs of one trial). 0: the trained generators themselves. Range: [0, 1)."""
    transfer_samples: int = 200
    """Test pairs translated by latent recovery in the last epoch's evaluation (0: skip); >= 0."""
    transfer_method: str = "codes"
    """How a sample of one modality is translated into the other (``SyncGAN.translate``,
    ``trainables.transfer``): ``recovery`` (the paper's latent recovery: random starts, the best
    reconstruction wins), ``categories`` (starts cover every category of the code, category held),
    ``synchronizer`` (S's verdict picks the category, recovery the rest of the code), ``classes``
    (S's class heads pick it: the category whose outputs they read as the source's class) or ``codes``
    (S's class heads pick the codes themselves among ``transfer_draws`` draws of every category: the
    ``transfer_restarts`` whose outputs they most likely read as the source's class; of those, the one whose
    source-modality output is closest to the source after ``transfer_steps`` of recovery). A code without
    categories (latent_classes 0) is always recovered the paper's way; ``classes`` or ``codes`` without
    class heads (sync_class_weight 0) is ``synchronizer``. Measured: benchmarks/transfer_levers.py."""
    transfer_steps: int = 0
    """Gradient steps of latent recovery per start (``trainables.transfer``); >= 0. 0: the starts as they
    are (``codes``: recovery moved audio -> image from 0.95 to 0.86 on mnist_spoken, descent in pixels
    drifts a code off the class S chose)."""
    transfer_restarts: int = 2
    """Starts of latent recovery per sample (``recovery``, ``codes``) or per category; >= 1."""
    transfer_draws: int = 32
    """Shared draws of each category whose outputs the synchronizer scores against each source
    (``synchronizer``, ``classes``, ``codes``); >= 1."""

    def validate(self) -> None:
        super().validate()
        in_range(self, "pair_ratio", 0.0, 1.0)
        for name in ("lr_g", "lr_d", "lr_s"):
            in_range(self, name, 0.0, low_open=True)
        in_range(self, "beta1", 0.0, 1.0, high_open=True)
        for name in ("sync_weight", "sync_fake_weight"):
            in_range(self, name, 0.0)
        for name in ("z_dim", "width", "transfer_restarts", "transfer_draws"):
            in_range(self, name, 1)
        in_range(self, "transfer_steps", 0)
        if self.transfer_method not in TRANSFER_METHODS:
            raise ValueError(f"transfer_method must be one of {', '.join(TRANSFER_METHODS)}, got {self.transfer_method!r}")

        for name in ("image_width", "audio_width", "sync_width"):
            in_range(self, name, 1, none_ok=True)
        for name, allowed in (("sync_batch", ("paper", "pool")), ("sync_pairs", ("paper", "all")),
                              ("gen_pairs", ("paper", "all"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        in_range(self, "latent_classes", 0, none_ok=True)
        if self.latent_classes is not None and not self.latent_classes < self.z_dim:
            raise ValueError(f"latent_classes must be null or lie in [0, z_dim): got {self.latent_classes!r} with "
                             f"z_dim {self.z_dim!r} (the categorical part takes latent_classes of the z_dim dims)")
        for name in ("sync_warmup_steps", "transfer_samples"):
            in_range(self, name, 0)
        in_range(self, "sync_warmup_max_steps", self.sync_warmup_steps)
        in_range(self, "sync_warmup_accuracy", 0.5, 1.0)
        in_range(self, "sync_warmup_check", 1)
        in_range(self, "ema_decay", 0.0, 1.0, high_open=True)
        in_range(self, "sync_class_weight", 0.0)
        in_range(self, "gen_class_weight", 0.0)
        in_range(self, "sync_augment", 0.0, 0.5, high_open=True)
        in_range(self, "class_balance_weight", 0.0)
        if self.class_balance_weight and not self.sync_class_weight:
            raise ValueError("class_balance_weight > 0 needs the synchronizer's class heads (sync_class_weight > 0)")
        if self.gen_class_weight and not self.sync_class_weight:
            raise ValueError("gen_class_weight > 0 needs the synchronizer's class heads (sync_class_weight > 0)")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (the synchronizer needs asynchronous pairs)")


PAPER_RECIPE: dict = dict(
    lr_g=2e-4, lr_d=1e-4, lr_s=2e-4,            # the authors' Adam settings (beta1 0.5)
    sync_weight=1.0, sync_fake_weight=0.0,      # S sees real pairs only
    sync_batch="paper", sync_pairs="paper",     # the labelled rows of the batch, one async partner each
    gen_pairs="paper", latent_classes=0,        # a pair_ratio split of Gaussian codes
    sync_class_weight=0.0,                      # S learns from synchronous/asynchronous verdicts only
    sync_warmup_steps=0, audio_width=None,      # no warm-up; one width for every network
    waveform_nets=False,                        # a folded waveform is seen as the drawn image
    ema_decay=0.0,                              # samples from the trained generators
    transfer_method="recovery",                 # latent recovery from random starts (Sec. 2.3)
    transfer_steps=30,                          # ... by 30 Adam steps from each
    sync_width=None,
)
"""The paper's SyncGAN (Sec. 2, Alg. 1) on this code: ``SyncGANConfig(**PAPER_RECIPE)``, or these
keys in a study's ``config:``. Network widths are not part of it (the CPU budget sets them)."""

"""Metrics on generators whose classes are known by construction: sync rate, transfer accuracy,
accuracy on images generated from audio, FID and KID on our classifiers' features."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainables.classifiers import ClassifierFeatures, ImageCNN, LeNet5, SpectrogramCNN
from trainables.metrics import (
    audio_to_image_accuracy, evaluate_pairs, evaluate_transfer, fid_kid, transfer_accuracy,
)
from trainables.transfer import TransferConfig, transfer

N_CLASSES = 10


@pytest.fixture(autouse=True, scope="module")
def one_thread():  # module scope: set before the module's classifier trains
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _band_masks(h: int) -> torch.Tensor:
    """(10, h, h): row band k * h // 10 ... of class k."""
    band = h // N_CLASSES
    masks = torch.zeros(N_CLASSES, h, h)
    for k in range(N_CLASSES):
        masks[k, k * band:(k + 1) * band] = 1.0
    return masks


def _bands(labels: torch.Tensor, h: int, seed: int = 0) -> torch.Tensor:
    """Dark noise with the class's bright band (the tiny test corpus's pattern)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(len(labels), 1, h, h, generator=g) * 0.4 - 1
    return torch.where(_band_masks(h)[labels][:, None] > 0, torch.tensor(0.9), x)


class BandGenerator(nn.Module):
    """z -> the band of class argmax(z[offset:offset+10]), softly (differentiable in z).

    Two of them with the same offset are synchronous by construction; offsets 0 and 10 draw the
    classes of independent parts of z. ``permutation`` relabels the classes it draws.
    """

    def __init__(self, h: int, offset: int = 0, permutation: torch.Tensor | None = None) -> None:
        super().__init__()
        masks = _band_masks(h)
        self.register_buffer("masks", masks if permutation is None else masks[permutation])
        self.offset = offset

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = F.softmax(8 * z[:, self.offset:self.offset + N_CLASSES], dim=1)
        return (-1 + 1.9 * torch.einsum("nk,khw->nhw", w, self.masks))[:, None]


class BandClassifier(nn.Module):
    """Deterministic: logits are the mean brightness of each class's band."""

    def __init__(self, h: int) -> None:
        super().__init__()
        self.register_buffer("masks", _band_masks(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nhw,khw->nk", x[:, 0], self.masks) / self.masks.sum((1, 2))


class Pair(nn.Module):
    def __init__(self, g_a: nn.Module, g_b: nn.Module, z_dim: int) -> None:
        super().__init__()
        self.g_a, self.g_b = g_a, g_b
        self.cfg = type("Cfg", (), {"z_dim": z_dim})()


def test_sync_rate_is_one_for_synchronous_generators_and_a_tenth_for_independent_ones():
    z = torch.randn(4000, 2 * N_CLASSES, generator=torch.Generator().manual_seed(0))
    clf_a, clf_b = BandClassifier(28), BandClassifier(48)
    sync = evaluate_pairs(BandGenerator(28)(z), BandGenerator(48)(z), clf_a, clf_b, N_CLASSES)
    assert sync["sync_rate"] == 1.0 and sync["class_coverage_image"] == 1.0 and sync["sync_kappa"] == pytest.approx(1.0)
    independent = evaluate_pairs(BandGenerator(28)(z), BandGenerator(48, offset=N_CLASSES)(z), clf_a, clf_b, N_CLASSES)
    assert independent["sync_rate"] == pytest.approx(0.1, abs=0.02)
    assert independent["sync_kappa"] == pytest.approx(0.0, abs=0.02)


def test_transfer_accuracy_through_latent_recovery_both_ways():
    labels = torch.arange(20) % N_CLASSES
    x_a, x_b = _bands(labels, 28), _bands(labels, 48, seed=1)
    clf_a, clf_b = BandClassifier(28), BandClassifier(48)
    cfg = TransferConfig(steps=60, lr=0.1, restarts=2, batchnorm="eval")

    def translate(pair):
        def run(x, direction):
            out, rec = transfer(pair, x, direction, cfg)
            return out, rec.loss
        return run

    right = evaluate_transfer(translate(Pair(BandGenerator(28), BandGenerator(48), N_CLASSES)), x_a, x_b, labels, clf_a, clf_b)
    assert right["transfer_acc_a_to_b"] == 1.0 and right["transfer_acc_b_to_a"] == 1.0
    shifted = torch.roll(torch.arange(N_CLASSES), 1)  # G_b draws class k + 1 where G_a draws k
    wrong = evaluate_transfer(translate(Pair(BandGenerator(28), BandGenerator(48, permutation=shifted), N_CLASSES)),
                              x_a, x_b, labels, clf_a, clf_b)
    assert wrong["transfer_acc_a_to_b"] == 0.0 and wrong["transfer_acc_b_to_a"] == 0.0
    assert transfer_accuracy(clf_b, x_b, labels) == 1.0


def test_audio_to_image_accuracy_counts_images_of_the_audio_class():
    labels = torch.arange(50) % N_CLASSES
    images = _bands(labels, 28)
    clf = BandClassifier(28)
    assert audio_to_image_accuracy(clf, images, labels) == 1.0
    assert audio_to_image_accuracy(clf, images, (labels + 1) % N_CLASSES) == 0.0
    with pytest.raises(ValueError):
        audio_to_image_accuracy(clf, images, labels[:10])


@pytest.fixture(scope="module")
def lenet() -> LeNet5:
    """LeNet-5 trained briefly on band images: features that tell classes apart."""
    torch.manual_seed(0)
    model = LeNet5(N_CLASSES)
    labels = torch.arange(200) % N_CLASSES
    x = _bands(labels, 28, seed=2)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(30):
        opt.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        opt.step()
    return model.eval()


def test_fid_and_kid_are_zero_for_a_set_against_itself_and_grow_with_the_difference(lenet):
    labels = torch.arange(300) % N_CLASSES
    real = _bands(labels, 28, seed=3)
    same_dist = _bands(labels, 28, seed=4)
    fewer_classes = _bands(labels % 5, 28, seed=4)
    shifted = (real + 0.3).clamp(-1, 1)
    self_ = fid_kid(real, real, lenet, kid_subset_size=100)
    near = fid_kid(real, same_dist, lenet, kid_subset_size=100)
    far = fid_kid(real, fewer_classes, lenet, kid_subset_size=100)
    moved = fid_kid(real, shifted, lenet, kid_subset_size=100)
    assert abs(self_["fid"]) < 1e-4
    assert far["fid"] > 1000 * near["fid"] and moved["fid"] > 1000 * near["fid"]
    # KID is unbiased: about 0 (either sign) within a distribution, clearly positive across
    for ref in (self_, near):
        assert abs(ref["kid"]) < 0.05 * min(far["kid"], moved["kid"])
    assert far["kid"] > 3 * far["kid_std"] and moved["kid"] > 3 * moved["kid_std"]


def test_classifier_features_are_the_penultimate_layer_and_stay_in_eval_mode():
    torch.manual_seed(0)
    spec = SpectrogramCNN(N_CLASSES, width=4)
    feats = ClassifierFeatures(spec).train()
    assert not spec.training and feats.num_features == 16 * 4 * 4
    x = torch.rand(5, 1, 48, 48)
    f = feats(x)
    assert f.shape == (5, feats.num_features) and f.dtype == torch.float64
    assert torch.allclose(spec.head[-1](f.float()), spec(x), atol=1e-6)
    assert ClassifierFeatures(LeNet5()).num_features == 84
    image_cnn = ClassifierFeatures(ImageCNN(N_CLASSES))  # the 64x64 judge: FID on 84 features as LeNet-5's
    assert image_cnn.num_features == 84 and image_cnn(torch.rand(3, 1, 64, 64)).shape == (3, 84)
    with pytest.raises(TypeError):
        ClassifierFeatures(nn.Linear(3, 2))


def test_kid_subsets_differ_so_its_std_is_measured(lenet):
    g = torch.Generator().manual_seed(5)
    real = torch.rand(200, 1, 28, 28, generator=g) * 2 - 1
    fake = (torch.rand(200, 1, 28, 28, generator=g) * 2 - 1) * 0.5
    out = fid_kid(real, fake, lenet)  # default subset size (1000) larger than either set
    assert out["kid_std"] > 0

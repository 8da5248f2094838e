"""CoGAN's evaluation on rank 0: the sync rate of its generated pairs, class coverage, FID/KID of the images,
and cross-modal transfer at the last epoch."""
from __future__ import annotations

import math

import torch

from trainables.classifiers import load_classifiers, predict
from trainables.cogan.config import CoGANConfig
from trainables.cogan.model import CoGAN
from trainables.data import evaluation_rows, load_split
from trainables.declared_metrics import DeclaredMetrics
from trainables.generated_pairs import log_judged_pairs, pairs_meaning
from trainables.metrics import evaluate_transfer_on, fid_kid, pair_metrics
from trainables.tensorboard_log import TrialWriter


class CoGANEvaluator:
    """Judges pairs generated from one code with the corpus's classifiers; the test split is the FID reference."""

    declared = DeclaredMetrics(
        headline=("sync_rate", "sync_kappa", "fid_image", "class_coverage_image", "class_coverage_audio"),
        others=("kid_image",),
        final=("transfer_acc_a_to_b", "transfer_acc_b_to_a"),
        details=("classifier_acc_image", "classifier_acc_audio", "recovery_mse_a_to_b", "recovery_mse_b_to_a",
                 "transfer_seconds_a_to_b", "transfer_seconds_b_to_a"),
        losses=("loss_d_image", "loss_d_audio", "loss_g"))
    scalars, final_scalars, headline = declared.scalars, declared.final, declared.headline

    def __init__(self, model: CoGAN, cfg: CoGANConfig, manifest: dict, device: torch.device | str) -> None:
        self.model, self.cfg, self.manifest, self.device = model, cfg, manifest, device
        self.clf_a, self.clf_b, self.clf_acc = load_classifiers(cfg.classifier_path, device)
        self.test = load_split(cfg.corpus_dir, "test")
        self.n_classes = len(manifest.get("classes", {}).get("image", [])) or int(self.test.label.max() + 1)
        self.z = model.sample_z(cfg.eval_samples, device, generator=torch.Generator().manual_seed(cfg.seed + 12345))
        self.real_images = self.test.images(evaluation_rows(self.test.label, cfg.eval_samples)).to(device)

    @torch.no_grad()
    def metrics(self, final: bool) -> dict[str, float]:
        x_a, x_b = self.model.generate(self.z)
        out = pair_metrics(predict(self.clf_a, x_a), predict(self.clf_b, x_b), self.n_classes)
        fk = fid_kid(self.real_images, x_a, self.clf_a, seed=self.cfg.seed)
        out.update(fid_image=fk["fid"], kid_image=fk["kid"])
        if final and self.cfg.transfer_samples:
            out.update(evaluate_transfer_on(lambda x, direction: self.model.translate(x, direction, seed=self.cfg.seed),
                                            self.test, self.cfg.transfer_samples, self.clf_a, self.clf_b, self.device))
        out.update(classifier_acc_image=self.clf_acc["image"], classifier_acc_audio=self.clf_acc["audio"])
        bad = [k for k, v in out.items() if math.isnan(v)]
        if bad:
            raise FloatingPointError(f"evaluation produced NaN for {bad}")
        return out

    def samples(self, writer: TrialWriter, step: int) -> None:
        """The grid of generated pairs, each captioned with the judges' classes and framed by their verdict."""
        log_judged_pairs(writer, self.model, self.z[:self.cfg.image_grid_size], self.clf_a, self.clf_b, self.manifest, step)

    meaning = staticmethod(pairs_meaning)

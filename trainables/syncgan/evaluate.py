"""SyncGAN's evaluation on rank 0: sync rate (raw and chance-corrected), class coverage, FID/KID of the images, cross-modal transfer."""
from __future__ import annotations

import math

import torch

from trainables.classifiers import load_classifiers, predict, predict_proba
from trainables.data import evaluation_rows, load_split
from trainables.declared_metrics import DeclaredMetrics
from trainables.metrics import (evaluate_transfer_on, fid_kid, pair_metrics, soft_sync_kappa, sync_rate,
                                synchronizer_accuracy, synchronizer_judge_agreement)
from trainables.generated_pairs import log_judged_pairs, pairs_meaning
from trainables.syncgan.config import SyncGANConfig
from trainables.syncgan.model import SyncGAN
from trainables.tensorboard_log import TrialWriter


class SyncGANEvaluator:
    """Judges generated pairs with the corpus's classifiers; the test split is the FID reference."""

    declared = DeclaredMetrics(
        headline=("sync_rate", "sync_kappa", "synchronizer_judge_agreement", "fid_image", "class_coverage_image",
                  "class_coverage_audio"),
        watched=("synchronizer_acc_real",),
        others=("sync_kappa_soft", "kid_image"),
        final=("transfer_acc_a_to_b", "transfer_acc_b_to_a"),
        details=("classifier_acc_image", "classifier_acc_audio", "sync_rate_real", "synchronizer_warmup_acc",
                 "synchronizer_warmup_steps", "recovery_mse_a_to_b", "recovery_mse_b_to_a", "transfer_seconds_a_to_b",
                 "transfer_seconds_b_to_a", "warning"),
        losses=("loss_d_image", "loss_d_audio", "loss_g_sync"))
    scalars, final_scalars, headline = declared.scalars, declared.final, declared.headline

    def __init__(self, model: SyncGAN, cfg: SyncGANConfig, manifest: dict, device: torch.device | str) -> None:
        self.model, self.cfg, self.manifest, self.device = model, cfg, manifest, device
        self.clf_a, self.clf_b, self.clf_acc = load_classifiers(cfg.classifier_path, device)
        self.test = load_split(cfg.corpus_dir, "test")
        self.n_classes = len(manifest.get("classes", {}).get("image", [])) or int(self.test.label.max() + 1)
        gen = torch.Generator().manual_seed(cfg.seed + 12345)
        self.z = model.sample_z(cfg.eval_samples, device, generator=gen)
        self.z_grid = self.z[:cfg.image_grid_size]
        rows = evaluation_rows(self.test.label, cfg.eval_samples)
        self.real_images = self.test.images(rows).to(device)
        # the judges' ceiling: the sync rate of real test pairs (same class by construction), as generated
        # pairs are judged; a generated sync rate above it needs samples easier to classify than real ones
        self.real_audio = self.test.audios(rows).to(device)
        self.real_labels = torch.from_numpy(self.test.label[rows])
        self.sync_rate_real = sync_rate(predict(self.clf_a, self.real_images), predict(self.clf_b, self.real_audio))

    @torch.no_grad()
    def metrics(self, final: bool) -> dict[str, float]:
        x_a, x_b = self.model.generate(self.z)
        prob_a, prob_b = predict_proba(self.clf_a, x_a), predict_proba(self.clf_b, x_b)
        pred_a, pred_b = prob_a.argmax(1), prob_b.argmax(1)
        out = pair_metrics(pred_a, pred_b, self.n_classes)
        out["sync_kappa_soft"] = soft_sync_kappa(prob_a, prob_b)
        # the synchronizer itself: its accuracy on held-out real pairs, and whether its verdict on the
        # generated pairs matches the judges' (low: the generators satisfy S with pairs the judges split)
        verdict = self.model.synchronizer_logits
        out["synchronizer_acc_real"] = synchronizer_accuracy(verdict, self.real_images, self.real_audio, self.real_labels)
        out["synchronizer_judge_agreement"] = synchronizer_judge_agreement(verdict(x_a, x_b), pred_a, pred_b)
        fk = fid_kid(self.real_images, x_a, self.clf_a, seed=self.cfg.seed)
        out.update(fid_image=fk["fid"], kid_image=fk["kid"])
        if final and self.cfg.transfer_samples:
            out.update(evaluate_transfer_on(lambda x, direction: self.model.translate(x, direction, seed=self.cfg.seed),
                                            self.test, self.cfg.transfer_samples, self.clf_a, self.clf_b, self.device))
        out.update(classifier_acc_image=self.clf_acc["image"], classifier_acc_audio=self.clf_acc["audio"],
                   sync_rate_real=self.sync_rate_real)
        if self.model.warmup_warning:  # once: the report after the warm-up (platform.tune prints it as a line)
            out["warning"], self.model.warmup_warning = self.model.warmup_warning, None
        if self.model.warmup_accuracy is not None:
            out["synchronizer_warmup_acc"] = self.model.warmup_accuracy
            out["synchronizer_warmup_steps"] = float(self.model.sync_warmup_done)
        bad = [k for k, v in out.items() if isinstance(v, float) and math.isnan(v)]
        if bad:
            raise FloatingPointError(f"evaluation produced NaN for {bad}")
        return out

    def samples(self, writer: TrialWriter, step: int) -> None:
        """The grid of generated pairs, each captioned with the judges' classes and framed by their verdict."""
        log_judged_pairs(writer, self.model, self.z_grid, self.clf_a, self.clf_b, self.manifest, step)

    meaning = staticmethod(pairs_meaning)

"""VAE / VAE-GAN evaluation on rank 0: the slides' accuracy on images generated from test audio, FID/KID."""
from __future__ import annotations

import math

import torch

from trainables.classifiers import load_classifiers, predict
from trainables.data import evaluation_rows, load_split
from trainables.declared_metrics import DeclaredMetrics
from trainables.metrics import class_coverage, fid_kid, label_accuracy
from trainables.sample_grid import judged_captions
from trainables.tensorboard_log import TrialWriter
from trainables.vae.config import AudioToImageConfig
from trainables.vae.model import AudioToImage


class AudioToImageEvaluator:
    """Translates the first ``eval_samples`` test clips to images and judges them with the image judge."""

    declared = DeclaredMetrics(headline=("image_acc_from_audio", "fid_image", "class_coverage_image"),
                               others=("kid_image",), details=("classifier_acc_image",),
                               losses=("loss_reconstruction", "loss_kl", "loss_d_image"))
    scalars, final_scalars, headline = declared.scalars, declared.final, declared.headline

    def __init__(self, model: AudioToImage, cfg: AudioToImageConfig, manifest: dict, device: torch.device | str) -> None:
        self.model, self.cfg, self.device = model, cfg, device
        self.class_names = manifest.get("classes", {})
        self.clf_a, _, self.clf_acc = load_classifiers(cfg.classifier_path, device)
        test = load_split(cfg.corpus_dir, "test")
        rows = evaluation_rows(test.label, cfg.eval_samples)
        self.n_classes = len(manifest.get("classes", {}).get("image", [])) or int(test.label.max() + 1)
        self.audio = test.audios(rows).to(device)
        self.labels = torch.from_numpy(test.label[rows])
        self.real_images = test.images(rows).to(device)

    @torch.no_grad()
    def metrics(self, final: bool) -> dict[str, float]:
        images = self.model.images_from_audio(self.audio)
        pred = predict(self.clf_a, images)
        out = {
            "image_acc_from_audio": label_accuracy(pred, self.labels),
            "class_coverage_image": class_coverage(pred, self.n_classes),
        }
        fk = fid_kid(self.real_images, images, self.clf_a, seed=self.cfg.seed)
        out.update(fid_image=fk["fid"], kid_image=fk["kid"], classifier_acc_image=self.clf_acc["image"])
        bad = [k for k, v in out.items() if math.isnan(v)]
        if bad:
            raise FloatingPointError(f"evaluation produced NaN for {bad}")
        return out

    @torch.no_grad()
    def samples(self, writer: TrialWriter, step: int) -> None:
        """Grid of (image generated from a test clip | that clip): captioned with the image judge's class of the
        image and the clip's true class, framed green where they agree."""
        k = self.cfg.image_grid_size
        images = self.model.images_from_audio(self.audio[:k])
        captions, agree = judged_captions(predict(self.clf_a, images).tolist(), self.labels[:k].tolist(),
                                          self.class_names.get("image", []), self.class_names.get("audio", []))
        writer.pairs("samples/audio_to_image", images, self.audio[:k], step, captions, agree)

    @staticmethod
    def meaning(metrics: dict[str, float]) -> str:
        """One plain sentence on what the metrics mean for a person (empty without the accuracy)."""
        if "image_acc_from_audio" not in metrics:
            return ""
        return (f"The image judge puts {metrics['image_acc_from_audio']:.0%} of the images generated from test clips in "
                f"the class of their clip (the slides' measure; the judge itself is right on "
                f"{metrics.get('classifier_acc_image', float('nan')):.0%} of real test images).")

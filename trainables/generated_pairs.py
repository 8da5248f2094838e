"""What models that generate an (image, audio) pair from one code share (SyncGAN and any such baseline): the
TensorBoard grid of judged pairs, the files ``platform.generate`` writes, and the sentence on what their
sync rate means."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Protocol

import torch

from trainables.sample_files import (class_name_of, class_names, judged_classes, load_judges, test_rows, write_grid,
                                      write_png, write_wav)
from trainables.sample_grid import judged_captions, translation_captions
from trainables.tensorboard_log import TrialWriter


class PairGenerator(Protocol):
    """A model whose pairs come from one code: ``generate(z)`` gives both halves, ``translate`` goes
    through a recovered code (``trainables.contracts.PairModel.translate``)."""

    def sample_z(self, n: int, device: torch.device | str, generator: Optional[torch.Generator] = None) -> torch.Tensor: ...
    def generate(self, z_a: torch.Tensor, z_b: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]: ...
    def translate(self, x: torch.Tensor, direction: str, steps: Optional[int] = None, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor]: ...


@torch.no_grad()
def log_judged_pairs(writer: TrialWriter, model: PairGenerator, z: torch.Tensor, clf_a, clf_b, manifest: dict,
                     step: int) -> None:
    """The grid of pairs generated from ``z`` (``samples/pairs``), each captioned with the judges' classes
    and framed by their verdict, and the first sounds (``samples/audio``)."""
    from trainables.classifiers import predict

    img, spec = model.generate(z)
    names = manifest.get("classes", {})
    captions, agree = judged_captions(predict(clf_a, img).tolist(), predict(clf_b, spec).tolist(),
                                      names.get("image", []), names.get("audio", []))
    writer.pairs("samples/pairs", img, spec, step, captions, agree)
    writer.audio("samples/audio", spec, manifest["audio"], step)


def pairs_meaning(metrics: dict[str, float]) -> str:
    """One plain sentence on what a pair generator's sync rate means (empty without it); against the real
    pairs' (``sync_rate_real``, the most the judges can confirm) where reported."""
    if "sync_rate" not in metrics:
        return ""
    text = f"The judges put both halves of {metrics['sync_rate']:.0%} of the generated pairs in one class"
    if metrics.get("sync_rate_real"):
        real = metrics["sync_rate_real"]
        text += (f", against {real:.0%} of real pairs (the most they can confirm): "
                 f"{metrics['sync_rate'] / real:.0%} of that ceiling")
    if "sync_kappa" in metrics:
        text += f"; corrected for chance (sync_kappa) {metrics['sync_kappa']:.2f} of 1"
    return text + "."


def write_pair_samples(model: PairGenerator, cfg, corpus_dir: Path, manifest: dict, out: Path, n: int, seed: int,
                       transfer_n: int | None, steps: int, transfer_config: dict[str, Any]) -> dict[str, Any]:
    """The samples ``platform.generate`` writes for a pair generator: ``pairs/``, pairs generated from one
    code each (image PNG, the audio column as a spectrogram PNG and as wav), ``pairs.png``;
    ``transfer/<direction>/``: ``transfer_n`` (default ``n``) test pairs translated both ways by
    ``model.translate`` with ``steps``, each with its source and real partner, and a grid per direction
    (cells: source | translated | real partner). ``transfer_config``: the translation's settings, for the index."""
    from trainables.data import load_split

    audio = manifest.get("audio", {})
    index: dict[str, Any] = {"pairs": [], "transfer": {}}
    gen = torch.Generator().manual_seed(seed)
    z = model.sample_z(n, "cpu", generator=gen)  # the model's prior (its categorical part included)
    img, spec = model.generate(z)  # batch statistics, as in training (SyncGAN.generate)
    clf_a, clf_b, no_judges = load_judges(cfg, corpus_dir)
    if no_judges:
        index["judges"] = no_judges
    pred_a, pred_b = judged_classes(clf_a, img), judged_classes(clf_b, spec)
    if pred_a is not None:
        captions, agree = judged_captions(pred_a, pred_b, *class_names(manifest))
    else:
        captions, agree = [f"code {i}" for i in range(n)], [None] * n
    (out / "pairs").mkdir()
    for i in range(n):
        entry = {"code": i, "image": f"pairs/{write_png(out / 'pairs' / f'{i:03d}_image.png', img[i])}",
                 "audio_png": f"pairs/{write_png(out / 'pairs' / f'{i:03d}_audio.png', spec[i], spectrogram=True)}"}
        if pred_a is not None:
            entry.update(judged_image=class_name_of(manifest, "image", pred_a[i]),
                         judged_audio=class_name_of(manifest, "audio", pred_b[i]), judges_agree=agree[i])
        wav = write_wav(out / "pairs" / f"{i:03d}_audio.wav", spec[i], audio)
        if wav:
            entry["audio_wav"] = f"pairs/{wav}"
        index["pairs"].append(entry)
    index["pairs_grid"] = write_grid(out / "pairs.png", [[img[i], spec[i]] for i in range(n)], [False, True],
                                     captions, agree)

    test = load_split(corpus_dir, "test")
    rows = test_rows(len(test), transfer_n if transfer_n is not None else n, seed)
    if len(rows) == 0:
        return index
    x_a, x_b = test.images(rows), test.audios(rows)
    index["transfer_config"] = transfer_config
    for direction, src, real, src_spec in (("image_to_audio", x_a, x_b, False), ("audio_to_image", x_b, x_a, True)):
        translated, loss = model.translate(src, "a_to_b" if direction == "image_to_audio" else "b_to_a", steps, seed)
        target = "audio" if direction == "image_to_audio" else "image"
        judged = judged_classes(clf_b if target == "audio" else clf_a, translated)
        d = out / "transfer" / direction
        d.mkdir(parents=True)
        items = []
        for j, row in enumerate(rows):
            label = int(test.label[row])
            item = {"test_row": int(row), "pair_id": int(test.pair_id[row]), "label": label,
                    "class": class_name_of(manifest, "image", label), "recovery_mse": float(loss[j])}
            if judged is not None:
                item.update(translated_judged=class_name_of(manifest, target, judged[j]), translated_agrees=judged[j] == label)
            item["source"] = f"transfer/{direction}/{write_png(d / f'{j:03d}_source.png', src[j], spectrogram=src_spec)}"
            item["translated"] = f"transfer/{direction}/{write_png(d / f'{j:03d}_translated.png', translated[j], spectrogram=not src_spec)}"
            item["real_partner"] = f"transfer/{direction}/{write_png(d / f'{j:03d}_real_partner.png', real[j], spectrogram=not src_spec)}"
            audio_items = ([("source_wav", src[j])] if src_spec else
                           [("translated_wav", translated[j]), ("real_partner_wav", real[j])])
            for key, x in audio_items:
                wav = write_wav(d / f"{j:03d}_{key[:-4]}.wav", x, audio)
                if wav:
                    item[key] = f"transfer/{direction}/{wav}"
            items.append(item)
        names_image, names_audio = class_names(manifest)
        captions, agree = translation_captions([int(test.label[r]) for r in rows], judged,
                                               *((names_audio, names_image) if src_spec else (names_image, names_audio)))
        grid = write_grid(out / "transfer" / f"{direction}.png", [[src[j], translated[j], real[j]] for j in range(len(rows))],
                          [src_spec, not src_spec, not src_spec], captions, agree)
        index["transfer"][direction] = {"grid": f"transfer/{grid}", "items": items}
    return index

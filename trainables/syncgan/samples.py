"""SyncGAN's sample writer: generated pairs and test pairs translated both ways, as files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from trainables.sample_files import (class_name_of, class_names, judged_classes, load_judges, test_rows, write_grid,
                                      write_png, write_wav)
from trainables.sample_grid import judged_captions, translation_captions


def write_samples(model, cfg, corpus_dir: Path, manifest: dict, out: Path, n: int, seed: int,
                  transfer_steps: int | None = None, transfer_n: int | None = None) -> dict[str, Any]:
    """SyncGAN's samples (``platform.generate``): ``pairs/``, pairs generated from one code each (image PNG,
    the audio column as a spectrogram PNG and as wav), ``pairs.png``; ``transfer/<direction>/``: test pairs
    translated both ways (``SyncGAN.translate``), each with its source and real partner, and a grid per
    direction (cells: source | translated | real partner)."""
    import torch

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
    steps = cfg.transfer_steps if transfer_steps is None else transfer_steps
    index["transfer_config"] = {"method": cfg.transfer_method, "steps": steps, "restarts": cfg.transfer_restarts,
                                "seed": seed}
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

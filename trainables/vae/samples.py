"""The VAE's and VAE-GAN's sample writer: images generated from test clips, as files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from trainables.sample_files import (class_name_of, class_names, judged_classes, load_judges, test_rows, write_grid,
                                      write_png, write_wav)
from trainables.sample_grid import translation_captions


def write_samples(model, cfg, corpus_dir: Path, manifest: dict, out: Path, n: int, seed: int,
                  transfer_steps: int | None = None, transfer_n: int | None = None) -> dict[str, Any]:
    """The VAE's and VAE-GAN's samples (``platform.generate``): ``from_audio/``, the image generated from each
    of ``n`` test clips (PNG), the clip as wav and spectrogram PNG, the real image, and ``from_audio.png``
    (cells: clip | generated | real image)."""
    from trainables.data import load_split

    audio = manifest.get("audio", {})
    test = load_split(corpus_dir, "test")
    rows = test_rows(len(test), n, seed)
    clips, real = test.audios(rows), test.images(rows)
    images = model.images_from_audio(clips)  # posterior means, eval-mode BatchNorm (the slides' evaluation)
    clf_a, _, no_judges = load_judges(cfg, corpus_dir)
    judged = judged_classes(clf_a, images)
    d = out / "from_audio"
    d.mkdir()
    items = []
    for j, row in enumerate(rows):
        label = int(test.label[row])
        item = {"test_row": int(row), "pair_id": int(test.pair_id[row]), "label": label,
                "class": class_name_of(manifest, "image", label),
                "generated": f"from_audio/{write_png(d / f'{j:03d}_generated.png', images[j])}",
                "source_png": f"from_audio/{write_png(d / f'{j:03d}_source.png', clips[j], spectrogram=True)}",
                "real_image": f"from_audio/{write_png(d / f'{j:03d}_real_image.png', real[j])}"}
        if judged is not None:
            item.update(generated_judged=class_name_of(manifest, "image", judged[j]), generated_agrees=judged[j] == label)
        wav = write_wav(d / f"{j:03d}_source.wav", clips[j], audio)
        if wav:
            item["source_wav"] = f"from_audio/{wav}"
        items.append(item)
    labels = [int(test.label[r]) for r in rows]
    names_image, names_audio = class_names(manifest)
    captions, agree = translation_captions(labels, judged, names_audio, names_image)
    grid = write_grid(out / "from_audio.png", [[clips[j], images[j], real[j]] for j in range(len(rows))],
                      [True, False, False], captions, agree)
    return {"from_audio": {"grid": grid, "items": items}, **({"judges": no_judges} if no_judges else {})}

"""``python -m platform.generate --checkpoint PATH``: samples of a trained model as PNG and wav.

The checkpoint is a directory holding ``state.pt`` (``trainables.checkpoint``: a Train checkpoint,
or ``results/<study>/best/checkpoint`` written by ``platform.report``). The trainable is the one
whose config schema has exactly the keys of the saved config; the corpus is the config's
``corpus_dir`` (``--corpus`` when it has moved). Written under ``--out`` (default: ``generated/``
beside the checkpoint directory) by the model's own sample writer (the registry's ``Trainable.samples``,
``trainables/<model>/samples.py``; this module knows no model), e.g. generated image/audio pairs and
test pairs translated both ways, or images generated from test clips, with ``index.json``: every file
written, with labels, the judges' classes, codes' seeds and settings.

The grids (``trainables.sample_grid``) are laid out four cells to a row; each cell is captioned with
what the corpus's judges (the run's classifiers) see, e.g. ``7 = seven`` for a generated pair, or
``7 -> seven`` for a source of class 7 whose translation the judge reads as "seven", and framed green
where the two agree, red where not (grey, with the reason in ``index.json``, when the judges' file is gone).

Audio is written as wav only for corpora whose audio column is sound (log-mel: Griffin-Lim,
folded waveform: unfolded); a second image modality gets PNGs. The output directory is built
under a temporary name and renamed into place.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from data_prep.atomic import staged_directory
from trainables.checkpoint import STATE_FILE
from trainables.sample_files import class_names, judged_classes, load_judges, write_grid, write_png, write_wav
from trainables.sample_grid import class_name


class GenerateError(ValueError):
    """The checkpoint or its corpus cannot be used; the message names the file."""


# ----------------------------------------------------------------------------- loading


def read_state(checkpoint: str | Path) -> tuple[Path, dict[str, Any]]:
    """(checkpoint directory, the contents of its state.pt); a state.pt that does not load (cut short,
    altered) is one GenerateError naming it."""
    from trainables.checkpoint import CheckpointDamaged
    from trainables.checkpoint import read_state as read_checkpoint_file

    path = Path(checkpoint)
    if path.is_file() and path.name == STATE_FILE:
        path = path.parent
    state_path = path / STATE_FILE
    if not state_path.is_file():
        raise GenerateError(f"{path}: not a training checkpoint (no {STATE_FILE}); give a checkpoint_* directory "
                            f"or results/<study>/best/checkpoint")
    try:
        state = read_checkpoint_file(state_path)
    except CheckpointDamaged as e:
        raise GenerateError(f"{e}; give an intact checkpoint_* directory (a trial keeps its last few)") from None
    for key in ("config", "model"):
        if key not in state:
            raise GenerateError(f"{state_path}: no {key!r} entry (keys: {sorted(state)})")
    return path, state


def infer_trainable(config: dict[str, Any], where: str = "checkpoint") -> str:
    """The trainable whose config schema has exactly the saved config's keys."""
    import dataclasses

    from trainables.registry import TRAINABLES

    keys = set(config)
    exact = [name for name, t in TRAINABLES.items() if {f.name for f in dataclasses.fields(t.config_cls)} == keys]
    if len(exact) == 1:
        return exact[0]
    close = {name: sorted(keys ^ {f.name for f in dataclasses.fields(t.config_cls)}) for name, t in TRAINABLES.items()}
    raise GenerateError(f"{where}: the saved config matches {'several' if exact else 'no'} trainable config schema "
                        f"exactly; keys that differ per trainable: {close}")


def load_model(checkpoint: str | Path, corpus: str | Path | None = None, device: str = "cpu"):
    """(trainable name, model with the checkpoint's weights, its config, corpus dir, manifest)."""
    from data_prep.manifest import CorpusDamaged, verify_corpus
    from trainables.config import from_dict
    from trainables.data import read_manifest
    from trainables.registry import build_model, get_trainable

    path, state = read_state(checkpoint)
    # checkpoints name their trainable; older ones are recognised by their config's keys
    name = state.get("trainable") or infer_trainable(state["config"], str(path / STATE_FILE))
    try:
        spec = get_trainable(name)
    except ValueError as e:
        raise GenerateError(f"{path / STATE_FILE}: {e}") from None
    cfg = from_dict(spec.config_cls, state["config"], where=str(path / STATE_FILE))
    corpus_dir = Path(corpus or cfg.corpus_dir)
    if not str(corpus or cfg.corpus_dir):
        raise GenerateError(f"{path / STATE_FILE}: the saved config names no corpus_dir; pass --corpus")
    if not (corpus_dir / "manifest.json").is_file():
        raise GenerateError(f"{path / STATE_FILE}: corpus {corpus_dir} has no manifest.json (moved? pass --corpus DIR, "
                            "or rebuild it with python -m data_prep build ...)")
    manifest = read_manifest(corpus_dir)
    try:
        verify_corpus(corpus_dir, manifest)
    except CorpusDamaged as e:  # platform.tune/train repair a corpus they build; here there is nothing to build from
        raise GenerateError(f"{e}; rebuild it with python -m data_prep build {manifest.get('corpus', '<corpus>')} --force "
                            "and the overrides it was built with (platform.tune does so on its next run)") from None
    model = build_model(spec, cfg, manifest)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise GenerateError(f"{path / STATE_FILE}: weights do not fit a {name} built for corpus {corpus_dir} "
                            f"({str(e).splitlines()[0]})") from None
    return name, model.to(device), cfg, corpus_dir, manifest


# ----------------------------------------------------------------------------- writing


def translate_files(checkpoint: str | Path, sources: list[str], modality: str, out: str | Path | None = None,
                    corpus: str | Path | None = None, seed: int = 0) -> dict[str, Any]:
    """A user's own files translated by the model of ``checkpoint``: each sound (``modality`` "audio")
    into an image, or each image ("image") into the audio column (PNG, and wav where it is sound).
    Every file is featurized exactly as the corpus featurizes that modality (any sample rate, length or
    image size: ``data_prep.features.featurize_like_corpus``); the outputs are captioned with what the
    judges read in the source and in its translation. Written under ``out`` (default:
    ``translated/`` in the working directory), one folder per file, built aside and renamed into place."""
    import torch

    from data_prep.features import featurize_like_corpus

    name, model, cfg, corpus_dir, manifest = load_model(checkpoint, corpus)
    features = [featurize_like_corpus(str(f), manifest, modality) for f in sources]  # every file checked first
    direction = "b_to_a" if modality == "audio" else "a_to_b"
    out = Path(out) if out is not None else Path("translated")
    clf_a, clf_b, no_judges = load_judges(cfg, corpus_dir)
    clf_src, clf_dst = (clf_b, clf_a) if modality == "audio" else (clf_a, clf_b)
    names_image, names_audio = class_names(manifest)
    names_src, names_dst = (names_audio, names_image) if modality == "audio" else (names_image, names_audio)
    model.train()  # as after training (generators with batch statistics; translate calibrates them)
    index: dict[str, Any] = {"checkpoint": str(Path(checkpoint).resolve()), "trainable": name, "direction": direction,
                             "items": [], **({"judges": no_judges} if no_judges else {})}
    out.mkdir(parents=True, exist_ok=True)
    for source, x in zip(sources, features):
        x = torch.from_numpy(np.asarray(x, np.float32))[None, None]
        translated, _ = model.translate(x, direction, seed=seed)
        read_src, read_dst = judged_classes(clf_src, x), judged_classes(clf_dst, translated)
        item: dict[str, Any] = {"source": str(source)}
        target = out / Path(source).stem
        with staged_directory(target) as tmp:
            item["source_features"] = write_png(tmp / "source.png", x[0], spectrogram=modality == "audio")
            item["translated"] = write_png(tmp / ("image.png" if modality == "audio" else "audio.png"), translated[0],
                                           spectrogram=modality == "image")
            if modality == "image":
                wav = write_wav(tmp / "audio.wav", translated[0], manifest.get("audio", {}))
                if wav:
                    item["translated_wav"] = wav
            caption, agree = f"{Path(source).name}", None
            if read_src is not None:
                item.update(source_judged=class_name(names_src, read_src[0]), translated_judged=class_name(names_dst, read_dst[0]))
                agree = read_src[0] == read_dst[0]
                caption = f"{item['source_judged']} -> {item['translated_judged']}"
            item["grid"] = write_grid(tmp / "translation.png", [[x[0], translated[0]]],
                                      [modality == "audio", modality == "image"], [caption], [agree])
            (tmp / "index.json").write_text(json.dumps(item, indent=2))
        item["out"] = str(target)
        index["items"].append(item)
    return index


def generate(checkpoint: str | Path, out: str | Path | None = None, n: int = 16, seed: int = 0,
             corpus: str | Path | None = None, transfer_steps: int | None = None,
             transfer_n: int | None = None) -> dict[str, Any]:
    """Write the samples of ``checkpoint`` under ``out``; returns the index (also ``out/index.json``)."""
    import torch

    if n < 2:
        raise GenerateError(f"--n must be >= 2 (generators normalize with batch statistics), got {n}")
    name, model, cfg, corpus_dir, manifest = load_model(checkpoint, corpus)
    ckpt_dir = Path(checkpoint)
    ckpt_dir = ckpt_dir.parent if ckpt_dir.name == STATE_FILE else ckpt_dir
    out = Path(out) if out is not None else ckpt_dir.resolve().parent / "generated"
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    with staged_directory(out) as tmp:
        index: dict[str, Any] = {"checkpoint": str(ckpt_dir.resolve()), "trainable": name, "corpus_dir": str(corpus_dir),
                                 "corpus": manifest.get("corpus"), "n": n, "seed": seed}
        from trainables.registry import get_trainable

        index.update(get_trainable(name).samples(model, cfg, corpus_dir, manifest, tmp, n, seed, transfer_steps, transfer_n))
        index["wav_written"] = any(p.suffix == ".wav" for p in tmp.rglob("*.wav"))
        (tmp / "index.json").write_text(json.dumps(index, indent=2))
    index["out"] = str(out)
    return index


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m platform.generate", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a checkpoint directory holding state.pt")
    p.add_argument("--out", help="output directory (default: generated/ beside the checkpoint directory)")
    p.add_argument("--n", type=int, default=16, help="samples generated, and test pairs translated (default: 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the codes and of the test pairs chosen (default: 0)")
    p.add_argument("--corpus", help="corpus directory (default: the checkpoint config's corpus_dir)")
    p.add_argument("--transfer-steps", type=int, help="latent-recovery steps per restart (default: the config's transfer_steps)")
    own = p.add_mutually_exclusive_group()
    own.add_argument("--from-audio", nargs="+", metavar="SOUND", help="your own sound file(s), any sample rate and "
                     "length: each translated into an image (written under --out, default translated/)")
    own.add_argument("--from-image", nargs="+", metavar="IMAGE", help="your own image file(s), any size: each "
                     "translated into the audio column (PNG, and wav where it is sound)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    own = args.from_audio or args.from_image
    try:
        if own:
            index = translate_files(args.checkpoint, own, "audio" if args.from_audio else "image", args.out,
                                    args.corpus, args.seed)
            for item in index["items"]:
                read = (f": the judges read {item['source_judged']} -> {item['translated_judged']}"
                        if "source_judged" in item else "")
                print(f"{item['source']} -> {item['out']}/ ({item['translated']}{', ' + item['translated_wav'] if 'translated_wav' in item else ''}){read}")
            return 0
        index = generate(args.checkpoint, args.out, args.n, args.seed, args.corpus, args.transfer_steps)
    except (GenerateError, FileNotFoundError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    files = sum(1 for _ in Path(index["out"]).rglob("*") if _.is_file())
    parts = [f"{len(index['pairs'])} generated pairs"] if "pairs" in index else []
    parts += [f"{len(v['items'])} transfers {k.replace('_', ' ')}" for k, v in index.get("transfer", {}).items()]
    if "from_audio" in index:
        parts.append(f"{len(index['from_audio']['items'])} images from test audio")
    print(f"{index['trainable']} checkpoint {index['checkpoint']}: {', '.join(parts)}"
          f"{'' if index['wav_written'] else ' (no wav: the corpus audio column is not sound)'}")
    print(f"written: {index['out']}/ ({files} files, index.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

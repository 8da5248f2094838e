"""Writing a model's samples as files: PNGs (spectrograms flipped), labelled grids, wavs of the audio
column, and the run's judges to caption them. The models' sample writers (``trainables/<model>/samples.py``,
named by the registry's ``Trainable.samples``) and ``platform.generate`` share them."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from trainables.sample_grid import class_name, to_uint8


class SampleWriter(Protocol):
    """What ``Trainable.samples`` is: writes ``n`` samples of ``model`` (seeded by ``seed``) under ``out``,
    a directory that exists and is empty, and returns their index (``platform.generate`` adds it to
    ``index.json``). ``transfer_steps``/``transfer_n``: for models that translate test pairs."""

    def __call__(self, model: Any, cfg: Any, corpus_dir: Path, manifest: dict, out: Path, n: int, seed: int,
                 transfer_steps: int | None = None, transfer_n: int | None = None) -> dict[str, Any]: ...


def write_png(path: Path, x, spectrogram: bool = False) -> str:
    """One sample as a grey PNG; spectrograms are flipped so low frequencies are at the bottom."""
    from PIL import Image

    a = to_uint8(x)
    Image.fromarray(np.ascontiguousarray(a[::-1] if spectrogram else a)).save(path)
    return path.name


def write_grid(path: Path, cells: list[list[Any]], spectrogram: list[bool], captions: list[str],
               agree: list[bool | None]) -> str:
    """A labelled grid (``trainables.sample_grid.labelled_grid``) as a PNG."""
    from PIL import Image

    from trainables.sample_grid import labelled_grid

    Image.fromarray(labelled_grid(cells, spectrogram, captions, agree)).save(path)
    return path.name


def load_judges(cfg, corpus_dir: Path) -> tuple[Any, Any, str]:
    """(image judge, audio judge, "") from the run's classifier file (looked for under ``corpus_dir``
    when the corpus moved), or (None, None, why not)."""
    from trainables.classifiers import load_classifiers

    saved = Path(str(getattr(cfg, "classifier_path", "") or ""))
    for path in (saved, corpus_dir / saved.name):
        if saved.name and path.is_file():
            clf_a, clf_b, _ = load_classifiers(path)
            return clf_a, clf_b, ""
    return None, None, f"no judges: {saved or 'the config names no classifier_path'} not found"


def judged_classes(clf, x) -> list[int] | None:
    """The classes ``clf`` reads in ``x`` (None without a judge)."""
    from trainables.classifiers import predict

    return None if clf is None else predict(clf, x).tolist()


def write_wav(path: Path, x, audio: dict) -> str | None:
    """The audio-column sample as a wav (None when the corpus's audio column is no sound)."""
    import soundfile

    from trainables.audio import spectrogram_to_audio

    arr = np.asarray(x.detach().float().cpu() if hasattr(x, "detach") else x, dtype=np.float32)
    out = spectrogram_to_audio(arr.reshape(arr.shape[-2], arr.shape[-1]), audio) if audio else None
    if out is None:
        return None
    wave, rate = out
    soundfile.write(str(path), wave, rate, subtype="PCM_16")
    return path.name


def test_rows(n_test: int, n: int, seed: int) -> np.ndarray:
    """``n`` test rows drawn with ``seed``, in order."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_test, size=min(n, n_test), replace=False))


def class_name_of(manifest: dict, modality: str, label: int) -> str:
    """The corpus's name of class ``label`` on the ``modality`` side."""
    return class_name(manifest.get("classes", {}).get(modality) or [], label)


def class_names(manifest: dict) -> tuple[list[str], list[str]]:
    """(image class names, audio class names) of the corpus."""
    classes = manifest.get("classes", {})
    return list(classes.get("image") or []), list(classes.get("audio") or [])

"""The data a run needs: the corpus (built by data_prep, cached by config hash) and its judge classifiers."""
from __future__ import annotations

import time
from pathlib import Path

from platform.study import Study


def prepare(study: Study, data_root: Path) -> tuple[Path, Path, dict]:
    """Corpus directory, classifier path and classifier test accuracies (both cached)."""
    import json

    import data_prep
    from trainables.classifiers import ensure_classifiers

    t0 = time.time()
    corpus_dir = data_prep.build(study.corpus.name, out_root=data_root, overrides=study.corpus.overrides)
    print(f"corpus: {corpus_dir} ({time.time() - t0:.0f} s)", flush=True)
    t0 = time.time()
    clf_path = ensure_classifiers(corpus_dir, **study.classifiers.given())
    acc = json.loads(clf_path.with_suffix(".json").read_text())["test_accuracy"]
    print(f"classifiers: {clf_path} test accuracy image={acc['image']:.3f} audio={acc['audio']:.3f} "
          f"({time.time() - t0:.0f} s)", flush=True)
    return corpus_dir, clf_path, acc

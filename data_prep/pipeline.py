"""Build a registered corpus into ``<out_root>/<name>-<hash8>/``: sharded Parquet + ``manifest.json``.

Every corpus is two sides per split: images (uint8) and "audio" units (float16 features: log-mel,
folded waveform, or a second image domain in [-1, 1]), each with class labels. The corpus's builder
(``data_prep.corpora.<name>``) prepares both sides (files are featurized by Ray Data batch tasks, bad
files quarantined with their reason); ``data_prep.corpus_writer`` pairs every image with a same-class
unit of the same split, writes each split with Ray Data ``write_parquet`` and writes the manifest.
Everything is written under a temporary sibling directory that replaces the final one only when
complete, so a half-written corpus never appears; a URI output is staged locally and uploaded
(``data_prep.storage``).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from data_prep import staleness, storage
from data_prep.atomic import file_lock, swap_directory
from data_prep.corpora import REGISTRY, config_from_dict, config_hash
from data_prep.corpus_writer import write_corpus
from data_prep.manifest import CorpusDamaged, load_manifest, verify_corpus, write_manifest

log = logging.getLogger("data_prep")



def build(name: str, out_root: str | Path = "data", overrides: dict | None = None,
          force: bool = False, verify: bool = False) -> Path | str:
    """Build corpus ``name`` (config defaults + ``overrides``) and return its directory (a Path, or
    the corpus URI when ``out_root`` is a URI such as ``file:///…`` or ``s3://bucket/prefix``).

    Up to date (manifest with the same config hash, files matching its sizes and checksums, and for a
    corpus built from a user's folder, the folder's files as they were: ``data_prep.staleness``) and not
    ``force``: nothing is done. ``verify``: the folder's files are hashed too, not only listed. A corpus
    whose folder changed is rebuilt, with a line saying what changed. A damaged corpus (a shard missing,
    truncated or altered, a manifest that does not parse) is rebuilt; if that rebuild fails,
    CorpusDamaged names the damaged file, the reason and ``--force``.
    """
    cfg = config_from_dict(name, overrides)
    chash = config_hash(cfg)
    dirname = f"{name}-{chash[:8]}"
    if storage.is_uri(out_root):
        return _build_uri(name, cfg, chash, str(out_root), dirname, force, verify)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    with file_lock(out_root):  # one build at a time under out_root: a second finds the first's corpus
        return _build_local(name, cfg, chash, out_root, out_root / dirname, force, verify)


def _build_local(name: str, cfg: Any, chash: str, out_root: Path, final: Path, force: bool, verify: bool) -> Path:
    damage = None
    if final.exists() and not force:
        try:
            manifest = load_manifest(final)
            if manifest.get("config_hash") == chash:
                verify_corpus(final, manifest)
                changed, listing = _changed_sources(name, cfg, manifest, verify)
                if changed is None:
                    if listing is not None:  # a corpus built before listings: record it once
                        write_manifest(final, staleness.record(manifest, listing))
                    log.info("%s is up to date (config %s); rebuild with force=True (--force)", final, chash)
                    return final
                log.warning("%s: %s; rebuilding it", final, changed)
        except (FileNotFoundError, ValueError) as e:  # CorpusDamaged is a ValueError
            damage = e
            log.warning("%s is damaged (%s); rebuilding it", final, e)
    tmp = out_root / f".{name}-{chash}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.time()
    try:
        tmp.mkdir()
        _run_builder(name, cfg, chash, tmp, out_root / "_cache", t0)
        if damage is not None:
            _keep_judges(final, tmp)
        swap_directory(tmp, final)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        _raise_unrepaired(damage, e, name)
        raise
    log.info("built %s in %.1f s", final, time.time() - t0)
    return final


def _build_uri(name: str, cfg: Any, chash: str, out_root: str, dirname: str, force: bool, verify: bool) -> str:
    uri = storage.join(out_root, dirname)
    fs, path = storage.filesystem(uri)
    damage = None
    if not force:
        try:
            m = storage.read_manifest_uri(uri)
            if m is not None and m.get("config_hash") == chash:
                verify_corpus(path, m, fs=fs, checksums=False)  # sizes only: checksums would download it
                changed, _ = _changed_sources(name, cfg, m, verify)
                if changed is None:
                    log.info("%s is up to date (config %s); rebuild with force=True (--force)", uri, chash)
                    return uri
                log.warning("%s: %s; rebuilding it", uri, changed)
        except ValueError as e:
            damage = e
            log.warning("%s is damaged (%s); rebuilding it", uri, e)
    cache = Path(os.environ.get("DATA_PREP_CACHE", Path.home() / ".cache" / "xmodal-data-prep"))
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=cache) as staging:
            tmp = Path(staging) / dirname
            tmp.mkdir()
            _run_builder(name, cfg, chash, tmp, cache, t0)
            storage.upload(tmp, uri)
    except BaseException as e:
        _raise_unrepaired(damage, e, name)
        raise
    log.info("built %s in %.1f s", uri, time.time() - t0)
    return uri


def _changed_sources(name: str, cfg: Any, manifest: dict, verify: bool) -> tuple[str | None, dict | None]:
    """``data_prep.staleness.stale`` for a corpus built from a user's folder; (None, None) for the others."""
    check = staleness.checker(REGISTRY[name], cfg)
    return (None, None) if check is None else staleness.stale(manifest, *check, verify=verify)


def _raise_unrepaired(damage: Exception | None, error: BaseException, name: str) -> None:
    """A damaged corpus whose rebuild failed: one CorpusDamaged naming the damage and the failure."""
    if damage is None or not isinstance(error, Exception):
        return
    why = (str(error).strip().splitlines() or [type(error).__name__])[0]
    raise CorpusDamaged(f"{damage}; rebuilding it failed ({type(error).__name__}: {why}); fix that, then run "
                        f"python -m data_prep build {name} --force") from error


def _keep_judges(old: Path, new: Path) -> None:
    """Carry the judge classifiers cached in a damaged corpus (``classifiers-*``) into its rebuild: the
    config, hence the data, is the same, and ``ensure_classifiers`` still checks their corpus hash."""
    for f in old.glob("classifiers-*"):
        if f.is_file():
            shutil.copy2(f, new / f.name)


def _run_builder(name: str, cfg: Any, chash: str, tmp: Path, cache: Path, t0: float) -> None:
    with _ray_session():
        prepared = REGISTRY[name].build(cfg, cache)
        write_corpus(name, cfg, chash, prepared, tmp, t0)


class _ray_session:
    """Use the running Ray instance, or start a local one for the build and shut it down after."""

    def __enter__(self) -> None:
        import ray

        self.own = not ray.is_initialized()
        if self.own:
            ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)

    def __exit__(self, *exc: object) -> None:
        if self.own:
            import ray

            ray.shutdown()

"""Where a study comes from: its YAML file (a name in ``platform/studies/`` or a path), the ``--set``
overrides applied over it, the shared resource presets, and the command-line arguments that pick them.
``platform.study`` turns the result into the one typed ``Study``."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

STUDIES_DIR = Path(__file__).resolve().parent / "studies"
PRESETS_FILE = Path(__file__).resolve().parent / "presets.yaml"
"""The resource presets every study shares (a study's ``presets:`` entries are merged over them)."""


class StudyError(ValueError):
    """A study file or an override that does not fit the schema; the message names the key."""


def add_study_arguments(parser, example: str, *aliases: str) -> None:
    """The arguments platform.tune and platform.train share: which study (``--study``, plus older
    spellings in ``aliases``), overrides, preset, where."""
    parser.add_argument("--study", *aliases, required=True, dest="study",
                        help=f"a study name ({', '.join(known_studies())}) or a YAML path")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a study key, e.g. {example}")
    parser.add_argument("--preset", help="resources preset of the study (local-cpu, gpu)")
    parser.add_argument("--results", default="results",
                        help="results root: a path or a URI such as s3://bucket/prefix (default: results/)")
    parser.add_argument("--data", default="data", help="corpus root (default: data/)")
    parser.add_argument("--address", help="Ray cluster address to join (default: start a local Ray)")


def known_studies() -> list[str]:
    return sorted(p.stem for p in STUDIES_DIR.glob("*.yaml"))


def study_path(name_or_path: str) -> Path:
    """A study name from platform/studies/ or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise StudyError(f"study file {p} does not exist")
        return p
    p = STUDIES_DIR / f"{name_or_path}.yaml"
    if not p.is_file():
        raise StudyError(f"unknown study {name_or_path!r}; known studies: {', '.join(known_studies())}")
    return p


def read_study(path: Path) -> dict[str, Any]:
    """The study file's mapping, as written."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise StudyError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise StudyError(f"{path}: a study must be a YAML mapping")
    return raw


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (["a", "b"], YAML-parsed value)."""
    from data_prep.cli import parse_set

    try:
        key, value = parse_set(item)
    except ValueError:
        raise StudyError(f"override {item!r} must look like key=value (e.g. config.epochs=2)") from None
    return key.split("."), value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of ``raw`` with each ``key.path=value`` override set (missing mappings created)."""
    out = copy.deepcopy(raw)
    for item in overrides:
        path, value = parse_override(item)
        node = out
        for k in path[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise StudyError(f"override {item!r}: {k!r} is not a mapping")
        node[path[-1]] = value
    return out


def shared_presets() -> dict[str, dict[str, Any]]:
    """``platform/presets.yaml``: preset name -> resources."""
    try:
        presets = yaml.safe_load(PRESETS_FILE.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise StudyError(f"{PRESETS_FILE}: cannot read the shared presets ({e})") from None
    if not isinstance(presets, dict) or not all(isinstance(v, dict) for v in presets.values()):
        raise StudyError(f"{PRESETS_FILE}: must map preset names to mappings of resources")
    return presets


def merged_presets(own: Any) -> dict[str, dict[str, Any]]:
    """The shared presets with a study's own ``presets:`` merged over them: by name, key by key."""
    if own is not None and not (isinstance(own, dict) and all(isinstance(v, dict) for v in own.values())):
        raise StudyError(f"presets: a mapping of preset names to mappings of resources, got {own!r}")
    presets = shared_presets()
    for name, resources in (own or {}).items():
        presets[name] = {**presets.get(name, {}), **resources}
    return presets

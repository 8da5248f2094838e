"""Offline corpora for cross-modal training: sources, features, pairing, sharded Parquet + manifest.

Knows no model; never imports ``platform`` or ``trainables``.
"""
from data_prep.corpora import CORPORA, config_from_dict, config_hash
from data_prep.manifest import load_manifest
from data_prep.pipeline import build

__all__ = ["CORPORA", "build", "config_from_dict", "config_hash", "load_manifest"]

"""Readers and offline synthesizers for raw inputs (IDX images, FSDD-style wav folders, espeak-ng)."""

"""Grayscale images of drawn shapes, offline: one shape kind per class, every image drawn anew.

Each image draws its shape's size, position, rotation, stroke width, fill, brightness and a
background texture from a seeded generator (PIL ImageDraw, then a slight blur and noise), so a class
is a kind of shape seen many ways. Files: ``<out>/<class>/<class>_<k>.png``.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

SHAPES = ("circle", "square", "triangle", "star", "cross", "ring", "bars", "diamond", "crescent", "arrow")


def _polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if kind == "square":
        pts = [(math.cos(a), math.sin(a)) for a in np.arange(4) * math.pi / 2 + math.pi / 4]
    elif kind == "triangle":
        pts = [(math.cos(a), math.sin(a)) for a in np.arange(3) * 2 * math.pi / 3 - math.pi / 2]
    elif kind == "diamond":
        pts = [(0.6, 0.0), (0.0, 1.0), (-0.6, 0.0), (0.0, -1.0)]
    elif kind == "star":
        pts = [((1.0 if k % 2 == 0 else 0.42) * math.cos(a), (1.0 if k % 2 == 0 else 0.42) * math.sin(a))
               for k, a in enumerate(np.arange(10) * math.pi / 5 - math.pi / 2)]
    elif kind == "cross":
        w = 0.3
        pts = [(w, 1), (w, w), (1, w), (1, -w), (w, -w), (w, -1), (-w, -1), (-w, -w), (-1, -w), (-1, w), (-w, w), (-w, 1)]
    elif kind == "arrow":
        pts = [(-1, 0.25), (0.2, 0.25), (0.2, 0.6), (1, 0), (0.2, -0.6), (0.2, -0.25), (-1, -0.25)]
    else:
        raise ValueError(kind)
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in pts]


def draw_shape(kind: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One uint8 [size, size] image of ``kind`` (one of ``SHAPES``)."""
    from PIL import Image, ImageDraw, ImageFilter

    if kind not in SHAPES:
        raise ValueError(f"unknown shape {kind!r}; known: {', '.join(SHAPES)}")
    bg = int(rng.integers(0, 70))
    img = Image.new("L", (size, size), bg)
    d = ImageDraw.Draw(img)
    r = size * rng.uniform(0.2, 0.38)
    cx, cy = (size * rng.uniform(0.5 - 0.45 + r / size, 0.5 + 0.45 - r / size) for _ in range(2))
    angle = rng.uniform(0, 2 * math.pi)
    ink = int(rng.integers(150, 256))
    stroke = max(1, int(size * rng.uniform(0.03, 0.08)))
    filled = rng.random() < 0.5
    box = [cx - r, cy - r, cx + r, cy + r]
    if kind == "circle":
        d.ellipse(box, fill=ink if filled else None, outline=ink, width=stroke)
    elif kind == "ring":
        d.ellipse(box, outline=ink, width=max(stroke, int(r * 0.35)))
    elif kind == "crescent":
        d.ellipse(box, fill=ink)
        off = r * 0.55
        d.ellipse([cx - r + off * math.cos(angle), cy - r + off * math.sin(angle),
                   cx + r + off * math.cos(angle), cy + r + off * math.sin(angle)], fill=bg)
    elif kind == "bars":
        n = int(rng.integers(2, 5))
        for k in range(n):
            off = (k - (n - 1) / 2) * 2 * r / n
            a = [(-r, off), (r, off)]
            c, s = math.cos(angle), math.sin(angle)
            d.line([(cx + x * c - y * s, cy + x * s + y * c) for x, y in a], fill=ink, width=stroke + 1)
    else:
        pts = _polygon(kind, cx, cy, r, angle)
        d.polygon(pts, fill=ink if filled else None, outline=ink, width=stroke)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.0)))
    x = np.asarray(img, np.float32) + rng.normal(0, rng.uniform(2, 12), (size, size))
    return np.clip(x, 0, 255).astype(np.uint8)


def write_shapes(out: Path, kind: str, count: int, seed: int, size: int = 64, name: str | None = None) -> list[Path]:
    """``count`` images of ``kind`` as PNG files in ``out/<name or kind>/``."""
    from PIL import Image

    name = name or kind
    rng = np.random.default_rng([seed, SHAPES.index(kind) + 1000])
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"{name}_{k:04d}.png"
        Image.fromarray(draw_shape(kind, rng, size)).save(path)
        paths.append(path)
    return paths

"""Labelled grids of samples, for TensorBoard and ``platform.generate``.

Each cell is a row of tiles (an image and the spectrogram generated from one code; or a source, its
translation and the real partner) in a frame coloured by whether the judges agree (green) or not (red),
with a caption under it naming what the judges see (e.g. ``7 = seven``, ``Coat vs nine``). Cells are
laid out ``ncols`` to a row. Spectrograms are drawn with low frequencies at the bottom.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

AGREE = (20, 150, 20)
DISAGREE = (210, 30, 30)
UNJUDGED = (150, 150, 150)
FRAME, GAP, SEP = 3, 6, 2  # frame width, gap between cells, gap between the tiles of a cell (pixels)


def to_uint8(x) -> np.ndarray:
    """A [1, H, W] or [H, W] tensor/array in [-1, 1] -> uint8 [H, W]."""
    a = np.asarray(x.detach().float().cpu() if hasattr(x, "detach") else x, dtype=np.float32)
    a = a.reshape(a.shape[-2], a.shape[-1])
    return ((np.clip(a, -1, 1) + 1) * 127.5).round().astype(np.uint8)


def class_name(names: Sequence[str], k: int) -> str:
    """The name of class ``k`` (its index where the names do not cover it)."""
    return str(names[k]) if 0 <= k < len(names) else str(k)


def judged_captions(pred_a: Sequence[int], pred_b: Sequence[int], names_a: Sequence[str],
                    names_b: Sequence[str]) -> tuple[list[str], list[bool]]:
    """Captions and agreement for pairs the judges labelled ``pred_a`` / ``pred_b`` (class indices)."""
    captions, agree = [], []
    for a, b in zip(pred_a, pred_b):
        same = int(a) == int(b)
        captions.append(f"{class_name(names_a, int(a))} {'=' if same else 'vs'} {class_name(names_b, int(b))}")
        agree.append(same)
    return captions, agree


def translation_captions(labels: Sequence[int], judged: Sequence[int] | None, names_source: Sequence[str],
                         names_target: Sequence[str]) -> tuple[list[str], list[bool | None]]:
    """``7 -> seven`` captions for translations of sources of class ``labels`` that the target's judge
    read as ``judged`` (``?`` and no verdict without a judge), and whether each kept its class."""
    captions = [f"{class_name(names_source, int(k))} -> " + (class_name(names_target, int(judged[j])) if judged is not None
                                                              else "?") for j, k in enumerate(labels)]
    agree = [None if judged is None else int(judged[j]) == int(k) for j, k in enumerate(labels)]
    return captions, agree


def labelled_grid(cells: Sequence[Sequence[object]], spectrogram: Sequence[bool], captions: Sequence[str],
                  agree: Sequence[Optional[bool]], ncols: int = 4, scale: int = 2) -> np.ndarray:
    """An RGB uint8 array [H, W, 3]: ``cells[i]`` (tiles in [-1, 1], ``spectrogram[j]`` flags the j-th
    tile of every cell) framed by ``agree[i]`` (True green, False red, None grey) over ``captions[i]``."""
    from PIL import Image, ImageDraw, ImageFont

    n = len(cells)
    if not (n == len(captions) == len(agree)) or n == 0:
        raise ValueError(f"need as many captions and verdicts as cells (>0), got {n}, {len(captions)}, {len(agree)}")
    tiles = [[np.ascontiguousarray(to_uint8(t)[::-1]) if spec else to_uint8(t) for t, spec in zip(cell, spectrogram)]
             for cell in cells]
    h = max(t.shape[0] for cell in tiles for t in cell)
    widths = [max(cell[j].shape[1] for cell in tiles) for j in range(len(spectrogram))]
    inner_w = (sum(widths) + SEP * (len(widths) - 1)) * scale
    font = ImageFont.load_default(size=13)  # Pillow's bundled FreeType font: no system font needed
    text_h = 17
    cell_w, cell_h = inner_w + 2 * FRAME, h * scale + 2 * FRAME + text_h
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    canvas = Image.new("RGB", (ncols * cell_w + (ncols + 1) * GAP, nrows * cell_h + (nrows + 1) * GAP), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (cell, caption, ok) in enumerate(zip(tiles, captions, agree)):
        x0 = GAP + (i % ncols) * (cell_w + GAP)
        y0 = GAP + (i // ncols) * (cell_h + GAP)
        colour = UNJUDGED if ok is None else (AGREE if ok else DISAGREE)
        draw.rectangle([x0, y0, x0 + cell_w - 1, y0 + h * scale + 2 * FRAME - 1], fill=colour)
        x = x0 + FRAME
        for t, w in zip(cell, widths):
            block = np.full((h, w), 0, np.uint8)
            dy, dx = (h - t.shape[0]) // 2, (w - t.shape[1]) // 2
            block[dy:dy + t.shape[0], dx:dx + t.shape[1]] = t
            img = Image.fromarray(block).resize((w * scale, h * scale), Image.NEAREST).convert("RGB")
            canvas.paste(img, (x, y0 + FRAME))
            x += (w + SEP) * scale
        text = str(caption)
        while text and draw.textlength(text, font=font) > cell_w:
            text = text[:-1]
        draw.text((x0, y0 + h * scale + 2 * FRAME + 1), text, fill=colour if ok is False else (0, 0, 0), font=font)
    return np.asarray(canvas)

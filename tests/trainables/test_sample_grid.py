"""The labelled sample grid: cells laid out as a grid, framed by the judges' verdict, captioned."""
from __future__ import annotations

import numpy as np
import pytest

from trainables.sample_grid import AGREE, DISAGREE, GAP, UNJUDGED, judged_captions, labelled_grid


def cell_origins(grid: np.ndarray, n: int, ncols: int, cell_h: int) -> list[tuple[int, int]]:
    cell_w = (grid.shape[1] - (ncols + 1) * GAP) // ncols
    return [(GAP + (i // ncols) * (cell_h + GAP), GAP + (i % ncols) * (cell_w + GAP)) for i in range(n)]


def test_judged_captions_name_both_sides_and_say_whether_they_agree():
    captions, agree = judged_captions([7, 4, 12], [7, 9, 12], [str(k) for k in range(10)],
                                      ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    assert captions == ["7 = seven", "4 vs nine", "12 = 12"]  # an index without a name is shown as the index
    assert agree == [True, False, True]


def test_cells_are_laid_out_in_rows_and_framed_by_the_verdict():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (5, 1, 28, 28)).astype(np.float32)
    spectrograms = np.full((5, 1, 48, 48), 1.0, np.float32)  # white
    verdicts = [True, False, None, True, False]
    grid = labelled_grid([[images[i], spectrograms[i]] for i in range(5)], [False, True],
                         ["7 = seven", "Coat vs nine", "", "1 = one", "2 vs six"], verdicts, ncols=4, scale=2)
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    frame = 3
    cell_h = (grid.shape[0] - 3 * GAP) // 2  # two rows of cells: 4 + 1
    assert grid.shape[0] == 2 * cell_h + 3 * GAP
    assert (grid.shape[1] - 5 * GAP) % 4 == 0
    colours = {True: AGREE, False: DISAGREE, None: UNJUDGED}
    for (y, x), verdict, image in zip(cell_origins(grid, 5, 4, cell_h), verdicts, images):
        assert tuple(grid[y + 1, x + 1]) == colours[verdict]
        # the image tile, upscaled 2x (nearest), starts inside the frame; spectrogram height 48 sets the cell,
        # so the 28-row image is centred vertically: (48 - 28) // 2 = 10 rows down
        top = y + frame + 10 * 2
        expected = ((np.clip(image[0, 0, 0], -1, 1) + 1) * 127.5).round()
        assert abs(int(grid[top, x + frame, 0]) - expected) <= 1 and grid[top, x + frame, 0] == grid[top, x + frame, 1]
    # captions are drawn under the frame; an empty caption leaves its strip white
    strips = [grid[y + 2 * frame + 48 * 2: y + cell_h, x: x + 60] for y, x in cell_origins(grid, 5, 4, cell_h)]
    assert (strips[0] < 128).any() and (strips[1] < 200).any() and (strips[2] == 255).all()


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="captions"):
        labelled_grid([[np.zeros((1, 4, 4))]], [False], [], [None])

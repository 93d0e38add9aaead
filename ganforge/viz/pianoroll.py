"""Piano rolls as pictures: time left to right, pitch upwards, one colour per track, bar
lines in grey; a grid of phrases in one PNG (the sample picture of music runs)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from ganforge.viz.grid import image_grid

CELL = 2                                  # pixels a step wide and a pitch tall
TRACK_COLOURS = torch.tensor([            # RGB in [0, 1]: soprano, alto, tenor, bass, ...
    [0.84, 0.15, 0.16], [0.12, 0.47, 0.71], [0.17, 0.63, 0.17], [0.58, 0.40, 0.74],
    [1.00, 0.50, 0.05], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.50, 0.50, 0.50]])
BAR_LINE, BEAT_LINE, OCTAVE_LINE = 0.72, 0.90, 0.93  # grey levels


def roll_pictures(rolls: Tensor) -> Tensor:
    """bool (N, tracks, bars, steps, pitches) -> (N, 3, pitches*CELL, bars*steps*CELL) in [-1, 1]."""
    n, tracks, bars, steps, pitches = rolls.shape
    time = bars * steps
    canvas = torch.ones(n, 3, pitches, time)
    canvas[..., 0::12, :] = OCTAVE_LINE                   # every C (rows from the lowest pitch)
    canvas[..., :, 0::steps // 4] = BEAT_LINE
    canvas[..., :, 0::steps] = BAR_LINE
    for t in range(tracks):                               # later tracks drawn over earlier ones
        on = rolls[:, t].reshape(n, time, pitches).transpose(1, 2)  # (N, P, time)
        colour = TRACK_COLOURS[t % len(TRACK_COLOURS)][None, :, None, None]
        canvas = torch.where(on[:, None], colour, canvas)
    canvas = canvas.flip(2)                               # high pitches at the top
    big = canvas.repeat_interleave(CELL, 2).repeat_interleave(CELL, 3)
    return big * 2 - 1


def save_rolls(rolls: Tensor, path: str | Path, nrow: int | None = None, record: dict | None = None) -> Path:
    """Write a grid of piano rolls (bool, or model outputs in [-1, 1] cut at 0) as one PNG,
    `record` (ganforge.provenance) in its text chunks."""
    from ganforge.provenance import png_info
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rolls = rolls.detach().cpu()
    rolls = rolls if rolls.dtype == torch.bool else rolls > 0
    image_grid(roll_pictures(rolls), nrow=nrow or 2, pad=4).save(path, format="PNG", pnginfo=png_info(record))
    return path

"""Clips as pictures: a strip of frames a clip (one row each, time left to right) and an
animated GIF of the clips side by side."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from ganforge.viz.grid import image_grid, save_samples

GIF_SIDE = 256  # small frames are enlarged (nearest neighbour) to about this wide a grid


def frame_strips(clips: torch.Tensor) -> torch.Tensor:
    """Clips (N, C, T, H, W) -> their frames (N * T, C, H, W), clip by clip: with nrow=T, a row a clip."""
    return clips.transpose(1, 2).flatten(0, 1)


def save_strips(clips: torch.Tensor, path: str | Path, record: dict | None = None) -> Path:
    """A PNG with one row of frames a clip."""
    return save_samples(frame_strips(clips), path, nrow=clips.shape[2], record=record)


def grid_frames(clips: torch.Tensor, nrow: int | None = None, scale: int | None = None) -> list[Image.Image]:
    """One picture a time step: the clips' frame t side by side (`nrow` a row), enlarged `scale`
    times (default: to about GIF_SIDE px wide)."""
    pictures = [image_grid(clips[:, :, t], nrow) for t in range(clips.shape[2])]
    scale = scale or max(1, round(GIF_SIDE / pictures[0].width))
    if scale > 1:
        pictures = [p.resize((p.width * scale, p.height * scale), Image.Resampling.NEAREST) for p in pictures]
    return pictures


def save_clips_gif(clips: torch.Tensor, path: str | Path, fps: float = 8.0, nrow: int | None = None,
                   record: dict | None = None, scale: int | None = None) -> Path:
    """An animated GIF of clips (N, C, T, H, W) in [-1, 1] playing side by side, looping."""
    from ganforge.pipelines.interpolate import write_gif
    return write_gif(grid_frames(clips, nrow, scale), path, fps, True, record)

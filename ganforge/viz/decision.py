"""2-D runs: real and generated points over the discriminator's decision surface.

The background is sigmoid(D(x)) on a grid of the plane, lightened so the points stay
legible: green where D says "real", pink where it says "fake", white at 0.5, with the
D(x) = 0.5 boundary drawn in grey. Real points are dark grey, generated ones orange.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image, ImageDraw
from torch import nn

from ganforge import atomic

REAL_COLOUR = (60, 60, 60)
FAKE_COLOUR = (235, 110, 20)
BOUNDARY_COLOUR = (110, 110, 110)
LIGHTEN = 0.45     # blend of the colour map with white
MARGIN = 0.1       # of the points' span, on every side
CHUNK = 65_536     # grid points per D call


def auto_extent(real: torch.Tensor, fake: torch.Tensor, margin: float = MARGIN) -> tuple[float, float, float, float]:
    """A square (xmin, xmax, ymin, ymax) around both point sets (finite ones), with a margin."""
    pts = torch.cat([real.detach().float().cpu().reshape(-1, 2), fake.detach().float().cpu().reshape(-1, 2)])
    pts = pts[torch.isfinite(pts).all(1)]
    if len(pts) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = pts.min(0).values, pts.max(0).values
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2
    half = max(half * (1 + 2 * margin), 1e-3)
    cx, cy = float(centre[0]), float(centre[1])
    return (cx - half, cx + half, cy - half, cy + half)


def _extent(extent, real, fake) -> tuple[float, float, float, float]:
    if extent is None:
        return auto_extent(real, fake)
    if isinstance(extent, (int, float)):
        return (-float(extent), float(extent), -float(extent), float(extent))
    xmin, xmax, ymin, ymax = (float(v) for v in extent)
    if not (xmin < xmax and ymin < ymax):
        raise ValueError(f"extent must be (xmin, xmax, ymin, ymax) with min < max, got {extent}")
    return xmin, xmax, ymin, ymax


@torch.no_grad()
def probabilities(D: nn.Module, extent: tuple[float, float, float, float], size: int) -> np.ndarray:
    """sigmoid(D) on a size x size grid: row 0 is the top (ymax), column 0 the left (xmin)."""
    xmin, xmax, ymin, ymax = extent
    params = next(D.parameters(), None)
    device = params.device if params is not None else torch.device("cpu")
    xs = torch.linspace(xmin, xmax, size)
    ys = torch.linspace(ymax, ymin, size)
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1).reshape(-1, 2)  # (size*size, 2) as (x, y)
    was_training = D.training
    D.eval()  # no BatchNorm statistics move, no dropout
    try:
        out = [torch.sigmoid(D(chunk.to(device)).float().reshape(-1)).cpu() for chunk in grid.split(CHUNK)]
    finally:
        D.train(was_training)
    return torch.cat(out).reshape(size, size).nan_to_num(0.5).numpy()


def heat_map(prob: np.ndarray) -> np.ndarray:
    """(H, W) probabilities -> (H, W, 3) uint8: lightened PiYG, the 0.5 contour in grey."""
    rgb = colormaps["PiYG"](prob)[..., :3]
    rgb = (1 - LIGHTEN) * rgb + LIGHTEN
    img = (rgb * 255).round().astype(np.uint8)
    side = prob >= 0.5
    edge = np.zeros_like(side)
    edge[:, 1:] |= side[:, 1:] != side[:, :-1]
    edge[1:, :] |= side[1:, :] != side[:-1, :]
    img[edge] = BOUNDARY_COLOUR
    return img


def decision_surface(D: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     extent: float | Sequence[float] | None = None, size: int = 512) -> Image.Image:
    """Real (dark grey) and generated (orange) points (N, 2) over sigmoid(D(x)) as a heat map.

    `D` maps (N, 2) float points to (N,) logits. `extent` is (xmin, xmax, ymin, ymax), or a
    half-width r for (-r, r, -r, r); by default a square covering both point sets with a
    10 % margin. Returns a size x size RGB picture (y grows upwards)."""
    box = _extent(extent, real, fake)
    img = Image.fromarray(heat_map(probabilities(D, box, size)))
    draw = ImageDraw.Draw(img)
    xmin, xmax, ymin, ymax = box
    for pts, colour in ((real, REAL_COLOUR), (fake, FAKE_COLOUR)):
        p = pts.detach().float().cpu().reshape(-1, 2)
        p = p[torch.isfinite(p).all(1)].numpy()
        cols = (p[:, 0] - xmin) / (xmax - xmin) * (size - 1)
        rows = (ymax - p[:, 1]) / (ymax - ymin) * (size - 1)
        for x, y in zip(cols, rows):
            draw.ellipse((x - 1.6, y - 1.6, x + 1.6, y + 1.6), fill=colour)
    return img


def save_decision_surface(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, path: str | Path,
                          extent: float | Sequence[float] | None = None, size: int = 512) -> Path:
    """decision_surface() written to a PNG atomically (e.g. RUN_DIR/decision/step-00001000.png)."""
    picture = decision_surface(D, real, fake, extent, size)
    return atomic.write(path, lambda f: picture.save(f, format="PNG"))

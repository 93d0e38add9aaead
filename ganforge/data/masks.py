"""Holes for the repair game (inpainting): boxes and free-form strokes, bool (n, h, w), True in a hole.

Three kinds, as the inpainting papers train and test with them:
  centre   the centre square, half the side (context encoders, Pathak et al. 2016)
  boxes    one rectangle of random size (a quarter to 60 % of each side) at a random place
  strokes  DeepFill v2's free-form masks (Yu et al. 2019): 1-4 brush strokes, each a polyline
           of 1-5 segments of random direction and length, drawn with a round brush of
           random width (a scratch, a stain, a person painted over)
In training each image gets a box or strokes, half and half (`draw`), every number from the
generator the caller passes (the trainer's data generator: seeded, the same on every rank,
restored on resume). The benchmark's fixed masks (`fixed`) are drawn from their own seed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

KINDS = ("centre", "boxes", "strokes")
BOX_SIDE = (0.25, 0.6)          # a box's height and width, as shares of the image's
MAX_STROKES, MAX_SEGMENTS = 4, 5
BRUSH = (0.08, 0.18)            # brush diameter, as a share of the shorter side
SEGMENT = (0.15, 0.4)           # segment length, as a share of the shorter side


def centre(n: int, h: int, w: int) -> Tensor:
    """The centre square of half the shorter side (rounded down, at least 1 px): (n, h, w)."""
    side = max(1, min(h, w) // 2)
    top, left = (h - side) // 2, (w - side) // 2
    m = torch.zeros(n, h, w, dtype=torch.bool)
    m[:, top:top + side, left:left + side] = True
    return m


def boxes(n: int, h: int, w: int, generator: torch.Generator) -> Tensor:
    """One rectangle per image, its sides BOX_SIDE of the image's, anywhere inside it: (n, h, w)."""
    lo, hi = BOX_SIDE
    size = lo + (hi - lo) * torch.rand(n, 2, generator=generator)                   # (n, 2) shares
    rh = (size[:, 0] * h).round().clamp(1, h)
    rw = (size[:, 1] * w).round().clamp(1, w)
    top = (torch.rand(n, generator=generator) * (h - rh + 1)).floor()
    left = (torch.rand(n, generator=generator) * (w - rw + 1)).floor()
    ys, xs = torch.arange(h), torch.arange(w)
    rows = (ys >= top[:, None]) & (ys < (top + rh)[:, None])                         # (n, h)
    cols = (xs >= left[:, None]) & (xs < (left + rw)[:, None])                       # (n, w)
    return rows[:, :, None] & cols[:, None, :]


def strokes(n: int, h: int, w: int, generator: torch.Generator) -> Tensor:
    """DeepFill v2-style free-form strokes: (n, h, w). A pixel is in the hole when its centre
    lies within the brush radius of one of the image's segments (a round brush: round ends)."""
    side, S, V = min(h, w), MAX_STROKES, MAX_SEGMENTS
    g = generator
    count = torch.randint(1, S + 1, (n, 1), generator=g)                             # strokes an image
    segments = torch.randint(1, V + 1, (n, S, 1), generator=g)                       # segments a stroke
    radius = side * (BRUSH[0] + (BRUSH[1] - BRUSH[0]) * torch.rand(n, S, 1, generator=g)) / 2
    start = torch.rand(n, S, 1, 2, generator=g) * torch.tensor([h, w])               # (n, S, 1, 2) (y, x)
    angle = torch.rand(n, S, V, generator=g) * 2 * math.pi
    length = side * (SEGMENT[0] + (SEGMENT[1] - SEGMENT[0]) * torch.rand(n, S, V, generator=g))
    step = torch.stack([angle.sin(), angle.cos()], -1) * length[..., None]           # (n, S, V, 2)
    points = torch.cat([start, start + step.cumsum(2)], 2)                           # (n, S, V + 1, 2)
    points = torch.minimum(points.clamp(min=0), torch.tensor([h - 1.0, w - 1.0]))    # strokes stay inside
    a, b = points[:, :, :-1].reshape(n, S * V, 2), points[:, :, 1:].reshape(n, S * V, 2)
    used = ((torch.arange(S)[None, :, None] < count[:, :, None])
            & (torch.arange(V)[None, None, :] < segments)).reshape(n, S * V)           # (n, K)
    r = radius.expand(n, S, V).reshape(n, S * V)
    grid = torch.stack(torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij"), -1)
    p = grid.reshape(1, 1, h * w, 2)                                                 # pixel centres
    ab = (b - a)[:, :, None]                                                         # (n, K, 1, 2)
    t = (((p - a[:, :, None]) * ab).sum(-1) / ab.square().sum(-1).clamp(min=1e-9)).clamp(0, 1)
    nearest = a[:, :, None] + t[..., None] * ab                                      # (n, K, HW, 2)
    inside = ((p - nearest).square().sum(-1) <= r[..., None].square()) & used[..., None]
    return inside.any(1).reshape(n, h, w)


def draw(n: int, h: int, w: int, generator: torch.Generator) -> Tensor:
    """Training holes: for each image a box or strokes, each with probability 1/2: (n, h, w)."""
    use_box = torch.rand(n, generator=generator) < 0.5
    box, stroke = boxes(n, h, w, generator), strokes(n, h, w, generator)
    return torch.where(use_box[:, None, None], box, stroke)


def fixed(kind: str, n: int, h: int, w: int, seed: int = 0) -> Tensor:
    """The same `n` masks of one kind every time (the benchmark's and the held-out pictures')."""
    if kind not in KINDS:
        raise ValueError(f"unknown mask kind {kind!r} (expected one of: {', '.join(KINDS)})")
    if kind == "centre":
        return centre(n, h, w)
    g = torch.Generator().manual_seed(seed)
    return boxes(n, h, w, g) if kind == "boxes" else strokes(n, h, w, g)

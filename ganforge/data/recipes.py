"""Pix2pix inputs made from any image dataset: edges, grey, small or holed versions of each
image, so that every dataset ganforge loads becomes a paired task (edges -> image,
colourisation, super-resolution, inpainting).

Every recipe is deterministic: an image always gets the same input (the holes of ``mask``
depend only on the image's index). Images are uint8 ``(N, C, H, W)`` in and out, processed
in chunks so that the float copies stay small.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.data.transforms import LUMA, convert_channels
from ganforge.errors import GanforgeError

RECIPES: dict[str, str] = {
    "edges": "edge map -> image: black Sobel edges of the slightly blurred grey image on white (like edges2shoes)",
    "gray": "grey -> colour: the luminance of a colour image (colourisation; --data photos: random patches of "
            "scikit-image's colour photos at their own size)",
    "downscale:N": "N times smaller (bicubic, antialiased), scaled back up -> image (super-resolution; N = 2..8)",
    "sr:N": "N times smaller at its own size (bicubic, antialiased) -> random patches of photos, for --game "
            "superres (N = 2, 3, 4; --data photos or a folder)",
    "mask": "holes -> image: 1-3 grey (128) rectangles over ~10-25 % of each image (inpainting)",
}
FACTORS = range(2, 9)           # downscale:N
EDGE_FRACTION = 0.175           # the share of each image's pixels drawn as edge (~15-20 %)
MIN_GRADIENT = 16.0             # weaker Sobel magnitudes (0..255 pixels) are flat: noise, not edges
HOLE_VALUE = 128                # what mask fills its holes with: mid grey
MAX_HOLES = 3
HOLE_COVER = (0.10, 0.25)       # range of the share of an image the holes are drawn to cover
CHUNK_PIXELS = 1 << 20          # pixels per chunk: each float copy stays ~4 MB (cache-friendly)


def recipe_syntax() -> str:
    """The recipes for a message: "edges (edge map -> image: ...), gray (...), ..."."""
    return "; ".join(f"{name} ({what})" for name, what in RECIPES.items())


def parse_recipe(pairs: str) -> tuple[str, int | None]:
    """``"downscale:4"`` -> ``("downscale", 4)``, ``"edges"`` -> ``("edges", None)``."""
    name, colon, arg = pairs.strip().partition(":")
    if name == "downscale":
        if not (arg.strip().isdigit() and int(arg) in FACTORS):
            raise GanforgeError(f"pairs {pairs!r}: downscale:N takes an integer N from {FACTORS[0]} to "
                                f"{FACTORS[-1]}, the factor the inputs are made smaller by (e.g. downscale:4)")
        return name, int(arg)
    if name == "sr":
        from ganforge.data.superres import SCALES
        if not (arg.strip().isdigit() and int(arg) in SCALES):
            raise GanforgeError(f"pairs {pairs!r}: sr:N takes N = {', '.join(map(str, SCALES))}, the factor the "
                                "inputs are made smaller by (e.g. sr:4)")
        return name, int(arg)
    if name in RECIPES and not colon:
        return name, None
    raise GanforgeError(f"pairs {pairs!r} is not known: expected '' (a folder of pairs: A/ and B/, or "
                        f"side-by-side A|B images), 'swap' (the same with A and B exchanged), or a recipe: "
                        f"{recipe_syntax()}")


def is_grey(x: Tensor) -> bool:
    """True for one-channel images and for RGB ones whose three channels are equal."""
    return x.shape[1] == 1 or bool((x[:, 0] == x[:, 1]).all() and (x[:, 1] == x[:, 2]).all())


def make_inputs(name: str, arg: int | None, x: Tensor) -> Tensor:
    """The recipe's inputs for targets ``x``: uint8 (N, C, H, W) -> uint8 (N, Ca, H, W);
    Ca is 1 for edges and gray, C otherwise."""
    if name == "gray":
        return convert_channels(x, 1)
    if name == "downscale" and min(x.shape[-2:]) < arg:
        h, w = x.shape[-2:]
        raise GanforgeError(f"pairs 'downscale:{arg}' needs images at least {arg} px on each side, "
                            f"got {w}x{h} (width x height): use a smaller N or a larger resolution")
    make = {"edges": lambda chunk, start: _edges(chunk),
            "downscale": lambda chunk, start: _downscale(chunk, arg),
            "mask": _mask}[name]
    step = max(1, CHUNK_PIXELS // (x.shape[-2] * x.shape[-1]))
    chunks = [make(x[start:start + step], start) for start in range(0, len(x), step)]
    out_channels = 1 if name == "edges" else x.shape[1]
    return torch.cat(chunks) if chunks else x.new_zeros((0, out_channels, *x.shape[-2:]))


# ------------------------------------------------------------------ edges
def _filter3(x: Tensor, rows: list[float], cols: list[float]) -> Tensor:
    """A separable 3x3 filter, edges replicated (so the border draws no false edge): (n, 1, H, W).
    Shifted slices, not conv2d: a one-channel conv2d is ~30x slower on the CPU."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")                                     # (n, 1, H+2, W+2)
    p = rows[0] * p[..., :-2, :] + rows[1] * p[..., 1:-1, :] + rows[2] * p[..., 2:, :]  # (n, 1, H, W+2)
    return cols[0] * p[..., :-2] + cols[1] * p[..., 1:-1] + cols[2] * p[..., 2:]


def _edges(x: Tensor) -> Tensor:
    """Black lines on white: the Sobel magnitude of the blurred grey image above its per-image
    (1 - EDGE_FRACTION) quantile (and above MIN_GRADIENT). (n, C, H, W) -> (n, 1, H, W)."""
    grey = x.float() if x.shape[1] == 1 else (x.float() * torch.tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    smooth, diff = [0.25, 0.5, 0.25], [-1.0, 0.0, 1.0]
    blurred = _filter3(grey, smooth, smooth)
    sobel = [1.0, 2.0, 1.0]
    magnitude = torch.hypot(_filter3(blurred, sobel, diff), _filter3(blurred, diff, sobel)).flatten(1)  # (n, HW)
    k = min(magnitude.shape[1], max(1, round((1 - EDGE_FRACTION) * magnitude.shape[1])))
    threshold = magnitude.kthvalue(k, dim=1, keepdim=True).values  # (n, 1)
    edge = (magnitude > threshold) & (magnitude > MIN_GRADIENT)
    return torch.where(edge, 0, 255).to(torch.uint8).view(len(x), 1, *x.shape[-2:])


# ------------------------------------------------------------------ downscale
def _downscale(x: Tensor, factor: int) -> Tensor:
    """Bicubic down by ``factor`` (antialiased, so detail is lost, not aliased), back up to size."""
    h, w = x.shape[-2:]
    small = F.interpolate(x.float(), size=(h // factor, w // factor), mode="bicubic",
                          antialias=True, align_corners=False)
    up = F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False)
    return up.round_().clamp_(0, 255).to(torch.uint8)


# ------------------------------------------------------------------ mask
def _uniforms(index: Tensor, count: int) -> Tensor:
    """(n, count) float64 uniforms in [0, 1) that depend only on each image's index
    (splitmix64 of index * 16 + slot): the same image gets the same holes in any run."""
    z = index.numpy().astype(np.uint64)[:, None] * np.uint64(16) + np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps, as splitmix64 intends
        z = (z + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return torch.from_numpy((z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53)


def hole_masks(index: Tensor, h: int, w: int) -> Tensor:
    """The ``mask`` recipe's holes for images number ``index`` (n,): bool (n, h, w), True in a hole.

    Each image is cut into 1-3 strips (side by side or stacked) with one hole in each, so
    that holes never overlap and together cover the share drawn for the image."""
    u = _uniforms(index, 3 + 3 * MAX_HOLES)                                        # (n, 12)
    count = 1 + (u[:, 0] * MAX_HOLES).long().clamp(max=MAX_HOLES - 1)              # (n,) 1..3
    cover = HOLE_COVER[0] + (HOLE_COVER[1] - HOLE_COVER[0]) * u[:, 1]              # (n,)
    across_w = u[:, 2] < 0.5                                                       # strips side by side?
    along = torch.where(across_w, w, h).double()[:, None]                          # (n, 1) the cut side
    other = torch.where(across_w, h, w).double()[:, None]
    strip = (along / count[:, None]).floor().clamp(min=1)                          # (n, 1) strip length
    pixels = (cover * h * w / count)[:, None]                                      # (n, 1) per hole
    aspect = 2 ** (2 * u[:, 3:6] - 1)                                              # (n, 3) 0.5..2
    size_a = (pixels * aspect).sqrt().round().clamp(1, None).minimum(strip)        # (n, 3) along the cut side
    size_o = (pixels / size_a).round().clamp(1, None).minimum(other)
    j = torch.arange(MAX_HOLES, dtype=torch.float64)
    start_a = (j * strip + (u[:, 6:9] * (strip - size_a + 1)).floor()).minimum(along - size_a)
    start_o = (u[:, 9:12] * (other - size_o + 1)).floor()
    vertical = across_w[:, None]
    top, left = torch.where(vertical, start_o, start_a), torch.where(vertical, start_a, start_o)
    rh, rw = torch.where(vertical, size_o, size_a), torch.where(vertical, size_a, size_o)
    used = torch.arange(MAX_HOLES) < count[:, None]                                # (n, 3)
    ys, xs = torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64)
    rows = (ys >= top[..., None]) & (ys < (top + rh)[..., None]) & used[..., None]  # (n, 3, h)
    cols = (xs >= left[..., None]) & (xs < (left + rw)[..., None])                  # (n, 3, w)
    return (rows[..., :, None] & cols[..., None, :]).any(1)                         # (n, h, w)


def _mask(x: Tensor, start: int) -> Tensor:
    holes = hole_masks(torch.arange(start, start + len(x)), *x.shape[-2:])
    return x.masked_fill(holes[:, None], HOLE_VALUE)

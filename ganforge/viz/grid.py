"""Pictures of samples with Pillow alone: image grids and 2-D scatter plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganforge import atomic


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) float in [-1, 1] -> (N, H, W, C) uint8."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def image_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> Image.Image:
    """Tile (N, C, H, W) images in [-1, 1] into one picture, `nrow` per row; a single image
    is saved as it is, without a frame, so that it can be used as an image again."""
    x = to_uint8(images)
    n, h, w, c = x.shape
    pad = 0 if n == 1 else pad
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    canvas = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + col * (w + pad): pad + col * (w + pad) + w] = x[i]
    return Image.fromarray(canvas[..., 0] if c == 1 else canvas)


def scatter(points: torch.Tensor, reference: torch.Tensor | None = None, size: int = 512,
            extent: float | None = None) -> Image.Image:
    """Generated points (orange) over reference points (grey) on a white square."""
    pts = points.detach().float().cpu()
    ref = None if reference is None else reference.detach().float().cpu()
    both = pts if ref is None else torch.cat([pts, ref])
    extent = extent or float(both.abs().max().clamp(min=1e-3)) * 1.1
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)

    def pixels(p: torch.Tensor) -> np.ndarray:
        return ((p / extent + 1) * 0.5 * (size - 1)).numpy()

    for data, colour in ((ref, (170, 170, 170)), (pts, (230, 110, 20))):
        if data is None:
            continue
        for x, y in pixels(data[:, :2]):
            draw.ellipse((x - 1.5, size - 1 - y - 1.5, x + 1.5, size - 1 - y + 1.5), fill=colour)
    return img


def save_samples(samples: torch.Tensor, path: str | Path, reference: torch.Tensor | None = None,
                 nrow: int | None = None, record: dict | None = None) -> Path:
    """A grid PNG for images (N, C, H, W), a scatter PNG for points (N, 2); `record`, a
    provenance record (ganforge.provenance), goes into its text chunks."""
    from ganforge.provenance import png_info

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = scatter(samples, reference) if samples.dim() == 2 else image_grid(samples, nrow)
    return atomic.write(path, lambda f: picture.save(f, format="PNG", pnginfo=png_info(record)))

"""Serving an image dataset at another size or channel count, once, at load time."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution
from ganforge.resolution import size as image_size

CHUNK = 2048  # images resized per call: bounds the float copy to a few hundred MB
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as Pillow's RGB -> L


def cover(h: int, w: int, out_h: int, out_w: int) -> tuple[int, int]:
    """The size (h', w') that keeps h:w and just covers out_h x out_w (then centre-cropped)."""
    scale = max(out_h / h, out_w / w)
    return max(out_h, round(h * scale)), max(out_w, round(w * scale))


def resize_images(x: torch.Tensor, resolution: Resolution) -> torch.Tensor:
    """Scale to cover ``resolution`` (a side or (h, w)) keeping the aspect ratio (antialiased
    bilinear), then centre-crop to it.

    ``x`` is uint8 ``(N, C, H, W)``; returns uint8 ``(N, C, out_h, out_w)``.
    """
    out_h, out_w = image_size(resolution)
    size = cover(*x.shape[-2:], out_h, out_w)
    top, left = (size[0] - out_h) // 2, (size[1] - out_w) // 2
    out = torch.empty(len(x), x.shape[1], out_h, out_w, dtype=torch.uint8)
    for i in range(0, len(x), CHUNK):
        chunk = F.interpolate(x[i:i + CHUNK].float(), size=size, mode="bilinear",
                              antialias=True, align_corners=False)
        chunk = chunk[..., top:top + out_h, left:left + out_w]
        out[i:i + CHUNK] = chunk.round().clamp(0, 255).to(torch.uint8)
    return out


def convert_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey -> RGB by repetition, RGB -> grey by luminance; uint8 ``(N, C, H, W)``."""
    if x.shape[1] == channels:
        return x
    if channels == 3 and x.shape[1] == 1:
        return x.repeat(1, 3, 1, 1)
    if channels == 1 and x.shape[1] == 3:
        weights = torch.tensor(LUMA).view(1, 3, 1, 1)
        return (x.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    raise GanforgeError(f"cannot convert {x.shape[1]}-channel images to {channels} channels "
                         "(expected 1 or 3)")


def fit_images(x: torch.Tensor, resolution: Resolution | None, channels: int | None) -> torch.Tensor:
    """Apply the requested resolution (None, a side or (h, w)) and channel count where they
    differ from ``x``'s."""
    hw = image_size(resolution)
    if channels == 1:
        x = convert_channels(x, 1)  # before resizing: a third of the work
    if hw is not None and tuple(x.shape[-2:]) != hw:
        x = resize_images(x, hw)
    if channels is not None:
        x = convert_channels(x, channels)  # after resizing: grey -> RGB triples the pixels
    # channels-last (a folder's cache, maybe memory-mapped and larger than memory) stays as it is
    return x if x.is_contiguous(memory_format=torch.channels_last) else x.contiguous()

"""Serving an image dataset at another size or channel count, once, at load time."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError

CHUNK = 2048  # images resized per call: bounds the float copy to a few hundred MB
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as Pillow's RGB -> L


def resize_images(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Scale the shorter side to ``resolution`` (antialiased bilinear), centre-crop a square.

    ``x`` is uint8 ``(N, C, H, W)``; returns uint8 ``(N, C, resolution, resolution)``.
    """
    h, w = x.shape[-2:]
    scale = resolution / min(h, w)
    size = (max(resolution, round(h * scale)), max(resolution, round(w * scale)))
    top, left = (size[0] - resolution) // 2, (size[1] - resolution) // 2
    out = torch.empty(len(x), x.shape[1], resolution, resolution, dtype=torch.uint8)
    for i in range(0, len(x), CHUNK):
        chunk = F.interpolate(x[i:i + CHUNK].float(), size=size, mode="bilinear",
                              antialias=True, align_corners=False)
        chunk = chunk[..., top:top + resolution, left:left + resolution]
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


def fit_images(x: torch.Tensor, resolution: int | None, channels: int | None) -> torch.Tensor:
    """Apply the requested resolution and channel count where they differ from ``x``'s."""
    if channels == 1:
        x = convert_channels(x, 1)  # before resizing: a third of the work
    if resolution is not None and tuple(x.shape[-2:]) != (resolution, resolution):
        x = resize_images(x, resolution)
    if channels is not None:
        x = convert_channels(x, channels)  # after resizing: grey -> RGB triples the pixels
    return x.contiguous()

"""CycleGAN's two generators as one module (Zhu et al. 2017): G: A -> B as `a2b`, F: B -> A
as `b2a`, both resnet_translator.Generator. One module means one optimiser, one EMA and
one export hold both directions, and the loop sees a single generator.
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models import resnet_translator


class Generator(nn.Module):
    """forward(x, "a2b"): A images (B, in_channels, H, W) -> B images (B, channels_b, H, W);
    forward(x, "b2a"): back. Outputs in [-1, 1]."""

    kind = "translator"
    directions = ("a2b", "b2a")
    multiple = resnet_translator.MULTIPLE

    def __init__(self, in_channels: int, channels: int, resolution: int | list[int], width: int = 64,
                 blocks: int | None = None, norm: str = "instance", channels_b: int | None = None):
        super().__init__()
        out = channels if channels_b is None else channels_b      # domain B's channels
        self.a2b = resnet_translator.Generator(in_channels, out, resolution, width, blocks, norm)
        self.b2a = resnet_translator.Generator(out, in_channels, resolution, width, blocks, norm)
        self.in_channels, self.channels = in_channels, out
        self.image_size, self.resolution = self.a2b.image_size, self.a2b.resolution
        self.hparams = dict(in_channels=in_channels, channels=channels, resolution=self.resolution, width=width,
                            blocks=blocks, norm=norm, channels_b=channels_b)

    def forward(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        if direction not in self.directions:
            raise ValueError(f"unknown direction {direction!r} (expected 'a2b' or 'b2a')")
        return self.a2b(x) if direction == "a2b" else self.b2a(x)

"""pix2pix's U-Net generator (Isola et al. 2017; the unet_256 of pytorch-CycleGAN-and-pix2pix).

Encoder: `depth` 4x4 stride-2 convolutions, widths w, 2w, 4w, 8w, 8w, ... (capped at 8w),
LeakyReLU(0.2) before each but the first, norm after each but the first and the innermost
(the bottleneck may be 1x1, where a norm has nothing to normalise). Decoder: the mirror,
ReLU + 4x4 stride-2 ConvTranspose + norm, each block seeing its encoder twin's output
concatenated to the block below's (the skips carry the detail the bottleneck cannot).
Dropout in the three innermost decoder blocks is the paper's noise z (its CD512 x 3; the
reference code starts it one block further out). The outermost block ends in tanh.
Fully convolutional: any input whose sides are multiples of `multiple` = 2**depth.
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models.layers import check_multiple, dcgan_init, norm2d
from ganforge.resolution import describe, hparam
from ganforge.resolution import size as image_size

MAX_DEPTH = 8       # unet_256: 256 px down to a 1x1 bottleneck
MAX_MULT = 8        # widths stop growing at 8w
DROPOUT_BLOCKS = 3  # innermost decoder blocks with dropout


def default_depth(hw: tuple[int, int]) -> int:
    """The most halvings (<= MAX_DEPTH) that keep both sides integral: 256 -> 8, 32 -> 5, 28 -> 2."""
    h, w, d = hw[0], hw[1], 0
    while d < MAX_DEPTH and h % 2 == 0 and w % 2 == 0:
        h, w, d = h // 2, w // 2, d + 1
    return d


class Generator(nn.Module):
    """x (B, in_channels, H, W) -> y (B, channels, H, W) in [-1, 1]."""

    kind = "translator"

    def __init__(self, in_channels: int, channels: int, resolution: int | list[int], width: int = 64,
                 depth: int | None = None, norm: str = "batch", dropout: float = 0.5):
        super().__init__()
        self.image_size = image_size(resolution)
        self.resolution = hparam(self.image_size)  # an int, or [h, w]: JSON as it is
        self.hparams = dict(in_channels=in_channels, channels=channels, resolution=self.resolution, width=width,
                            depth=depth, norm=norm, dropout=dropout)
        self.in_channels, self.channels = in_channels, channels
        self.depth = default_depth(self.image_size) if depth is None else depth
        if self.depth < 1 or self.image_size[0] % 2 ** self.depth or self.image_size[1] % 2 ** self.depth:
            raise ValueError(f"unet cannot translate {describe(self.image_size)} images at depth "
                             f"{self.depth}: both sides must be multiples of 2**depth, depth >= 1")
        self.multiple = 2 ** self.depth
        d, e = self.depth, [width * min(2 ** i, MAX_MULT) for i in range(self.depth)]  # encoder widths
        self.down = nn.ModuleList([nn.Conv2d(in_channels, e[0], 4, 2, 1)])  # the image: no activation before
        for i in range(1, d):
            normed = i < d - 1
            self.down.append(nn.Sequential(
                nn.LeakyReLU(0.2), nn.Conv2d(e[i - 1], e[i], 4, 2, 1, bias=not normed or norm != "batch"),
                norm2d(norm if normed else "none", e[i])))
        # up[i] mirrors down[i]: it sees up[i + 1]'s output next to down[i]'s (not the innermost)
        self.up = nn.ModuleList()
        for i in range(d):
            cin = e[i] * (1 if i == d - 1 else 2)
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, channels, 4, 2, 1), nn.Tanh()))
                continue
            noisy = i >= d - DROPOUT_BLOCKS and dropout > 0
            self.up.append(nn.Sequential(
                nn.ReLU(), nn.ConvTranspose2d(cin, e[i - 1], 4, 2, 1, bias=norm != "batch"), norm2d(norm, e[i - 1]),
                *([nn.Dropout(dropout)] if noisy else [])))
        dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_multiple("unet", tuple(x.shape[-2:]), self.multiple, f"inputs (depth {self.depth})")
        skips = []
        for block in self.down:                                  # (B, e[i], H / 2^(i+1), W / 2^(i+1))
            x = block(x)
            skips.append(x)
        y = self.up[-1](skips.pop())                             # the bottleneck, no skip
        for block in reversed(self.up[:-1]):
            y = block(torch.cat([skips.pop(), y], dim=1))        # (B, 2 e[i], ...) -> twice the side
        return y                                                 # (B, channels, H, W) in [-1, 1]

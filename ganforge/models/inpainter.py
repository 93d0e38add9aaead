"""The repair game's generator (inpainting): the image with its hole greyed out and the mask
in, the whole image out: x (B, channels + 1, H, W) -> y (B, channels, H, W), both in [-1, 1].

Encoder, dilated residual blocks, resize-convolution decoder, as the inpainting networks of
Iizuka et al. 2017 and DeepFill (Yu et al. 2018) are built:
  conv 5x5 (w) - conv 3x3 stride 2 (2w) - conv 3x3 stride 2 (4w)          (H/4, W/4)
  residual blocks at 4w, dilations 1, 2, 4, 8, 1, 2, ...: the receptive field grows fast,
    so a pixel in the middle of a hole sees the known pixels around it
  nearest x2 + conv 3x3 (2w) - nearest x2 + conv 3x3 (w) - conv 3x3 to the channels, tanh
No normalisation (a batch's statistics would mix the holes of different images; DeepFill has
none either), LeakyReLU 0.2; the blocks' last convolutions start small (ESRGAN's 0.1 scale).
Resize-convolutions, not transposed ones: no checkerboard in the filled region.
Fully convolutional: any size that is a multiple of `multiple` (4); the pipeline pads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DILATIONS = (1, 2, 4, 8)


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride, padding=dilation * (k // 2), dilation=dilation)


class DilatedBlock(nn.Module):
    """x + conv(lrelu(conv_dilated(x))): (B, c, h, w) -> the same."""

    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.body = nn.Sequential(_conv(width, width, dilation=dilation), nn.LeakyReLU(0.2, inplace=True),
                                  _conv(width, width))
        with torch.no_grad():
            self.body[2].weight.mul_(0.1)
            self.body[2].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Up(nn.Module):
    """Nearest-neighbour x2, then a 3x3 convolution and LeakyReLU: (B, cin, h, w) -> (B, cout, 2h, 2w)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _conv(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv(F.interpolate(x, scale_factor=2, mode="nearest")), 0.2)


class Generator(nn.Module):
    """Holed images and their masks (B, channels + 1, H, W) -> repaired images (B, channels, H, W)."""

    kind = "inpainter"
    multiple = 4  # two stride-2 convolutions

    def __init__(self, channels: int = 3, resolution: int | list[int] = 64, width: int = 32, blocks: int = 4):
        super().__init__()
        self.hparams = dict(channels=channels, resolution=resolution, width=width, blocks=blocks)
        self.channels, self.in_channels = channels, channels + 1
        self.resolution = resolution
        self.image_size = tuple(resolution) if isinstance(resolution, list) else (resolution, resolution)
        act = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        self.encoder = nn.Sequential(_conv(channels + 1, width, 5), act(), _conv(width, 2 * width, stride=2), act(),
                                     _conv(2 * width, 4 * width, stride=2), act())
        self.blocks = nn.Sequential(*(DilatedBlock(4 * width, DILATIONS[i % len(DILATIONS)]) for i in range(blocks)))
        self.decoder = nn.Sequential(Up(4 * width, 2 * width), Up(2 * width, width), _conv(width, channels), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)                 # (B, 4w, H/4, W/4)
        return self.decoder(self.blocks(h))  # (B, C, H, W)


def holed_input(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """What G sees: images (B, C, H, W) in [-1, 1] with the hole set to 0 (mid grey), beside
    the mask (B, 1, H, W), 1 in the hole: (B, C + 1, H, W)."""
    return torch.cat([x * (1 - mask), mask], dim=1)

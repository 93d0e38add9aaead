"""SRResNet / ESRGAN's generator, small: x (B, C, h, w) -> y (B, C, h * scale, w * scale).

conv 3x3 -> residual blocks (conv, LeakyReLU 0.2, conv; no batch norm, as ESRGAN: it brings
artefacts and costs at test time what it saves in training) -> conv + the long skip ->
sub-pixel upsampling (conv to 4w, PixelShuffle x2, LeakyReLU; once for x2, twice for x4,
one x3 shuffle for x3) -> conv, LeakyReLU, conv to the output channels. The output is added
to the bicubic upsampling of the input, so the network learns only the missing detail (as
VDSR's global residual): it starts as exactly bicubic, and a few minutes of CPU training beat it.
Fully convolutional: any input size; `context` is the half-width of its receptive field in
input pixels, the margin a tile needs for the tiled result to equal the untiled one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCALES = (2, 3, 4)


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1)


class ResidualBlock(nn.Module):
    """x + conv(lrelu(conv(x))): (B, w, h, w') -> the same."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(_conv(width, width), nn.LeakyReLU(0.2, inplace=True), _conv(width, width))
        with torch.no_grad():  # small residuals at the start (ESRGAN's 0.1-scaled init): deep stacks train stably
            self.body[2].weight.mul_(0.1)
            self.body[2].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _upsampler(width: int, scale: int) -> list[nn.Module]:
    steps = [3] if scale == 3 else [2] * (scale // 2)
    layers: list[nn.Module] = []
    for s in steps:
        layers += [nn.Conv2d(width, width * s * s, 3, padding=1), nn.PixelShuffle(s), nn.LeakyReLU(0.2, inplace=True)]
    return layers


class Generator(nn.Module):
    """Low-resolution images (B, channels, h, w) in [-1, 1] -> (B, channels, h*scale, w*scale)."""

    kind = "upscaler"
    multiple = 1  # any size

    def __init__(self, channels: int = 3, scale: int = 4, width: int = 32, blocks: int = 6):
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"srresnet upscales by {', '.join(map(str, SCALES))}, not {scale}")
        self.hparams = dict(channels=channels, scale=scale, width=width, blocks=blocks)
        self.channels = self.in_channels = channels
        self.scale = scale
        self.head = _conv(channels, width)
        self.body = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)), _conv(width, width))
        self.up = nn.Sequential(*_upsampler(width, scale))
        self.tail = nn.Sequential(_conv(width, width), nn.LeakyReLU(0.2, inplace=True), _conv(width, channels))
        with torch.no_grad():  # the last convolution starts at zero: G starts as bicubic upsampling
            self.tail[2].weight.zero_()
            self.tail[2].bias.zero_()
        # input pixels each output pixel depends on, each side: head, 2 per block, body's last,
        # the upsampling and tail convolutions (at most 1 + 2 input px), bicubic's 2 px
        self.context = 1 + 2 * blocks + 1 + 3 + 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x)                                      # (B, w, h, w')
        feat = feat + self.body(feat)                            # the long skip
        detail = self.tail(self.up(feat))                        # (B, C, h*s, w'*s)
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + detail

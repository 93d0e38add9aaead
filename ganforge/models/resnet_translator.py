"""CycleGAN's ResNet-block generator (Johnson et al. 2016 as Zhu et al. 2017 use it;
pytorch-CycleGAN-and-pix2pix's ResnetGenerator).

c7s1-w, d2w, d4w, R4w x blocks, u2w, uw, c7s1-channels: a 7x7 convolution after a
reflection pad of 3, two 3x3 stride-2 downsamplings, residual blocks at a quarter of the
side, two 3x3 stride-2 ConvTranspose upsamplings (output_padding=1 doubles exactly), a
7x7 convolution to the output and tanh. Reflection padding instead of zeros keeps the
borders free of artefacts. No dropout (CycleGAN trains without it). Fully convolutional:
any input whose sides are multiples of 4.
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models.layers import check_multiple, dcgan_init, norm2d
from ganforge.resolution import hparam
from ganforge.resolution import size as image_size

MULTIPLE = 4  # two halvings
MIN_SIZE = 2 * MULTIPLE  # the residual blocks' reflection pads need maps of at least 2 px


def default_blocks(hw: tuple[int, int]) -> int:
    """6 residual blocks up to 128 px, 9 above (the paper's choice)."""
    return 6 if max(hw) <= 128 else 9


def _conv(cin: int, cout: int, norm: str, kernel: int, stride: int = 1, padding: int = 0) -> list[nn.Module]:
    # a bias only where no BatchNorm follows (its shift would be one)
    return [nn.Conv2d(cin, cout, kernel, stride, padding, bias=norm != "batch"), norm2d(norm, cout)]


class ResidualBlock(nn.Module):
    """x + (pad, 3x3 conv, norm, ReLU, pad, 3x3 conv, norm)(x); (B, C, h, w) -> (B, C, h, w)."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), *_conv(channels, channels, norm, 3), nn.ReLU(),
                                  nn.ReflectionPad2d(1), *_conv(channels, channels, norm, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    """x (B, in_channels, H, W) -> y (B, channels, H, W) in [-1, 1]."""

    kind = "translator"
    multiple = MULTIPLE
    min_size = MIN_SIZE  # the smallest side it takes (the translate pipeline pads smaller images up to it)

    def __init__(self, in_channels: int, channels: int, resolution: int | list[int], width: int = 64,
                 blocks: int | None = None, norm: str = "instance"):
        super().__init__()
        self.image_size = image_size(resolution)
        self.resolution = hparam(self.image_size)  # an int, or [h, w]: JSON as it is
        self.hparams = dict(in_channels=in_channels, channels=channels, resolution=self.resolution, width=width,
                            blocks=blocks, norm=norm)
        check_multiple("resnet-translator", self.image_size, MULTIPLE)
        self.in_channels, self.channels = in_channels, channels
        self.blocks = default_blocks(self.image_size) if blocks is None else blocks
        w = width
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), *_conv(in_channels, w, norm, 7), nn.ReLU(),                  # (B, w, H, W)
            *_conv(w, 2 * w, norm, 3, 2, 1), nn.ReLU(),                                          # (B, 2w, H/2, W/2)
            *_conv(2 * w, 4 * w, norm, 3, 2, 1), nn.ReLU(),                                      # (B, 4w, H/4, W/4)
            *(ResidualBlock(4 * w, norm) for _ in range(self.blocks)),
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1, bias=norm != "batch"),
            norm2d(norm, 2 * w), nn.ReLU(),                                                      # (B, 2w, H/2, W/2)
            nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1, bias=norm != "batch"),
            norm2d(norm, w), nn.ReLU(),                                                          # (B, w, H, W)
            nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh())
        dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_multiple("resnet-translator", tuple(x.shape[-2:]), MULTIPLE, "inputs")
        return self.net(x)                                       # (B, channels, H, W) in [-1, 1]

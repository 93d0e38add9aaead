"""The PatchGAN discriminator (Isola et al. 2017; pytorch-CycleGAN-and-pix2pix's NLayerDiscriminator).

C64 (no norm) - C128 - C256, 4x4 stride 2, then C512 stride 1 and a 1-channel 4x4 conv
stride 1 (padding 1 throughout, LeakyReLU 0.2, widths capped at 8w): one logit per
overlapping patch, 70x70 pixels at layers=3. It judges texture and leaves the global
structure to the L1 / cycle losses, and is fully convolutional: a 32x32 input gives a
2x2 patch map, 256x256 a 30x30 one. pix2pix's D sees the input image beside the output
(`cond_channels`). Under spectral norm (Miyato et al. 2018) the norm layers are left out.
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models.layers import dcgan_init, maybe_spectral_norm, norm2d

MAX_MULT = 8  # widths stop growing at 8w


def receptive_field(convs: list[nn.Conv2d]) -> int:
    """Side of the input window one output of a stack of convolutions sees."""
    field, jump = 1, 1  # jump: input pixels between neighbouring outputs of the current layer
    for conv in convs:
        field += (conv.kernel_size[0] - 1) * jump * conv.dilation[0]
        jump *= conv.stride[0]
    return field


class Discriminator(nn.Module):
    """x (B, channels, H, W) [+ c (B, cond_channels, H, W)] -> patch logits (B, 1, h, w)."""

    c_dim = 0  # no class labels: a conditional PatchGAN is conditioned on an image

    def __init__(self, channels: int, cond_channels: int = 0, width: int = 64, layers: int = 3,
                 norm: str = "batch", spectral_norm: bool = False):
        super().__init__()
        self.hparams = dict(channels=channels, cond_channels=cond_channels, width=width, layers=layers,
                            norm=norm, spectral_norm=spectral_norm)
        if layers < 1:
            raise ValueError(f"a PatchGAN needs layers >= 1, got {layers}")
        self.channels, self.cond_channels = channels, cond_channels
        norm2d(norm, 1)  # an unknown norm fails here, with or without spectral norm
        norm = "none" if spectral_norm else norm
        widths = [width * min(2 ** i, MAX_MULT) for i in range(layers + 1)]  # w, 2w, 4w, 8w at layers=3
        cin = [channels + cond_channels] + widths[:-1]
        net: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(cin, widths)):
            normed = i > 0
            net += [nn.Conv2d(a, b, 4, 2 if i < layers else 1, 1, bias=not normed or norm != "batch"),
                    *([norm2d(norm, b)] if normed else []), nn.LeakyReLU(0.2)]
        net.append(nn.Conv2d(widths[-1], 1, 4, 1, 1))             # one logit per patch
        self.net = nn.Sequential(*net)
        self.receptive_field = receptive_field([m for m in net if isinstance(m, nn.Conv2d)])
        dcgan_init(self)
        # after the init: under spectral norm `weight` is derived from `...original`
        for m in net:
            if isinstance(m, nn.Conv2d):
                maybe_spectral_norm(m, spectral_norm)             # in place; same state_dict keys

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_channels == 0:
            if c is not None:
                raise ValueError("this PatchGAN is unconditional (cond_channels=0): pass c=None")
            return self.net(x)
        want = (x.shape[0], self.cond_channels, *x.shape[2:])
        if c is None or tuple(c.shape) != want:
            got = "none" if c is None else tuple(c.shape)
            raise ValueError(f"this PatchGAN is conditioned on an image: pass c of shape {want}, got {got}")
        return self.net(torch.cat([c, x], dim=1))                # condition first, as pix2pix's cat(A, B)

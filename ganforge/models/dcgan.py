"""DCGAN (Radford et al. 2016): transposed convolutions with BatchNorm in G, strided
convolutions with LeakyReLU in D. G starts from a small base map and doubles it k times:
sides base * 2^k with the shorter base 3 to 7 (8, 16, 28, 32, 64, 128, 256, 64x48 ...;
see layers.plan). D halves the image k times back to the base map.
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models.layers import (
    DiscriminatorHead,
    apply_layers,
    concat_label_planes,
    dcgan_init,
    input_label_dim,
    checked_plan,
    generator_norm,
    maybe_spectral_norm,
    one_hot,
)
from ganforge.resolution import size as image_size

MAX_CHANNELS = 512


def _channels(width: int, k: int) -> list[int]:
    """Feature-map widths from the base map up to the last hidden map: w*2^(k-1) ... w."""
    return [min(width * 2 ** (k - 1 - i), MAX_CHANNELS) for i in range(k)]


class Generator(nn.Module):
    """`g_conditioning` (conditional G only): "concat" puts the one-hot label beside z at the
    input; "batchnorm" gives every BatchNorm a per-class scale and shift (ClassBatchNorm2d)."""

    def __init__(self, z_dim: int = 64, resolution: int | list[int] = 32, channels: int = 1, width: int = 64,
                 c_dim: int = 0, g_conditioning: str = "concat"):
        super().__init__()
        self.hparams = dict(z_dim=z_dim, resolution=resolution, channels=channels, width=width, c_dim=c_dim)
        if g_conditioning != "concat":  # (absent from older exports, which all concatenate)
            self.hparams["g_conditioning"] = g_conditioning
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, c_dim, resolution, channels
        self.label_in = c_dim if g_conditioning == "concat" else 0  # one-hot entries beside z
        self.image_size = image_size(resolution)
        bh, bw, k = checked_plan("dcgan", resolution)
        ch = _channels(width, k)
        norm = lambda n: generator_norm(n, c_dim, g_conditioning)  # noqa: E731
        # z -> (B, ch[0], bh, bw) by a transposed convolution over a 1x1 map
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim + self.label_in, ch[0], (bh, bw), 1, 0, bias=False),
                                   norm(ch[0]), nn.ReLU(True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), norm(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ch[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        onehot = one_hot(c, self.c_dim, z.shape[0])  # (checks c is given to a conditional G)
        h = torch.cat([z, onehot], dim=1) if self.label_in else z
        return apply_layers(self.net, h[:, :, None, None], c)  # (B, C, H, W) in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, resolution: int | list[int] = 32, channels: int = 1, width: int = 64, c_dim: int = 0,
                 spectral_norm: bool = False, batchnorm: bool = True, conditioning: str = "concat"):
        super().__init__()
        self.hparams = dict(resolution=resolution, channels=channels, width=width, c_dim=c_dim,
                            spectral_norm=spectral_norm, batchnorm=batchnorm, conditioning=conditioning)
        self.c_dim, self.resolution, self.channels = c_dim, resolution, channels
        self.label_planes = input_label_dim(c_dim, conditioning)
        self.image_size = image_size(resolution)
        bh, bw, k = checked_plan("dcgan", resolution)
        ch = _channels(width, k)[::-1]  # w ... w*2^(k-1)
        # a cGAN-style D sees the one-hot label as c_dim constant input planes
        layers: list[nn.Module] = [nn.Conv2d(channels + self.label_planes, ch[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers.append(nn.Conv2d(a, b, 4, 2, 1, bias=not batchnorm))
            layers += [nn.BatchNorm2d(b)] if batchnorm else []
            layers.append(nn.LeakyReLU(0.2, True))
        self.net = nn.Sequential(*layers)   # (B, ch[-1], bh, bw)
        # the classic last layer, a bh x bw convolution to one channel, is a linear map
        # of the flattened features: as a head it also serves projection and ACGAN
        self.head = DiscriminatorHead(ch[-1] * bh * bw, c_dim, conditioning)
        dcgan_init(self)
        # spectral norm goes on after the init: under it `weight` is computed from
        # `parametrizations.weight.original`, and initialising it in place would change nothing
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                maybe_spectral_norm(m, spectral_norm)  # registers in place; same state_dict keys

    def forward_with_classes(self, x: torch.Tensor, c: torch.Tensor | None = None):
        """(logits (B,), class logits (B, c_dim) for ACGAN else None)."""
        if self.label_planes:
            x = concat_label_planes(x, c, self.c_dim)
        return self.head(self.net(x).flatten(1), c)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_with_classes(x, c)[0]  # (B,) logits

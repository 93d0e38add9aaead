"""The classic fully connected GAN for flat images (Goodfellow et al. 2014; PyTorch-GAN gan.py).

G: z -> width -> 2w -> 4w -> 8w (128-256-512-1024 by default) -> C*H*W, tanh.
D: C*H*W -> 4w -> 2w -> 1 (512-256-1), LeakyReLU(0.2), logits (no sigmoid: losses work on logits).
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models.layers import (
    DiscriminatorHead,
    input_label_dim,
    maybe_spectral_norm,
    one_hot,
)
from ganforge.resolution import size as image_size


class Generator(nn.Module):
    def __init__(self, z_dim: int = 100, resolution: int | list[int] = 28, channels: int = 1, width: int = 128,
                 c_dim: int = 0):
        super().__init__()
        self.hparams = dict(z_dim=z_dim, resolution=resolution, channels=channels, width=width, c_dim=c_dim)
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, c_dim, resolution, channels
        self.image_size = image_size(resolution)
        w = width
        layers: list[nn.Module] = [nn.Linear(z_dim + c_dim, w), nn.LeakyReLU(0.2)]
        for a, b in [(w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)]:
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b, momentum=0.2), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(8 * w, channels * self.image_size[0] * self.image_size[1]), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        c = one_hot(c, self.c_dim, z.shape[0])
        x = self.net(z if c is None else torch.cat([z, c], dim=1))
        return x.view(-1, self.channels, *self.image_size)  # (B, C, H, W)


class Discriminator(nn.Module):
    def __init__(self, resolution: int | list[int] = 28, channels: int = 1, width: int = 128, c_dim: int = 0,
                 spectral_norm: bool = False, conditioning: str = "concat"):
        super().__init__()
        self.hparams = dict(resolution=resolution, channels=channels, width=width, c_dim=c_dim,
                            spectral_norm=spectral_norm, conditioning=conditioning)
        self.c_dim, self.resolution, self.channels = c_dim, resolution, channels
        self.label_inputs = input_label_dim(c_dim, conditioning)
        self.image_size = image_size(resolution)
        sn, w = spectral_norm, width
        inputs = channels * self.image_size[0] * self.image_size[1] + self.label_inputs  # flattened image [+ label]
        self.net = nn.Sequential(
            maybe_spectral_norm(nn.Linear(inputs, 4 * w), sn), nn.LeakyReLU(0.2),
            maybe_spectral_norm(nn.Linear(4 * w, 2 * w), sn), nn.LeakyReLU(0.2))
        self.head = DiscriminatorHead(2 * w, c_dim, conditioning, sn)

    def forward_with_classes(self, x: torch.Tensor, c: torch.Tensor | None = None):
        """(logits (B,), class logits (B, c_dim) for ACGAN else None)."""
        x = x.flatten(1)
        if self.label_inputs:
            x = torch.cat([x, one_hot(c, self.c_dim, x.shape[0])], dim=1)
        return self.head(self.net(x), c)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_with_classes(x, c)[0]  # (B,) logits

"""MLP generator and discriminator for low-dimensional data (2-D toy distributions)."""

from __future__ import annotations

import torch
from torch import nn

from ganforge.models.layers import maybe_spectral_norm, one_hot


def _mlp(sizes: list[int], act: type[nn.Module], sn: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(maybe_spectral_norm(nn.Linear(a, b), sn))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """z (B, z_dim) [+ class c (B,)] -> points (B, dim). ReLU hidden layers, linear output."""

    def __init__(self, z_dim: int = 2, dim: int = 2, width: int = 128, depth: int = 2, c_dim: int = 0,
                 scale: float = 1.0):
        super().__init__()
        self.hparams = dict(z_dim=z_dim, dim=dim, width=width, depth=depth, c_dim=c_dim, scale=scale)
        self.scale = scale  # the data's spread: the network works in unit-scale coordinates
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, c_dim, 0, dim
        self.net = _mlp([z_dim + c_dim] + [width] * depth + [dim], nn.ReLU)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        c = one_hot(c, self.c_dim, z.shape[0])
        return self.net(z if c is None else torch.cat([z, c], dim=1)) * self.scale


class Discriminator(nn.Module):
    """points (B, dim) [+ class c] -> logits (B,). LeakyReLU hidden layers."""

    def __init__(self, dim: int = 2, width: int = 128, depth: int = 2, c_dim: int = 0,
                 spectral_norm: bool = False, scale: float = 1.0):
        super().__init__()
        self.hparams = dict(dim=dim, width=width, depth=depth, c_dim=c_dim, spectral_norm=spectral_norm,
                            scale=scale)
        self.scale = scale
        self.c_dim, self.resolution, self.channels = c_dim, 0, dim
        self.net = _mlp([dim + c_dim] + [width] * depth + [1], lambda: nn.LeakyReLU(0.2), spectral_norm)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        c = one_hot(c, self.c_dim, x.shape[0])
        x = x / self.scale
        return self.net(x if c is None else torch.cat([x, c], dim=1)).squeeze(1)

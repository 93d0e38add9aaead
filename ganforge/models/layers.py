"""Blocks shared by several model families."""

from __future__ import annotations

import torch
from torch import nn


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap a Linear/Conv layer in spectral normalisation (Miyato et al. 2018) if enabled."""
    return nn.utils.parametrizations.spectral_norm(module) if enabled else module


def one_hot(c: torch.Tensor | None, c_dim: int, batch: int) -> torch.Tensor | None:
    """Class labels (B,) int64 -> (B, c_dim) float; None stays None for unconditional models."""
    if c_dim == 0:
        return None
    if c is None:
        raise ValueError(f"this model is conditional on {c_dim} classes: pass c, int64 of shape ({batch},)")
    return nn.functional.one_hot(c, c_dim).float()


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al. 2016): N(0, 0.02) weights, BatchNorm scale N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

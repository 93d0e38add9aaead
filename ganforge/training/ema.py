"""Exponential moving average of the generator's weights (Karras et al.; stylegan2-ada)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps `self.model`, an averaged copy of `source`. The decay is set by a half-life in
    images, so it means the same at any batch size; it ramps up early in training, when
    old weights are worth little."""

    def __init__(self, source: nn.Module, half_life_images: float, rampup: float = 0.05):
        self.model = copy.deepcopy(source).eval().requires_grad_(False)
        self.half_life, self.rampup = half_life_images, rampup

    def beta(self, images_seen: int, batch_size: int) -> float:
        if self.half_life <= 0:
            return 0.0  # no averaging: the EMA model is a copy of the latest weights
        half_life = self.half_life
        if self.rampup:
            half_life = min(half_life, images_seen * self.rampup)
        return 0.5 ** (batch_size / max(half_life, 1e-8))

    @torch.no_grad()
    def update(self, source: nn.Module, images_seen: int, batch_size: int) -> None:
        beta = self.beta(images_seen, batch_size)
        src, dst = list(source.parameters()), list(self.model.parameters())
        torch._foreach_lerp_(dst, src, 1.0 - beta)  # dst += (1 - beta) * (src - dst)
        for b_src, b_dst in zip(source.buffers(), self.model.buffers()):
            b_dst.copy_(b_src)  # BatchNorm statistics are copied, not averaged

"""What the measures of a domain during training share: when they are due, and that rank 0
measures while every rank gets the result (under torchrun)."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn


class SampledEvaluation:
    """Measured every `every` steps (0: only at the end) and at the end of a run."""

    every: int

    def due(self, step: int, last: bool) -> bool:
        return last or bool(self.every and step % self.every == 0)

    def __call__(self, G: nn.Module, data_info: dict, dist) -> dict[str, float]:
        return dist.broadcast(self._measure(G) if dist.is_main else None)

    def _measure(self, G: nn.Module) -> dict[str, float]:
        raise NotImplementedError

    n: int
    seed: int

    @torch.no_grad()
    def generated(self, G: nn.Module, batch: int, each: Callable[[Tensor], Tensor] = lambda x: x) -> Tensor:
        """`self.n` samples of G in eval mode from z seeded by `self.seed` (the same z at every
        evaluation), in batches, `each` applied to a batch as it comes (e.g. binarising it)."""
        device = next(G.parameters()).device
        g = torch.Generator(device).manual_seed(self.seed + 4)
        was_training = G.training
        G.eval()
        try:
            return torch.cat([each(G(torch.randn(min(batch, self.n - i), G.z_dim, device=device, generator=g)))
                              for i in range(0, self.n, batch)])
        finally:
            G.train(was_training)

    def alarms(self, health, step: int, result: dict[str, float]) -> list:
        return []

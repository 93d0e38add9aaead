"""What the measures of a domain during training share: when they are due, and that rank 0
measures while every rank gets the result (under torchrun)."""

from __future__ import annotations

from torch import nn


class SampledEvaluation:
    """Measured every `every` steps (0: only at the end) and at the end of a run."""

    every: int

    def due(self, step: int, last: bool) -> bool:
        return last or bool(self.every and step % self.every == 0)

    def __call__(self, G: nn.Module, data_info: dict, dist) -> dict[str, float]:
        return dist.broadcast(self._measure(G) if dist.is_main else None)

    def _measure(self, G: nn.Module) -> dict[str, float]:
        raise NotImplementedError

    def alarms(self, health, step: int, result: dict[str, float]) -> list:
        return []

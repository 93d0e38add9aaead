"""The two shapes data takes in ganforge: a decoded in-memory set, or an endless 2-D toy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import torch

# (n, generator) -> float32 (n, 2); used by toys that are not Gaussian mixtures.
Sampler = Callable[[int, torch.Generator], torch.Tensor]


def count_classes(y: torch.Tensor | None, class_names: list[str] | None) -> int:
    """Classes of labels y (N,): as many as named, else the largest label + 1; 0 unlabelled."""
    if y is None:
        return 0
    if class_names:
        return len(class_names)
    return int(y.max()) + 1 if len(y) else 0


@dataclass(eq=False)  # eq=False: comparing tensors field by field is meaningless
class Dataset:
    """A dataset decoded once, in memory (or an image folder's cache, memory-mapped).

    ``x`` is float32 ``(N, D)`` for ``kind="points"`` and uint8 ``(N, C, H, W)`` for
    ``kind="images"`` (contiguous, or channels-last strides: an image folder's); ``y`` holds
    int64 ``(N,)`` class labels or is None.
    """

    name: str                              # "digits", "fashion-mnist" or the path it came from
    kind: str                              # "points" or "images"
    x: torch.Tensor                        # (N, D) float32 or (N, C, H, W) uint8
    y: torch.Tensor | None = None          # (N,) int64 class labels
    class_names: list[str] | None = None   # one per class index, when known

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example: ``(D,)`` for points, ``(C, H, W)`` for images."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes; 0 for an unlabelled dataset."""
        return count_classes(self.y, self.class_names)

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass(eq=False)
class ToyDistribution:
    """A 2-D distribution sampled afresh each batch (the PacGAN/VEEGAN protocol).

    Mixtures carry their mode centres and per-mode std so that mode-coverage metrics can
    score samples against them; other toys (spiral, moons) carry a sampler instead.
    """

    name: str
    modes: torch.Tensor | None         # (M, 2) mode centres of a mixture, None otherwise
    std: float | None                  # per-mode std of a mixture
    sampler: Sampler | None = None     # draws the non-mixture toys

    kind: ClassVar[str] = "points"
    shape: ClassVar[tuple[int, ...]] = (2,)
    num_classes: ClassVar[int] = 0

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` points as float32 ``(n, 2)`` on the generator's device.

        Only ``generator`` is consumed, so the same generator state gives the same samples.
        """
        if self.sampler is not None:
            return self.sampler(n, generator)
        device = generator.device
        modes = self.modes.to(device)
        idx = torch.randint(len(modes), (n,), generator=generator, device=device)
        noise = torch.randn(n, 2, generator=generator, device=device)
        return modes[idx] + self.std * noise  # (n, 2)

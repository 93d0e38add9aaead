"""Which generated samples to keep: all, the ones the GAN's discriminator scores most real,
or the ones the real-data classifier most confidently puts in the class they were asked for.
Each filter keeps the same number per class (the best `keep` share of those generated)."""

from __future__ import annotations

import torch
from torch import nn

from ganforge.augmentation.classifier import probabilities
from ganforge.errors import GanforgeError

FILTERS = ("none", "discriminator", "classifier")


def check(name: str, keep: float) -> None:
    if name not in FILTERS:
        raise GanforgeError(f"--filter {name}: expected one of {', '.join(FILTERS)}")
    if not 0 < keep <= 1:
        raise GanforgeError(f"--keep must be in (0, 1], got {keep}")


@torch.no_grad()
def discriminator_scores(D: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """D's logits (N,) for float images x in [-1, 1] at D's resolution, labels y (N,)."""
    D.eval()
    return torch.cat([D(x[i:i + batch], y[i:i + batch]).flatten().float() for i in range(0, len(x), batch)])


def classifier_scores(model: nn.Module, x_uint8: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The classifier's probability (N,) of the class each sample was generated for."""
    return probabilities(model, x_uint8).gather(1, y[:, None]).squeeze(1)


def keep_best(scores: torch.Tensor, y: torch.Tensor, wanted: list[int]) -> torch.Tensor:
    """Indices of the wanted[c] best-scored samples of each class c."""
    kept = []
    for c, n in enumerate(wanted):
        idx = torch.nonzero(y == c).flatten()
        kept.append(idx[scores[idx].argsort(descending=True)[:n]])
    return torch.cat(kept)

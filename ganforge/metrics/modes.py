"""Mode coverage of a mixture of Gaussians (the PacGAN / VEEGAN protocol, 2,500 samples).

- a sample is high quality if it lies within `threshold` (3) standard deviations of its
  nearest mode;
- a mode is captured if at least one high-quality sample has it as nearest mode;
- reverse KL is KL(generated mode histogram || uniform), the histogram taken over the
  high-quality samples (0 when every mode gets the same share).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganforge.errors import GanforgeError

SAMPLES = 2500  # the protocol's sample count


def mode_coverage(samples: Tensor, modes: Tensor, std: float, threshold: float = 3.0) -> dict[str, float]:
    """samples (N, D), modes (M, D) -> {"modes": captured, "hq_percent": %, "reverse_kl": nats}."""
    if samples.dim() != 2 or modes.dim() != 2 or samples.shape[1] != modes.shape[1]:
        raise GanforgeError(f"mode coverage needs samples (N, D) and modes (M, D) of one width, "
                            f"got {tuple(samples.shape)} and {tuple(modes.shape)}")
    if samples.shape[0] == 0 or modes.shape[0] == 0:
        raise GanforgeError(f"mode coverage needs at least one sample and one mode, "
                            f"got {tuple(samples.shape)} and {tuple(modes.shape)}")
    samples, modes = samples.detach().double().cpu(), modes.detach().double().cpu()
    if not torch.isfinite(samples).all():
        raise GanforgeError("mode coverage: the samples contain NaN or infinity")
    if not torch.isfinite(modes).all():
        raise GanforgeError("mode coverage: the modes contain NaN or infinity")
    dist = torch.cdist(samples, modes)          # (N, M)
    nearest_dist, nearest = dist.min(dim=1)     # (N,), (N,)
    hq = nearest_dist <= threshold * std
    counts = torch.bincount(nearest[hq], minlength=len(modes)).double()
    return {"modes": float((counts > 0).sum()),
            "hq_percent": 100.0 * float(hq.double().mean()),
            "reverse_kl": reverse_kl(counts)}


def reverse_kl(counts: Tensor) -> float:
    """KL(p || uniform) for a histogram of counts over M modes: sum p log(p M)."""
    total = float(counts.sum())
    if total == 0:
        return math.log(len(counts))  # nothing landed near a mode: the worst case, by convention
    p = counts[counts > 0] / total
    return float((p * (p * len(counts)).log()).sum())

"""Mode seeking (MSGAN, Mao et al. 2019): G is asked for outputs that move when z moves.

A collapsed G maps many z to one sample; the ratio of the distance between two samples to the
distance between their latents is then ~0. MSGAN maximises it by minimising its inverse,
added to G's loss with a weight (the paper's 1). Pairs are the two halves of G's batch.
"""

from __future__ import annotations

from torch import Tensor

EPS = 1e-5


def mode_seeking(fake: Tensor, z: Tensor) -> Tensor:
    """1 / (mean |G(z1) - G(z2)| / mean |z1 - z2| + eps) over the batch's two halves (B >= 2)."""
    half = fake.shape[0] // 2
    samples = (fake[:half] - fake[half:2 * half]).abs().flatten(1).mean(1)   # (B/2,)
    latents = (z[:half] - z[half:2 * half]).abs().flatten(1).mean(1)
    return 1 / ((samples / latents).mean() + EPS)

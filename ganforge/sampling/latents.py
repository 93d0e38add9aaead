"""Latent draws: z ~ N(0, I), or the truncation trick's truncated normal (Brock et al. 2019).

BigGAN samples z from a normal whose values above a threshold in magnitude are resampled
until they fall inside it: a smaller threshold trades variety for fidelity. Every draw is
on the CPU from a seeded torch.Generator, so the same seed gives the same z on any device.
"""

from __future__ import annotations

import torch

from ganforge.errors import GanforgeError


def check_truncation(threshold: float) -> float:
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not threshold > 0:
        raise GanforgeError(f"--truncation must be a positive threshold on |z| (e.g. 0.7), got {threshold!r}")
    return float(threshold)


def truncated_normal(n: int, z_dim: int, threshold: float, generator: torch.Generator) -> torch.Tensor:
    """(n, z_dim) standard normal values, each redrawn until |z_i| <= threshold."""
    threshold = check_truncation(threshold)
    z = torch.randn(n, z_dim, generator=generator)
    outside = z.abs() > threshold
    while outside.any():  # P(|z| > t) < 1: finishes; at t = 0.5 about 62 % of values go round again
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = z.abs() > threshold
    return z


def latents(n: int, z_dim: int, generator: torch.Generator, truncation: float | None = None) -> torch.Tensor:
    """z for n samples: N(0, I), or truncated at `truncation` when given."""
    if truncation is None:
        return torch.randn(n, z_dim, generator=generator)
    return truncated_normal(n, z_dim, truncation, generator)


@torch.no_grad()
def run_generator(G, z: torch.Tensor, labels: torch.Tensor | None, batch_size: int = 256) -> torch.Tensor:
    """G(z, c) in batches on G's device -> float samples on the CPU."""
    device = next(G.parameters()).device
    step = max(1, batch_size)
    return torch.cat([G(z[i:i + step].to(device), None if labels is None else labels[i:i + step].to(device))
                      .float().cpu() for i in range(0, len(z), step)])

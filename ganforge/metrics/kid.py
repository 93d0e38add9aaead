"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2, cubic polynomial kernel.

    k(x, y) = (x . y / d + 1)^3
    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2

estimated on `subsets` random subsets of `subset_size` real and fake samples each (drawn
without replacement within a subset, from a seeded generator), reported as the mean and
the standard deviation (ddof = 0, as the reference implementation) over the subsets. Unlike FID it is unbiased:
two samples of one distribution give 0 on average, whatever the sample size.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.metrics.fid import as_features, same_width


def polynomial_kernel(x: Tensor, y: Tensor) -> Tensor:
    """(x . y / d + 1)^3 for x (N, D), y (M, D) -> (N, M)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD^2 of x (m, D) and y (m, D) under the cubic polynomial kernel."""
    m = x.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kid(real_features: Any, fake_features: Any, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> dict[str, float]:
    """KID of real (N, D) and fake (M, D) features, numpy or torch, float64 inside.

    Returns {"kid_mean", "kid_std", "kid_subset_size", "kid_subsets"}; `subset_size` is
    capped at min(N, M) and the size actually used is reported.
    """
    real = as_features(real_features, "real features", "kid", min_rows=2, reason=" (unbiased MMD needs 2)")
    fake = as_features(fake_features, "fake features", "kid", min_rows=2, reason=" (unbiased MMD needs 2)")
    same_width(real, fake, "kid")
    if subsets < 1 or subset_size < 2:
        raise GanforgeError(f"kid: needs subsets >= 1 and subset_size >= 2, got subsets={subsets}, "
                            f"subset_size={subset_size}")
    m = min(subset_size, real.shape[0], fake.shape[0])
    gen = torch.Generator().manual_seed(seed)
    values = torch.empty(subsets, dtype=torch.float64)
    for s in range(subsets):
        x = real[torch.randperm(real.shape[0], generator=gen)[:m]]   # (m, D)
        y = fake[torch.randperm(fake.shape[0], generator=gen)[:m]]   # (m, D)
        values[s] = mmd2_unbiased(x, y)
    return {"kid_mean": float(values.mean()), "kid_std": float(values.std(correction=0)),
            "kid_subset_size": float(m), "kid_subsets": float(subsets)}

"""Fréchet distance between feature distributions (FID when the features are Inception's).

    FD = ||mu1 - mu2||^2 + Tr S1 + Tr S2 - 2 Tr sqrt(S1 S2)

Statistics are accumulated in float64 (sample covariance, n - 1 denominator, as numpy's
`np.cov` and pytorch-fid). Tr sqrt(S1 S2) is the sum of the square roots of the
eigenvalues of S1 S2, all real and >= 0 for covariances. We get them from a *symmetric*
matrix with the same spectrum, so a symmetric eigen-solver gives them exactly:

- S1 = L L^T (Cholesky)          -> eig(S1 S2) = eig(L^T S2 L)
- S1 singular (n <= d, dead units) -> S1 = V diag(w) V^T, R = V diag(sqrt w) V^T,
                                     eig(S1 S2) = eig(R S2 R)

`scipy.linalg.sqrtm` computes a full (complex) matrix square root we never need, and takes
16-90 s at 2048-d on a 2-core CPU; the route here takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import GanforgeError

COV_REASON = " (a covariance needs 2)"
GRAM_BLOCK = 512  # columns per block of the Gram matrix x^T x


def as_features(x: Any, what: str, metric: str, min_rows: int = 1, reason: str = "",
                dtype: torch.dtype = torch.float64) -> Tensor:
    """numpy array or tensor (N, D) -> a float64 (or `dtype`) CPU tensor (N, D), checked.

    `what` names the argument ("real features") and `metric` the caller, for the message;
    `reason` says why `min_rows` are needed (" (k + 1 = 4 for k = 3 neighbours)").
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise GanforgeError(f"{metric}: {what} must be a numpy array or torch tensor (N, D), "
                            f"got {type(x).__name__}")
    if x.dim() != 2:
        raise GanforgeError(f"{metric}: {what} must be a 2-D array (N samples, D features), "
                            f"got shape {tuple(x.shape)}")
    if x.shape[0] < min_rows:
        raise GanforgeError(f"{metric}: {what} need at least {min_rows} samples{reason}, got {x.shape[0]}")
    x = x.detach().to("cpu", dtype)
    # a finite sum proves every entry finite, 15x cheaper than isfinite over 20M entries
    bad = 0 if torch.isfinite(x.sum(dtype=torch.float64)) else int((~torch.isfinite(x)).sum())
    if bad:
        raise GanforgeError(f"{metric}: {what} contain NaN or infinity ({bad} of {x.numel()} values); "
                            f"expected finite features")
    return x


def same_width(a: Tensor, b: Tensor, metric: str) -> None:
    """Real and fake features must come from the same extractor, hence the same width."""
    if a.shape[1] != b.shape[1]:
        raise GanforgeError(f"{metric}: real features have {a.shape[1]} columns but fake features have "
                            f"{b.shape[1]}; both need the same feature width (one extractor)")


class FeatureStats:
    """Streaming mean and covariance of features, float64 sums.

    >>> stats = FeatureStats()
    >>> for batch in batches: stats.update(extractor(batch))   # (B, D) each
    >>> mu, sigma = stats.mean_cov()                            # (D,), (D, D) float64
    """

    def __init__(self) -> None:
        self.n = 0
        self.shift: Tensor | None = None   # (D,) first batch's mean: sums of x - shift keep
        self.sum: Tensor | None = None     # (D,)   float64 precise when features have a large mean
        self.outer: Tensor | None = None   # (D, D) sum of (x - shift)(x - shift)^T, upper triangle

    def update(self, batch: Any) -> FeatureStats:
        """Add a batch of features (B, D), numpy or torch; returns self."""
        return self._add(as_features(batch, "features", "feature statistics"))

    def _add(self, x: Tensor) -> FeatureStats:
        """x (B, D) float64, already checked."""
        if self.shift is None:
            self.shift = x.mean(0)
            self.sum = torch.zeros_like(self.shift)
            self.outer = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64)
        elif x.shape[1] != self.shift.shape[0]:
            raise GanforgeError(f"feature statistics: a batch has {x.shape[1]} features, earlier ones had "
                                f"{self.shift.shape[0]}; every batch needs the same width")
        x = x - self.shift
        self.sum += x.sum(0)
        for i in range(0, x.shape[1], GRAM_BLOCK):  # symmetric: blocks on and above the diagonal only,
            self.outer[i:i + GRAM_BLOCK, i:].addmm_(x[:, i:i + GRAM_BLOCK].T, x[:, i:])  # 30% less CPU at 2048-d
        self.n += x.shape[0]
        return self

    def mean_cov(self) -> tuple[Tensor, Tensor]:
        """(mu (D,), sigma (D, D)) in float64; sigma is the sample covariance (n - 1)."""
        if self.n < 2:
            raise GanforgeError(f"feature statistics: features need at least 2 samples{COV_REASON}, got {self.n}")
        mean_shifted = self.sum / self.n
        outer = torch.triu(self.outer) + torch.triu(self.outer, 1).T  # mirror the upper triangle
        sigma = (outer - self.n * torch.outer(mean_shifted, mean_shifted)) / (self.n - 1)
        return self.shift + mean_shifted, sigma


def feature_statistics(features: Any) -> tuple[Tensor, Tensor]:
    """Features (N, D), numpy or torch -> (mu (D,), sigma (D, D)), float64, N >= 2."""
    x = as_features(features, "features", "feature statistics", min_rows=2, reason=COV_REASON)
    return FeatureStats()._add(x).mean_cov()


def _as_stat(x: Any, what: str, ndim: int) -> Tensor:
    t = torch.from_numpy(np.asarray(x)) if not isinstance(x, Tensor) else x
    t = t.detach().to("cpu", torch.float64)
    if t.dim() != ndim or (ndim == 2 and t.shape[0] != t.shape[1]):
        shape = "(D,)" if ndim == 1 else "(D, D)"
        raise GanforgeError(f"frechet_distance: {what} must have shape {shape}, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise GanforgeError(f"frechet_distance: {what} contains NaN or infinity; expected finite statistics")
    return t


def trace_sqrt_product(sigma1: Tensor, sigma2: Tensor) -> float:
    """Tr sqrt(S1 S2) for symmetric PSD S1, S2 (D, D) float64, via a symmetric eigen-solve."""
    chol, info = torch.linalg.cholesky_ex(sigma1)
    if int(info) == 0:
        m = chol.T @ sigma2 @ chol                  # (D, D), spectrum of S1 S2
    else:                                           # S1 singular: its PSD square root instead
        with _one_thread():
            w, v = torch.linalg.eigh(sigma1)
        root = (v * w.clamp(min=0).sqrt()) @ v.T    # sqrt(S1), (D, D)
        m = root @ sigma2 @ root
    with _one_thread():
        eig = torch.linalg.eigvalsh((m + m.T) / 2)
    return float(eig.clamp(min=0).sqrt().sum())     # clip round-off negatives of a PSD spectrum


@contextmanager
def _one_thread() -> Iterator[None]:
    """Eigen-solvers' tridiagonal reduction syncs its threads once per column: on a busy 2-core
    CPU, two threads took 13-33 s at 2048-d against 2.5 s for one, which never waits on another."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2); numpy or torch, float64 inside.

    ||mu1 - mu2||^2 + Tr sigma1 + Tr sigma2 - 2 Tr sqrt(sigma1 sigma2), clipped at 0
    (round-off can make identical statistics give -1e-12).
    """
    mu1, mu2 = _as_stat(mu1, "mu1", 1), _as_stat(mu2, "mu2", 1)
    sigma1, sigma2 = _as_stat(sigma1, "sigma1", 2), _as_stat(sigma2, "sigma2", 2)
    if not mu1.shape[0] == mu2.shape[0] == sigma1.shape[0] == sigma2.shape[0]:
        raise GanforgeError(f"frechet_distance: statistics of different widths: mu1 {tuple(mu1.shape)}, "
                            f"sigma1 {tuple(sigma1.shape)}, mu2 {tuple(mu2.shape)}, sigma2 {tuple(sigma2.shape)}; "
                            f"expected (D,) and (D, D) for one D")
    diff = float(((mu1 - mu2) ** 2).sum())
    sigma1, sigma2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2
    value = diff + float(sigma1.trace() + sigma2.trace()) - 2 * trace_sqrt_product(sigma1, sigma2)
    return max(value, 0.0)


def fid(real_features: Any, fake_features: Any) -> float:
    """Fréchet distance between the Gaussians fitted to real (N, D) and fake (M, D) features."""
    real = as_features(real_features, "real features", "fid", min_rows=2, reason=COV_REASON)
    fake = as_features(fake_features, "fake features", "fid", min_rows=2, reason=COV_REASON)
    same_width(real, fake, "fid")
    return frechet_distance(*FeatureStats()._add(real).mean_cov(), *FeatureStats()._add(fake).mean_cov())

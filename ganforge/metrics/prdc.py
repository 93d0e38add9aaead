"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020).

Both describe each set by a union of balls: around every sample, the ball reaching its
k-th nearest neighbour in the same set, the sample itself not counted (Naeem et al. say
"the (k+1)-th neighbour counting the sample itself": the same radius).

- precision: share of fake samples inside some real ball (inclusive, d <= r);
- recall:    share of real samples inside some fake ball (inclusive);
- density:   mean over fake samples of (number of real balls holding it) / k (strict, d < r);
- coverage:  share of real samples whose ball holds at least one fake sample (strict).

Distance matrices are never held whole: they come in blocks of ~8M entries (64 MB in
float64) as ||a||^2 + ||b||^2 - 2 a.b, the product on BLAS; within one set only the tiles
on and above the diagonal are computed (5/8 of the products at 10k). All four numbers in
one pass (`prdc`) cost N^2 + M^2 (by halves) + N M; the pairs called apart cost more.
Everything compares squared distances, so no square root blurs the inclusive/strict tests.
The arithmetic is float64: its round-off (~1e-16 relative) lies far below real gaps between
distances, and integer-valued features are exact, boundary ties included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.metrics.fid import as_features, same_width

BLOCK_ENTRIES = 2 ** 23   # entries per block of a distance matrix: 64 MB in float64
DTYPE = torch.float64


def _sq_dists(a: Tensor, b: Tensor, a_sq: Tensor, b_sq: Tensor) -> Tensor:
    """Squared distances (N, M) of a (N, D) to b (M, D), given their squared norms (N,), (M,)."""
    d = torch.addmm(b_sq.unsqueeze(0), a, b.T, alpha=-2)
    return d.add_(a_sq.unsqueeze(1)).clamp_(min=0)  # round-off can dip below 0


def _blocks(a: Tensor, b: Tensor) -> Iterator[tuple[int, Tensor]]:
    """Squared distances of a (N, D) to b (M, D) in row blocks: (start, (rows, M)) each."""
    a_sq, b_sq = (a * a).sum(1), (b * b).sum(1)
    rows = max(1, BLOCK_ENTRIES // b.shape[0])
    for start in range(0, a.shape[0], rows):
        yield start, _sq_dists(a[start:start + rows], b, a_sq[start:start + rows], b_sq)


def knn_radii(x: Tensor, ks: tuple[int, ...]) -> dict[int, Tensor]:
    """Squared distance of each sample of x (N, D) to its k-th nearest neighbour, itself excluded.

    The matrix is symmetric: square tiles on and above the diagonal serve both their rows and
    (transposed) their columns, each merged into a running k-nearest list (10k: 10 tiles of 16).
    """
    n, kk = x.shape[0], max(ks) + 1
    x_sq = (x * x).sum(1)
    best = torch.full((n, kk), torch.inf, dtype=x.dtype)   # ascending, self included (distance 0)
    size = max(1, int(BLOCK_ENTRIES ** 0.5))
    for i in range(0, n, size):
        rows = slice(i, i + size)
        for j in range(i, n, size):
            cols = slice(j, j + size)
            d = _sq_dists(x[rows], x[cols], x_sq[rows], x_sq[cols])  # (size, size)
            if i == j:
                d.fill_diagonal_(0)  # self first, however round-off treated its distance
            best[rows] = _merge(best[rows], d, kk)
            if i != j:
                best[cols] = _merge(best[cols], d.T, kk)
    return {k: best[:, k] for k in ks}  # index k = k-th neighbour past self (index 0)


def _merge(best: Tensor, d: Tensor, kk: int) -> Tensor:
    """The kk smallest per row of a running list (rows, kk) and new distances (rows, m), ascending."""
    return torch.topk(torch.cat([best, d], 1), kk, dim=1, largest=False).values


def _check(real_features: Any, fake_features: Any, metric: str, k_real: int, k_fake: int) -> tuple[Tensor, Tensor]:
    real = as_features(real_features, "real features", metric, min_rows=k_real + 1,
                       reason=f" (k + 1 = {k_real + 1} for k = {k_real} neighbours besides the sample itself)",
                       dtype=DTYPE)
    fake_reason = (f" (k + 1 = {k_fake + 1} for k = {k_fake} neighbours besides the sample itself)"
                   if k_fake else "")
    fake = as_features(fake_features, "fake features", metric, min_rows=k_fake + 1, reason=fake_reason,
                       dtype=DTYPE)
    same_width(real, fake, metric)
    return real, fake  # not centred: a shift by a fractional mean would break the exact ties of integer data


def prdc(real_features: Any, fake_features: Any, k_pr: int = 3, k_dc: int = 5) -> dict[str, float]:
    """Precision, recall (k = k_pr) and density, coverage (k = k_dc) in one pass over the distances.

    real (N, D), fake (M, D), numpy or torch. Cheaper than precision_recall + density_coverage,
    which compute the real-real and real-fake distances twice. k_pr = 0 or k_dc = 0 skips that pair.
    """
    metric = "prdc" if k_pr and k_dc else ("precision_recall" if k_pr else "density_coverage")
    for k in (k_pr, k_dc):
        if isinstance(k, bool) or not isinstance(k, int) or k < 0 or not (k_pr or k_dc):
            raise GanforgeError(f"{metric}: k_pr and k_dc must be integers >= 0, not both 0, "
                                f"got k_pr={k_pr!r}, k_dc={k_dc!r}")
    real, fake = _check(real_features, fake_features, metric, max(k_pr, k_dc), k_pr)
    ks = tuple(k for k in (k_pr, k_dc) if k)
    real_r = knn_radii(real, ks)                                           # k -> (N,)
    fake_r = knn_radii(fake, (k_pr,))[k_pr] if k_pr else None              # (M,)
    in_real_ball = torch.zeros(fake.shape[0], dtype=torch.bool)            # precision, per fake
    in_fake_ball = torch.zeros(real.shape[0], dtype=torch.bool)            # recall, per real
    balls_holding = torch.zeros(fake.shape[0], dtype=torch.float64)        # density, per fake
    nearest_fake = torch.full((real.shape[0],), torch.inf, dtype=DTYPE)    # coverage, per real
    for start, d in _blocks(fake, real):                                   # d (rows, N): fake x real
        rows = slice(start, start + d.shape[0])
        if k_pr:
            in_real_ball[rows] = (d <= real_r[k_pr]).any(1)
            in_fake_ball |= (d <= fake_r[rows].unsqueeze(1)).any(0)
        if k_dc:
            balls_holding[rows] = (d < real_r[k_dc]).sum(1).double()
            nearest_fake = torch.minimum(nearest_fake, d.min(0).values)
    out = {}
    if k_pr:
        out |= {"precision": float(in_real_ball.double().mean()), "recall": float(in_fake_ball.double().mean())}
    if k_dc:
        out |= {"density": float(balls_holding.mean() / k_dc),
                "coverage": float((nearest_fake < real_r[k_dc]).double().mean())}
    return out


def precision_recall(real: Any, fake: Any, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of real (N, D) and fake (M, D).

    Radius: distance to the k-th nearest neighbour within the same set, self excluded;
    a sample counts when within some ball, boundary included. Needs N, M >= k + 1.
    Returns {"precision", "recall"}.
    """
    _positive_k(k, "precision_recall")
    return prdc(real, fake, k_pr=k, k_dc=0)


def density_coverage(real: Any, fake: Any, k: int = 5) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020) of real (N, D) and fake (M, D) features.

    Radius: distance to the (k+1)-th nearest real neighbour counting the sample itself;
    strict test (d < r). Needs N >= k + 1. Returns {"density", "coverage"}.
    """
    _positive_k(k, "density_coverage")
    return prdc(real, fake, k_pr=0, k_dc=k)


def _positive_k(k: Any, metric: str) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise GanforgeError(f"{metric}: k must be a positive integer (neighbours per ball), got {k!r}")

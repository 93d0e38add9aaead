"""Metric mathematics against independent truth: closed forms, scipy, brute-force loops."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import scipy.linalg
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import (
    FeatureStats,
    density_coverage,
    feature_statistics,
    fid,
    frechet_distance,
    get_metric,
    inception_score,
    kid,
    prdc,
    precision_recall,
)
from ganforge.metrics.kid import mmd2_unbiased
from ganforge.metrics.registry import compute

# the package exports functions named like their modules (fid, prdc)
fid_module = importlib.import_module("ganforge.metrics.fid")
prdc_module = importlib.import_module("ganforge.metrics.prdc")


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


# ------------------------------------------------------------------------------ FID
def gaussian_fd_commuting(mu1, a, mu2, b) -> float:
    """Closed form when S1 = Q diag(a) Q^T and S2 = Q diag(b) Q^T share eigenvectors."""
    return float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=32), rng.normal(size=32)
    a, b = rng.uniform(0.1, 5, 32), rng.uniform(0.1, 5, 32)
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert rel(got, gaussian_fd_commuting(mu1, a, mu2, b)) < 1e-6


@pytest.mark.parametrize("singular", [False, True])
def test_frechet_distance_commuting_closed_form(singular):
    rng = np.random.default_rng(1)
    d = 48
    q = random_orthogonal(d, rng)
    a, b = rng.uniform(0.01, 3, d), rng.uniform(0.01, 3, d)
    if singular:  # rank-deficient S1 (as with n <= d samples): the eigh route instead of Cholesky
        a[: d // 3] = 0
    s1, s2 = (q * a) @ q.T, (q * b) @ q.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = gaussian_fd_commuting(mu1, a, mu2, b)
    assert rel(frechet_distance(mu1, s1, mu2, s2), expected) < 1e-6
    assert rel(frechet_distance(torch.from_numpy(mu2), torch.from_numpy(s2), mu1, s1), expected) < 1e-6


def scipy_fid(x: np.ndarray, y: np.ndarray) -> float:
    """The pytorch-fid recipe in float64: np.cov + scipy.linalg.sqrtm."""
    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("n", [400, 50])  # 50 < 64: singular covariance
def test_fid_matches_scipy_sqrtm(n):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, 64))
    y = rng.normal(size=(300, 64)) @ rng.normal(size=(64, 64)) * 0.3 + 0.5
    assert rel(fid(x, y), scipy_fid(x, y)) < 1e-6


def test_fid_identity_and_symmetry():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 64)) * 3 + 1
    y = rng.normal(size=(250, 64)) ** 2
    assert fid(x, x) < 1e-8
    assert rel(fid(x, y), fid(y, x)) < 1e-9
    assert fid(x, y) > 1


def test_feature_stats_streaming_matches_numpy(monkeypatch):
    monkeypatch.setattr(fid_module, "GRAM_BLOCK", 5)  # 16 columns: uneven blocks of the symmetric Gram
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1000, 16)) * 0.01 + 1e4   # large mean, small spread: shifted sums keep precision
    stats = FeatureStats()
    for i, batch in enumerate(np.array_split(x, 7)):
        stats.update(batch if i % 2 else torch.from_numpy(batch))  # numpy or torch
    mu, sigma = stats.mean_cov()
    assert mu.dtype == sigma.dtype == torch.float64
    np.testing.assert_allclose(mu.numpy(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma.numpy(), np.cov(x, rowvar=False), rtol=1e-6, atol=1e-12)
    _, sigma2 = feature_statistics(torch.from_numpy(x))
    np.testing.assert_allclose(sigma2.numpy(), np.cov(x, rowvar=False), rtol=1e-6, atol=1e-12)


# ------------------------------------------------------------------------------ KID
def brute_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    m, d = len(x), x.shape[1]
    k = lambda a, b: (float(a @ b) / d + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_matches_double_loop():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(12, 5)), rng.normal(size=(12, 5)) + 0.3
    expected = brute_mmd2(x, y)
    assert rel(mmd2_unbiased(torch.from_numpy(x), torch.from_numpy(y)), expected) < 1e-10
    # a subset as large as both sets is the whole sets, in some order: every subset gives the same value
    out = kid(x, y, subsets=4, subset_size=1000)
    assert rel(out["kid_mean"], expected) < 1e-10 and out["kid_std"] < 1e-12
    assert out["kid_subset_size"] == 12  # the cap is reported


def test_kid_subsets_seeded_and_capped():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(60, 4)), rng.normal(size=(40, 4))
    a, b = kid(x, y, subsets=5, subset_size=30, seed=1), kid(x, y, subsets=5, subset_size=30, seed=1)
    assert a == b and a["kid_subset_size"] == 30 and a["kid_std"] > 0
    assert kid(x, y, subsets=5, subset_size=30, seed=2) != a
    assert kid(x, y, subsets=5, subset_size=500)["kid_subset_size"] == 40


def test_kid_unbiased():
    """Over many independent draws of two samples of one distribution, KID averages to 0."""
    gen = torch.Generator().manual_seed(7)
    values = [kid(torch.randn(40, 6, generator=gen), torch.randn(40, 6, generator=gen), subsets=1)["kid_mean"]
              for _ in range(300)]
    mean, se = float(np.mean(values)), float(np.std(values) / math.sqrt(len(values)))
    assert abs(mean) < 4 * se, (mean, se)
    # the test has power: a real difference lies many standard errors away
    shifted = kid(torch.randn(40, 6, generator=gen) + 0.5, torch.randn(40, 6, generator=gen), subsets=1)
    assert shifted["kid_mean"] > 10 * se


# ------------------------------------------------------------------------------ precision/recall, density/coverage
def brute_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict[str, float]:
    """Definitions written out with loops over squared distances."""
    def d2(a, b):
        return float(((a - b) ** 2).sum())

    def radius(x, i, k):  # k-th nearest neighbour of x[i] in x, itself excluded
        return sorted(d2(x[i], x[j]) for j in range(len(x)) if j != i)[k - 1]

    r_pr = [radius(real, i, k_pr) for i in range(len(real))]
    f_pr = [radius(fake, j, k_pr) for j in range(len(fake))]
    r_dc = [radius(real, i, k_dc) for i in range(len(real))]
    return {
        "precision": np.mean([any(d2(f, r) <= r_pr[i] for i, r in enumerate(real)) for f in fake]),
        "recall": np.mean([any(d2(r, f) <= f_pr[j] for j, f in enumerate(fake)) for r in real]),
        "density": np.mean([sum(d2(f, r) < r_dc[i] for i, r in enumerate(real)) for f in fake]) / k_dc,
        "coverage": np.mean([any(d2(f, r) < r_dc[i] for f in fake) for i, r in enumerate(real)]),
    }


@pytest.mark.parametrize("kind", ["continuous", "lattice"])
def test_prdc_matches_brute_force(kind, monkeypatch):
    monkeypatch.setattr(prdc_module, "BLOCK_ENTRIES", 97)  # many uneven row blocks
    rng = np.random.default_rng(8)
    for trial in range(6):
        n, m, d = rng.integers(8, 30), rng.integers(8, 30), rng.integers(1, 5)
        if kind == "lattice":  # integer points: many exact ties at the ball boundaries
            real, fake = rng.integers(-2, 3, (n, d)) * 1.0, rng.integers(-2, 3, (m, d)) + trial % 2 * 1.0
        else:
            real, fake = rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.3 + 0.2
        k_pr, k_dc = int(rng.integers(1, 4)), int(rng.integers(1, 6))
        got, expected = prdc(real, fake, k_pr, k_dc), brute_prdc(real, fake, k_pr, k_dc)
        assert got == pytest.approx(expected, abs=1e-12), (trial, got, expected)
        assert precision_recall(torch.from_numpy(real), fake, k=k_pr) == pytest.approx(
            {k: expected[k] for k in ("precision", "recall")}, abs=1e-12)
        assert density_coverage(real, torch.from_numpy(fake).float().double(), k=k_dc) == pytest.approx(
            {k: expected[k] for k in ("density", "coverage")}, abs=1e-12)


def test_inclusive_versus_strict_boundary():
    """Points 0, 1, 2, 3 on a line (radius 1 each for k=1) and a fake at 4, exactly on real 3's sphere."""
    real, fake = np.array([[0.0], [1], [2], [3]]), np.array([[4.0], [4.0]])
    assert precision_recall(real, fake, k=1)["precision"] == 1.0           # d <= r counts
    assert density_coverage(real, fake, k=1) == {"density": 0.0, "coverage": 0.0}  # d < r does not
    # duplicates: radius 0; an identical fake sample is inside (inclusive) but not strictly inside
    real, fake = np.zeros((4, 3)), np.zeros((3, 3))
    assert precision_recall(real, fake, k=2) == {"precision": 1.0, "recall": 1.0}
    assert density_coverage(real, fake, k=2) == {"density": 0.0, "coverage": 0.0}


@pytest.mark.slow
def test_prdc_matches_published_gaussian_example():
    """generative-evaluation-prdc README: 10k vs 10k N(0, I) in 1000-d, k=5."""
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(10_000, 1000, generator=gen), torch.randn(10_000, 1000, generator=gen)
    got = prdc(real, fake, k_pr=5, k_dc=5)
    published = {"precision": 0.4772, "recall": 0.4705, "density": 1.0555, "coverage": 0.9738}
    assert got == pytest.approx(published, abs=0.04), got


# ------------------------------------------------------------------------------ Inception Score
def test_inception_score_extremes():
    c = 10
    uniform = inception_score(torch.full((100, c), 1 / c))
    assert uniform["is_mean"] == pytest.approx(1.0, abs=1e-12) and uniform["is_std"] < 1e-12
    one_hot = inception_score(np.eye(c)[np.arange(200) % c], splits=10)
    assert one_hot["is_mean"] == pytest.approx(c, rel=1e-12)
    confident_logits = inception_score(torch.eye(c)[torch.arange(200) % c] * 100, splits=4)
    assert confident_logits["is_mean"] == pytest.approx(c, rel=1e-9)
    assert inception_score(torch.zeros(50, c), splits=5)["is_mean"] == pytest.approx(1.0)  # equal logits


def test_inception_score_matches_formula_and_logits_equal_probs():
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(301, 7)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    scores = []
    for i in range(3):  # the original code's parts
        part = p[i * 301 // 3:(i + 1) * 301 // 3]
        py = part.mean(0)
        scores.append(np.exp((part * (np.log(part) - np.log(py))).sum(1).mean()))
    from_logits, from_probs = inception_score(logits, splits=3), inception_score(p, splits=3)
    assert from_logits["is_mean"] == pytest.approx(np.mean(scores), rel=1e-10)
    assert from_logits["is_std"] == pytest.approx(np.std(scores), rel=1e-8)
    assert from_probs == pytest.approx(from_logits, rel=1e-10)


# ------------------------------------------------------------------------------ registry
def test_registry_runs_metrics_by_name():
    rng = np.random.default_rng(10)
    real, fake = rng.normal(size=(60, 8)), rng.normal(size=(50, 8))
    inputs = {"real_features": real, "fake_features": fake, "fake_logits": rng.normal(size=(50, 5))}
    assert get_metric("fid").compute(inputs) == {"fid": fid(real, fake)}
    assert set(get_metric("kid").compute(inputs, subsets=3)) >= {"kid_mean", "kid_std"}
    assert set(get_metric("is").compute(inputs, splits=5)) == {"is_mean", "is_std"}
    assert set(get_metric("pr").compute(inputs)) == {"precision", "recall"}
    assert set(get_metric("dc").compute(inputs)) == {"density", "coverage"}
    # several at once; pr and dc together take the one-pass route and give the same numbers
    together = compute(["fid", "pr", "dc"], inputs, options={"pr": {"k": 2}})
    assert together == {"fid": fid(real, fake), **precision_recall(real, fake, k=2), **density_coverage(real, fake)}
    assert "unknown metric 'nope'" in one_line_error(compute, ["fid", "nope"], inputs)


# ------------------------------------------------------------------------------ bad input
def one_line_error(fn, *args, **kwargs) -> str:
    with pytest.raises(GanforgeError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("metric", [fid, kid, precision_recall, density_coverage])
def test_different_widths(metric):
    msg = one_line_error(metric, np.zeros((20, 4)), np.zeros((20, 5)))
    assert "real features have 4 columns but fake features have 5" in msg and "same feature width" in msg


def test_too_few_samples():
    x = np.random.default_rng(11).normal(size=(10, 3))
    assert "real features need at least 2 samples (a covariance needs 2), got 1" in one_line_error(fid, x[:1], x)
    assert "fake features need at least 2 samples" in one_line_error(fid, x, x[:1])
    assert "need at least 2 samples" in one_line_error(feature_statistics, x[:1])
    assert "need at least 2 samples" in one_line_error(FeatureStats().update(x[:1]).mean_cov)
    msg = one_line_error(precision_recall, x[:3], x, k=3)
    assert "precision_recall: real features need at least 4 samples (k + 1 = 4 for k = 3 neighbours" in msg
    assert "fake features need at least 4 samples" in one_line_error(precision_recall, x, x[:3], k=3)
    assert "real features need at least 6 samples" in one_line_error(density_coverage, x[:5], x, k=5)
    assert "positive integer" in one_line_error(precision_recall, x, x, k=0)
    assert "splits" in one_line_error(inception_score, x[:5], splits=10)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("metric", [fid, kid, precision_recall, density_coverage])
def test_non_finite_features(metric, bad):
    real, fake = np.zeros((20, 4)), np.ones((20, 4))
    fake[3, 2] = bad
    msg = one_line_error(metric, real, torch.from_numpy(fake))
    assert "fake features contain NaN or infinity (1 of 80 values); expected finite features" in msg


def test_shapes_and_statistics():
    assert "2-D array (N samples, D features), got shape (5,)" in one_line_error(fid, np.zeros(5), np.zeros((5, 1)))
    msg = one_line_error(frechet_distance, np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    assert "statistics of different widths" in msg
    assert "contains NaN" in one_line_error(frechet_distance, np.zeros(2), np.full((2, 2), np.nan), np.zeros(2), np.eye(2))


def test_unknown_metric_name():
    msg = one_line_error(get_metric, "fidd")
    assert msg == "unknown metric 'fidd'; expected one of: dc, fid, is, kid, pr" or (
        msg.startswith("unknown metric 'fidd'; expected one of: ") and "fid" in msg and "kid" in msg)
    assert "missing ['fake_logits']" in one_line_error(get_metric("is").compute, {"real_features": 0})

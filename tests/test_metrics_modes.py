"""ganforge.metrics.modes: mode coverage on hand-built samples, reverse KL against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import MODE_SAMPLES, mode_coverage, reverse_kl

STD = 0.01
RING = torch.tensor([[math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)] for i in range(8)],
                    dtype=torch.float64)


def at_modes(counts: list[int], offset: float = 0.0) -> torch.Tensor:
    """counts[i] samples at ring mode i, each pushed `offset` std outwards along the radius."""
    rows = [RING[i] * (1 + offset * STD) for i, n in enumerate(counts) for _ in range(n)]
    return torch.stack(rows).float()


def test_the_protocol_draws_2500_samples():
    assert MODE_SAMPLES == 2500


def test_100_exact_samples_at_each_of_8_modes_is_perfect():
    r = mode_coverage(at_modes([100] * 8), RING, STD)
    assert r["modes"] == 8 and r["hq_percent"] == 100.0
    assert r["reverse_kl"] == pytest.approx(0.0, abs=1e-12)


def test_all_samples_at_one_mode_gives_one_mode_and_kl_log_8():
    r = mode_coverage(at_modes([800, 0, 0, 0, 0, 0, 0, 0]), RING, STD)
    assert r["modes"] == 1 and r["hq_percent"] == 100.0
    assert r["reverse_kl"] == pytest.approx(math.log(8), rel=1e-12)


def test_two_modes_with_a_3_to_1_split_by_hand():
    # p = (3/4, 1/4, 0, ...): KL = 3/4 log(6) + 1/4 log(2)
    r = mode_coverage(at_modes([300, 0, 0, 0, 0, 100, 0, 0]), RING, STD)
    assert r["modes"] == 2
    assert r["reverse_kl"] == pytest.approx(0.75 * math.log(6) + 0.25 * math.log(2), rel=1e-12)


@pytest.mark.parametrize("offset, hq", [(0.5, True), (2.9, True), (3.1, False), (4.0, False), (-4.0, False)])
def test_samples_count_as_high_quality_within_3_std_of_their_mode(offset, hq):
    r = mode_coverage(at_modes([10] * 8, offset=offset), RING, STD)
    assert r["hq_percent"] == (100.0 if hq else 0.0)
    # a mode needs a high-quality sample to count as captured
    assert r["modes"] == (8 if hq else 0)
    assert r["reverse_kl"] == pytest.approx(0.0 if hq else math.log(8), abs=1e-12)


def test_the_threshold_is_a_parameter():
    samples = at_modes([10] * 8, offset=4.0)
    assert mode_coverage(samples, RING, STD, threshold=5.0)["hq_percent"] == 100.0
    assert mode_coverage(samples, RING, STD, threshold=3.0)["hq_percent"] == 0.0


def test_half_the_samples_far_away_is_50_percent_high_quality_and_kl_from_the_rest():
    near = at_modes([50] * 8)
    far = torch.zeros(400, 2)  # the centre of the ring: 100 std from every mode
    r = mode_coverage(torch.cat([near, far]), RING, STD)
    assert r["hq_percent"] == pytest.approx(50.0) and r["modes"] == 8
    assert r["reverse_kl"] == pytest.approx(0.0, abs=1e-12)  # the far samples are not in the histogram


def test_a_sample_counts_for_its_nearest_mode_and_duplicates_do_not_add_modes():
    # 7 of 8 modes, one sample each, plus extra samples near (within 1 std of) mode 0
    samples = torch.cat([at_modes([1, 1, 1, 1, 1, 1, 1, 0]), RING[0].float() + 0.005 * torch.ones(5, 2)])
    r = mode_coverage(samples, RING, STD)
    counts = torch.tensor([6, 1, 1, 1, 1, 1, 1, 0], dtype=torch.float64)
    assert r["modes"] == 7 and r["hq_percent"] == 100.0
    p = counts[counts > 0] / counts.sum()
    assert r["reverse_kl"] == pytest.approx(float((p * torch.log(8 * p)).sum()), rel=1e-12)


def test_gaussian_samples_match_the_closed_form_hq_fraction():
    # 2-D isotropic Gaussian around each mode: P(|x - mu| <= 3 std) = 1 - exp(-9/2) (Rayleigh)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 8, (20000,), generator=g)
    samples = RING[idx] + STD * torch.randn(20000, 2, generator=g, dtype=torch.float64)
    r = mode_coverage(samples, RING, STD)
    expected = 100 * (1 - math.exp(-4.5))
    assert r["hq_percent"] == pytest.approx(expected, abs=0.3)  # binomial sd ≈ 0.07 %
    assert r["modes"] == 8 and r["reverse_kl"] < 1e-3


def test_reverse_kl_against_brute_force_on_random_histograms():
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = int(rng.integers(1, 30))
        counts = rng.integers(0, 20, size=m) * (rng.random(m) < 0.7)
        if counts.sum() == 0:
            counts[0] = 1
        total = counts.sum()
        brute = sum((c / total) * math.log((c / total) / (1 / m)) for c in counts if c > 0)
        got = reverse_kl(torch.tensor(counts, dtype=torch.float64))
        assert got == pytest.approx(brute, rel=1e-10, abs=1e-12)
        assert got == pytest.approx(scipy.stats.entropy(counts / total, np.full(m, 1 / m)), rel=1e-10, abs=1e-12)
        assert -1e-12 <= got <= math.log(m) + 1e-12


def test_reverse_kl_with_no_samples_near_any_mode_is_the_worst_case():
    assert reverse_kl(torch.zeros(8)) == pytest.approx(math.log(8))


def test_inputs_on_any_dtype_give_the_same_result():
    samples = at_modes([5, 3, 0, 0, 2, 0, 0, 1])
    a = mode_coverage(samples, RING, STD)
    assert mode_coverage(samples.double(), RING.float(), STD) == pytest.approx(a)


@pytest.mark.parametrize("samples, modes", [(torch.zeros(10, 2), torch.zeros(8, 3)),
                                            (torch.zeros(10), torch.zeros(8, 2)),
                                            (torch.zeros(10, 2), torch.zeros(2)),
                                            (torch.zeros(2, 5, 2), torch.zeros(8, 2)),
                                            (torch.zeros(0, 2), torch.zeros(8, 2)),
                                            (torch.zeros(10, 2), torch.zeros(0, 2))])
def test_shapes_that_do_not_fit_are_a_one_line_error(samples, modes):
    with pytest.raises(GanforgeError, match="mode coverage needs") as e:
        mode_coverage(samples, modes, STD)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_samples_or_modes_are_an_error(bad):
    samples = at_modes([10] * 8)
    samples[3, 1] = bad
    with pytest.raises(GanforgeError, match="samples contain NaN or infinity"):
        mode_coverage(samples, RING, STD)
    modes = RING.clone()
    modes[2, 0] = bad
    with pytest.raises(GanforgeError, match="modes contain NaN or infinity"):
        mode_coverage(at_modes([10] * 8), modes, STD)


def test_samples_that_require_grad_are_accepted():
    samples = at_modes([10] * 8).requires_grad_(True)
    assert mode_coverage(samples, RING, STD)["modes"] == 8

"""ganforge.losses: objectives against hand-computed values, penalties against closed forms."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganforge.losses import (LOSSES, accuracy, clip_weights, gradient_penalty, hinge, least_squares,
                             minimax, non_saturating, r1_penalty, wasserstein)

REAL = [2.0, -0.5, 0.0, 3.25]   # hand-picked logits
FAKE = [-1.5, 0.75, 0.0, -4.0]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# ---------------------------------------------------------------- objectives: values

# (objective, D loss on one real logit, D loss on one fake logit, G loss on one fake logit), by hand
HAND = {
    "minimax": (minimax, lambda r: -math.log(sigmoid(r)), lambda f: -math.log(1 - sigmoid(f)),
                lambda f: math.log(1 - sigmoid(f))),  # V(D, G) exactly: G minimises log(1 - D(G(z)))
    "non_saturating": (non_saturating, lambda r: -math.log(sigmoid(r)), lambda f: -math.log(1 - sigmoid(f)),
                       lambda f: -math.log(sigmoid(f))),
    "wasserstein": (wasserstein, lambda r: -r, lambda f: f, lambda f: -f),
    "least_squares": (least_squares, lambda r: 0.5 * (r - 1) ** 2, lambda f: 0.5 * f**2,
                      lambda f: 0.5 * (f - 1) ** 2),
    "hinge": (hinge, lambda r: max(0.0, 1 - r), lambda f: max(0.0, 1 + f), lambda f: -f),
}


@pytest.mark.parametrize("name", HAND)
def test_objective_terms_equal_the_hand_computed_batch_means(name):
    obj, d_real, d_fake, g = HAND[name]
    torch.testing.assert_close(obj.d_real(t(REAL)), t(mean(map(d_real, REAL))), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(obj.d_fake(t(FAKE)), t(mean(map(d_fake, FAKE))), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(obj.g(t(FAKE)), t(mean(map(g, FAKE))), rtol=1e-12, atol=1e-12)


def test_minimax_and_non_saturating_at_zero_logits_are_log_2():
    zero = torch.zeros(3)
    for obj in (minimax, non_saturating):
        assert obj.d_real(zero).item() == pytest.approx(math.log(2))
        assert obj.d_fake(zero).item() == pytest.approx(math.log(2))
    assert minimax.g(zero).item() == pytest.approx(-math.log(2))
    assert non_saturating.g(zero).item() == pytest.approx(math.log(2))


def test_a_few_objective_values_by_hand():
    # LSGAN D: 0.5 (3 - 1)^2 + 0.5 * 2^2 = 4; hinge D at r=0.5, f=-0.25: 0.5 + 0.75; WGAN D: -3 + 2
    assert (least_squares.d_real(t([3.0])) + least_squares.d_fake(t([2.0]))).item() == 4.0
    assert (hinge.d_real(t([0.5])) + hinge.d_fake(t([-0.25]))).item() == 1.25
    assert (wasserstein.d_real(t([3.0])) + wasserstein.d_fake(t([2.0]))).item() == -1.0
    # hinge D ignores logits already past the margin
    assert hinge.d_real(t([1.0, 5.0])).item() == 0.0 and hinge.d_fake(t([-1.0, -7.0])).item() == 0.0


def test_losses_table_names_each_objective_with_its_lipschitz_constraint():
    assert LOSSES == {"minimax": (minimax, None), "non-saturating": (non_saturating, None),
                      "wgan": (wasserstein, "clip"), "wgan-gp": (wasserstein, "gp"),
                      "lsgan": (least_squares, None), "hinge": (hinge, None)}


# ---------------------------------------------------------------- objectives: large logits

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sigmoid_objectives_are_finite_and_correct_at_logits_of_plus_minus_100(dtype):
    big = torch.tensor([100.0], dtype=dtype)
    # -log sigmoid(100) = log(1 + e^-100) = 3.7e-44 (≈ 0); -log sigmoid(-100) = 100 + log(1 + e^-100)
    cases = [(minimax.d_real(big), 0.0), (minimax.d_real(-big), 100.0),
             (minimax.d_fake(-big), 0.0), (minimax.d_fake(big), 100.0),
             (minimax.g(-big), 0.0), (minimax.g(big), -100.0),
             (non_saturating.g(big), 0.0), (non_saturating.g(-big), 100.0)]
    for value, expected in cases:
        assert torch.isfinite(value) and value.item() == pytest.approx(expected, abs=1e-6)
    for obj in (minimax, non_saturating):
        for term in (obj.d_real, obj.d_fake, obj.g):
            for x in (big, -big):
                x = x.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(term(x), x)
                assert torch.isfinite(grad).all() and grad.abs().item() <= 1.0


def test_non_saturating_gradient_is_strong_where_minimax_saturates():
    # d/df log(1 - sigmoid(f)) = -sigmoid(f) -> 0 as f -> -inf (D rejects the fakes);
    # d/df -log sigmoid(f) = -sigmoid(-f) -> -1. Both push f up; only one does so strongly.
    for f0 in (-10.0, -30.0):
        f = torch.tensor([f0], dtype=torch.float64, requires_grad=True)
        (g_mm,) = torch.autograd.grad(minimax.g(f), f)
        (g_ns,) = torch.autograd.grad(non_saturating.g(f), f)
        assert g_mm.item() == pytest.approx(-sigmoid(f0), rel=1e-9)
        assert g_ns.item() == pytest.approx(-sigmoid(-f0), rel=1e-9)
        assert g_mm.item() < 0 and g_ns.item() < 0
        assert abs(g_ns.item()) > 0.99 and abs(g_mm.item()) < 1e-4


def test_d_gradients_push_real_logits_up_and_fake_logits_down():
    for obj in (minimax, non_saturating, wasserstein, least_squares, hinge):
        r = torch.tensor([-0.5, 0.5], requires_grad=True)   # inside every objective's active region
        f = torch.tensor([0.25, 0.5], requires_grad=True)
        g_r, g_f = torch.autograd.grad(obj.d_real(r) + obj.d_fake(f), (r, f))
        assert (g_r < 0).all() and (g_f > 0).all(), obj.name
        # G wants higher fake logits (gradient descent raises f)
        f2 = torch.tensor([-0.5, 0.0], requires_grad=True)
        (g_g,) = torch.autograd.grad(obj.g(f2), f2)
        assert (g_g < 0).all(), obj.name


def test_objective_gradients_are_per_element_over_the_batch_mean():
    # mean over B: d/dx_i = h'(x_i) / B. For LSGAN G: (f_i - 1) / B
    f = t(FAKE).requires_grad_(True)
    (grad,) = torch.autograd.grad(least_squares.g(f), f)
    torch.testing.assert_close(grad, (t(FAKE) - 1) / len(FAKE))


def test_accuracy_counts_real_above_zero_and_fakes_below_zero():
    real_acc, fake_acc = accuracy(t([1.0, -1.0, 2.0, 0.0]), t([-3.0, 0.5, -0.1, -2.0]))
    assert real_acc.item() == 0.5 and fake_acc.item() == 0.75


# ---------------------------------------------------------------- penalties

class Linear(nn.Module):
    """D(x) = w . x + b over the flattened sample."""

    def __init__(self, w: torch.Tensor, b: float = 0.3):
        super().__init__()
        self.w = nn.Parameter(w.clone().to(torch.float64))
        self.b = nn.Parameter(torch.tensor(b, dtype=torch.float64))

    def forward(self, x, c=None):
        return x.flatten(1) @ self.w + self.b


class Quadratic(nn.Module):
    """D(x) = 1/2 x^T A x + v . x (A symmetric), so grad D(x) = A x + v."""

    def __init__(self, dim: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        m = torch.randn(dim, dim, generator=g, dtype=torch.float64)
        self.A = nn.Parameter((m + m.T) / 2)
        self.v = nn.Parameter(torch.randn(dim, generator=g, dtype=torch.float64))

    def forward(self, x, c=None):
        x = x.flatten(1)
        return 0.5 * ((x @ self.A) * x).sum(1) + x @ self.v

    def grad(self, x):
        return x.flatten(1) @ self.A.detach() + self.v.detach()


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("w", [[3.0, 4.0], [0.6, 0.8], [0.1, -0.2], [0.0, 0.0]])
def test_gradient_penalty_of_a_linear_critic_is_norm_w_minus_1_squared(w):
    D = Linear(torch.tensor(w, dtype=torch.float64))
    hand = (math.hypot(*w) - 1) ** 2          # grad D = w everywhere, whatever the interpolates
    for seed in range(3):
        gp = gradient_penalty(D, rand(16, 2, seed=seed), rand(16, 2, seed=seed + 10),
                              generator=torch.Generator().manual_seed(seed))
        assert gp.item() == pytest.approx(hand, abs=1e-12)


def test_gradient_penalty_on_image_shaped_input_uses_the_norm_over_the_whole_sample():
    w = rand(2 * 3 * 3, seed=4)
    D = Linear(w)
    gp = gradient_penalty(D, rand(5, 2, 3, 3, seed=1), rand(5, 2, 3, 3, seed=2))
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-12)


def test_gradient_penalty_of_a_quadratic_critic_equals_the_analytic_gradient_at_the_interpolates():
    D = Quadratic(3)
    x = rand(8, 3, seed=1)
    # real == fake: every interpolate is x itself, whatever alpha is
    hand = ((D.grad(x).norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(gradient_penalty(D, x, x.clone()), hand, rtol=1e-12, atol=1e-12)
    # real != fake: one alpha ~ U[0, 1] per sample drawn from the generator passed
    real, fake = rand(8, 3, seed=2), rand(8, 3, seed=3)
    alpha = torch.rand((8, 1), generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    x_hat = alpha * real + (1 - alpha) * fake
    hand = ((D.grad(x_hat).norm(dim=1) - 1) ** 2).mean()
    gp = gradient_penalty(D, real, fake, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(gp, hand, rtol=1e-10, atol=1e-12)


def test_gradient_penalty_interpolates_lie_between_real_and_fake():
    # 1-D critic D(x) = x^2 / 2: grad = x_hat. real = 1, fake = 0 -> x_hat = alpha in [0, 1], so
    # each per-sample term (alpha - 1)^2 lies in [0, 1], and their mean over many is about 1/3
    class Half(nn.Module):
        def forward(self, x, c=None):
            return 0.5 * x.square().sum(1)
    gp = gradient_penalty(Half(), torch.ones(20000, 1, dtype=torch.float64), torch.zeros(20000, 1, dtype=torch.float64),
                          generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(1 / 3, abs=0.01)


def test_gradient_penalty_uses_the_generator_passed():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    Dc = lambda x, c=None: D(x).squeeze(1)  # noqa: E731
    real, fake = rand(32, 4, seed=1), rand(32, 4, seed=2)
    gp = lambda seed: gradient_penalty(Dc, real, fake, generator=torch.Generator().manual_seed(seed)).item()  # noqa: E731
    torch.manual_seed(123)
    a = gp(5)
    torch.manual_seed(456)  # the global RNG must not matter
    assert gp(5) == a and gp(6) != a


def test_gradient_penalty_is_differentiable_in_the_critic_parameters():
    w = torch.tensor([3.0, 4.0, 12.0])   # ||w|| = 13
    D = Linear(w)
    gp = gradient_penalty(D, rand(4, 3, seed=1), rand(4, 3, seed=2))
    grad_w, grad_b = torch.autograd.grad(gp, (D.w, D.b), allow_unused=True)
    n = 13.0
    torch.testing.assert_close(grad_w, 2 * (n - 1) * w.double() / n)  # d/dw (||w|| - 1)^2
    assert grad_b is None or grad_b.abs().item() == 0.0
    # the inputs are not part of the graph: fake and real are detached
    real = rand(4, 3, seed=1).requires_grad_(True)
    gp = gradient_penalty(D, real, rand(4, 3, seed=2))
    assert torch.autograd.grad(gp, real, allow_unused=True)[0] is None


def test_one_sgd_step_of_lr_one_half_on_the_gradient_penalty_puts_w_on_the_unit_sphere():
    # w' = w - 1/2 * 2 (n - 1) w / n = w / n for n = ||w||: by hand, the step lands exactly on ||w|| = 1
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    D = Linear(w)
    opt = torch.optim.SGD(D.parameters(), lr=0.5)
    gradient_penalty(D, rand(4, 2, seed=1), rand(4, 2, seed=2)).backward()
    opt.step()
    torch.testing.assert_close(D.w.detach(), w / 5)


def test_r1_of_a_linear_critic_is_the_squared_norm_of_w_with_gradient_2w():
    w = torch.tensor([0.5, -2.0, 1.5])
    D = Linear(w)
    r1 = r1_penalty(D, rand(6, 3, seed=3))
    assert r1.item() == pytest.approx(0.25 + 4 + 2.25, rel=1e-12)
    (grad_w,) = torch.autograd.grad(r1, D.w)
    torch.testing.assert_close(grad_w, 2 * w.double())


def test_r1_of_a_quadratic_critic_is_the_mean_squared_analytic_gradient():
    D = Quadratic(4, seed=2)
    x = rand(10, 4, seed=5)
    hand = D.grad(x).square().sum(1).mean()
    torch.testing.assert_close(r1_penalty(D, x), hand, rtol=1e-12, atol=1e-12)


def test_penalties_pass_the_labels_to_a_conditional_critic():
    class Cond(nn.Module):
        def forward(self, x, c=None):
            return (x.sum(1) * (c.double() + 1))  # grad = (c + 1) * ones
    x, c = rand(3, 2), torch.tensor([0, 1, 2])
    hand = ((torch.tensor([1.0, 2.0, 3.0]) * math.sqrt(2) - 1) ** 2).mean().item()
    assert gradient_penalty(Cond(), x, x.clone(), c).item() == pytest.approx(hand)
    assert r1_penalty(Cond(), x, c).item() == pytest.approx((2 * (1 + 4 + 9)) / 3)


def test_clip_weights_clamps_every_parameter_and_leaves_small_ones_alone():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Linear(5, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(10)
    before = [p.detach().clone() for p in net.parameters()]
    clip_weights(net, 0.01)
    for b, p in zip(before, net.parameters()):
        torch.testing.assert_close(p, b.clamp(-0.01, 0.01), rtol=0, atol=0)
        assert p.abs().max().item() <= 0.01
    assert any((b.abs() > 0.01).any() for b in before)  # there was something to clip

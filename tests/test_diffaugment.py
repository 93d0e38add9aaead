"""ganforge.diffaugment: DiffAugment's policies, shapes, determinism, gradients and geometry."""

from __future__ import annotations

import pytest
import torch

from ganforge.diffaugment import (
    DiffAugment,
    brightness,
    contrast,
    cutout,
    diff_augment,
    parse_policy,
    saturation,
    translation,
)
from ganforge.errors import GanforgeError

ALL = "color,translation,cutout"


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=gen(seed)) * 2 - 1


# ---------------------------------------------------------------- policies

def test_policy_parsing_accepts_strings_lists_aliases_and_none():
    assert parse_policy(ALL) == ("color", "translation", "cutout")
    assert parse_policy(" Colour , cutout ") == ("color", "cutout")
    assert parse_policy(["translation"]) == ("translation",)
    assert parse_policy(None) == parse_policy("") == parse_policy("none") == ()


def test_unknown_policy_is_one_line_listing_the_valid_ones():
    with pytest.raises(GanforgeError) as info:
        DiffAugment("color,flip")
    message = str(info.value)
    assert "'flip'" in message and "color, translation, cutout" in message and "\n" not in message


def test_empty_policy_is_the_identity():
    x = images(2, 3, 8, 8)
    assert diff_augment(x, "") is x and DiffAugment(None)(x) is x


def test_non_image_input_is_a_clear_error():
    with pytest.raises(GanforgeError, match=r"\(N, C, H, W\)"):
        diff_augment(torch.zeros(4, 2), ALL)


# ---------------------------------------------------------------- shapes, determinism

@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 32, 48), (5, 3, 7, 5), (1, 1, 1, 1)])
def test_shape_dtype_and_layout_are_kept(shape):
    x = images(*shape)
    y = diff_augment(x, ALL, gen())
    assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()
    cl = x.contiguous(memory_format=torch.channels_last)
    y_cl = diff_augment(cl, ALL, gen())
    assert torch.allclose(y_cl, y, atol=1e-6)  # the same numbers (up to summation order)
    if shape[1] > 1 and shape[2] * shape[3] > 1:
        assert y_cl.is_contiguous(memory_format=torch.channels_last)  # D's fast layout survives


def test_seeded_generator_makes_it_deterministic_and_resumable():
    x = images(8, 3, 16, 16)
    g = gen(5)
    first = diff_augment(x, ALL, g)
    state = g.get_state()  # what a checkpoint stores
    second = diff_augment(x, ALL, g)
    assert torch.equal(first, diff_augment(x, ALL, gen(5)))
    assert not torch.equal(first, second)  # the generator advanced: fresh parameters each call
    g.set_state(state)
    assert torch.equal(second, diff_augment(x, ALL, g))
    assert not torch.equal(first, diff_augment(x, ALL, gen(6)))


def test_module_uses_its_own_generator_unless_given_one():
    x = images(4, 1, 12, 12)
    aug = DiffAugment("translation,cutout", generator=gen(3))
    assert list(aug.parameters()) == [] and "translation,cutout" in repr(aug)
    assert torch.equal(aug(x), diff_augment(x, "translation,cutout", gen(3)))
    assert torch.equal(aug(x, generator=gen(9)), diff_augment(x, "translation,cutout", gen(9)))


def test_each_sample_gets_its_own_parameters():
    x = images(1, 3, 16, 16).expand(16, -1, -1, -1)
    y = diff_augment(x, ALL, gen())
    assert len({tuple(v.flatten()[:40].tolist()) for v in y}) > 12


# ---------------------------------------------------------------- gradients

def test_gradients_flow_to_the_input_through_every_policy():
    x = images(4, 3, 10, 14).requires_grad_()
    (diff_augment(x, ALL, gen()) ** 2).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_translation_gradient_routes_each_kept_pixel_back_once():
    x = torch.ones(16, 2, 9, 11, requires_grad=True)
    y = translation(x, gen())
    y.sum().backward()
    # Each output pixel copies at most one input pixel: the gradient is 1 exactly where a
    # pixel was kept, and their count is the number of non-padded output pixels.
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0}
    assert x.grad.sum() == y.sum()


# ---------------------------------------------------------------- geometry and colour

def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """out[i, j] = x[i + dy, j + dx], zero outside; x (C, H, W)."""
    _, h, w = x.shape
    out = torch.zeros_like(x)
    rows, cols = slice(max(0, -dy), min(h, h - dy)), slice(max(0, -dx), min(w, w - dx))
    src_rows, src_cols = slice(max(0, dy), min(h, h + dy)), slice(max(0, dx), min(w, w + dx))
    out[:, rows, cols] = x[:, src_rows, src_cols]
    return out


def test_translation_is_a_zero_padded_shift_of_at_most_an_eighth():
    h, w = 16, 24  # shifts up to 2 rows and 3 columns
    x = torch.rand(64, 1, h, w, generator=gen(2)) + 1  # strictly positive: padding is visible
    y = translation(x, gen())
    seen = set()
    for xi, yi in zip(x, y):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-3, 4) if torch.equal(_shift(xi, dy, dx), yi)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 15 and {dy for dy, _ in seen} == set(range(-2, 3))


def test_cutout_zeroes_one_rectangle_of_half_the_sides():
    h, w = 12, 16
    y = cutout(torch.ones(200, 3, h, w), gen())
    assert torch.equal(y[:, 0], y[:, 2])  # the same mask for every channel
    full = 0
    for mask in y[:, 0] == 0:
        rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
        assert len(rows) <= h // 2 and len(cols) <= w // 2 and len(rows) > 0 and len(cols) > 0
        assert mask.sum() == len(rows) * len(cols)  # a filled axis-aligned rectangle
        full += int(len(rows) == h // 2 and len(cols) == w // 2)
    assert 20 < full < 200  # some sit inside the image, others are clipped by the border


def test_colour_operations_keep_the_means_they_should():
    x = images(32, 3, 8, 8)
    shift = brightness(x, gen()) - x
    assert torch.allclose(shift, shift[:, :1, :1, :1].expand_as(shift), atol=1e-6)
    assert shift.abs().max() <= 0.5
    assert torch.allclose(saturation(x, gen()).mean(1), x.mean(1), atol=1e-5)  # per-pixel grey kept
    assert torch.allclose(contrast(x, gen()).mean((1, 2, 3)), x.mean((1, 2, 3)), atol=1e-5)
    grey = images(4, 1, 8, 8)
    assert torch.allclose(saturation(grey, gen()), grey)  # nothing to saturate in one channel


def test_penalties_differentiate_through_the_augmentation_twice():
    # R1 / WGAN-GP on D(augment(x)): the gradient w.r.t. the un-augmented x, then its norm's
    # gradient w.r.t. D's weights (double backward through gather, mask and colour ops).
    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Softplus(), torch.nn.Flatten(),
                            torch.nn.Linear(4 * 8 * 8, 1))
    x = images(4, 3, 8, 8).contiguous(memory_format=torch.channels_last).requires_grad_()
    logits = D(diff_augment(x, ALL, gen()))
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    grad.pow(2).sum().backward()
    weights = [D[0].weight, D[0].bias, D[3].weight]  # the last bias does not change dD/dx
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
               for p in weights)

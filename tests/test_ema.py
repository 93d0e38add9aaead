"""ganforge.training.ema: the decay from a half-life in images, the update by hand, buffers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganforge.models import dcgan
from ganforge.training.ema import EMA


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def set_all(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)


@pytest.mark.parametrize("h, b", [(10_000, 64), (500, 32), (1000, 1000), (64, 512)])
def test_beta_after_the_ramp_up_is_one_half_to_the_batch_over_the_half_life(h, b):
    ema = EMA(net(), half_life_images=h, rampup=0.05)
    past_rampup = int(h / 0.05) + b    # images_seen * rampup >= h
    assert ema.beta(past_rampup, b) == pytest.approx(0.5 ** (b / h), rel=1e-12)
    assert ema.beta(10 ** 9, b) == pytest.approx(0.5 ** (b / h), rel=1e-12)
    # without ramp-up the half-life holds from the start
    assert EMA(net(), h, rampup=0).beta(b, b) == pytest.approx(0.5 ** (b / h), rel=1e-12)


def test_beta_during_the_ramp_up_uses_the_shorter_half_life():
    ema = EMA(net(), half_life_images=10_000, rampup=0.05)
    # 64_000 images seen: half-life min(10_000, 3_200) = 3_200 images
    assert ema.beta(64_000, 64) == pytest.approx(0.5 ** (64 / 3_200), rel=1e-12)
    assert ema.beta(0, 64) == 0.0  # nothing seen yet: copy the weights
    betas = [ema.beta(n, 64) for n in range(64, 400_000, 6_400)]
    assert betas == sorted(betas) and 0 < betas[0] < betas[-1] == pytest.approx(0.5 ** (64 / 10_000))


def test_the_half_life_means_half_the_weight_after_h_images_at_any_batch_size():
    # EMA weights 0, source constant 1: after updates covering h images, the EMA is 1 - 0.5 = 0.5
    for b in (8, 25, 100):
        src, h = net(), 400
        ema = EMA(src, half_life_images=h, rampup=0)
        set_all(ema.model, 0.0)
        set_all(src, 1.0)
        for step in range(1, h // b + 1):
            ema.update(src, step * b, b)
        for p in ema.model.parameters():
            torch.testing.assert_close(p, torch.full_like(p, 0.5), rtol=1e-5, atol=1e-6)


def test_one_update_is_the_lerp_computed_by_hand():
    src = net()
    ema = EMA(src, half_life_images=1000, rampup=0)
    old = [p.detach().clone() for p in ema.model.parameters()]
    with torch.no_grad():
        for i, p in enumerate(src.parameters()):
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
    new = [p.detach().clone() for p in src.parameters()]
    ema.update(src, images_seen=5000, batch_size=100)
    beta = 0.5 ** (100 / 1000)
    for o, n, e in zip(old, new, ema.model.parameters()):
        torch.testing.assert_close(e, beta * o + (1 - beta) * n, rtol=1e-6, atol=1e-7)
    # the source is left alone
    for n, s in zip(new, src.parameters()):
        assert torch.equal(n, s)


def test_half_life_zero_makes_the_ema_a_copy():
    src = net()
    ema = EMA(src, half_life_images=0)
    assert ema.beta(12345, 64) == 0.0
    with torch.no_grad():
        for p in src.parameters():
            p.mul_(-3).add_(1)
    ema.update(src, 64, 64)
    for s, e in zip(src.state_dict().values(), ema.model.state_dict().values()):
        assert torch.equal(s, e)


def test_batchnorm_buffers_are_copied_not_averaged():
    src = dcgan.Generator(z_dim=4, resolution=8, channels=1, width=4)
    ema = EMA(src, half_life_images=10_000, rampup=0)
    src.train()
    with torch.no_grad():
        for _ in range(3):
            src(torch.randn(16, 4))
    ema.update(src, 10_000, 16)
    src_buffers, ema_buffers = dict(src.named_buffers()), dict(ema.model.named_buffers())
    assert src_buffers.keys() == ema_buffers.keys() and any("running_var" in k for k in src_buffers)
    for k in src_buffers:
        assert torch.equal(src_buffers[k], ema_buffers[k]), k
    assert int(ema_buffers["net.1.num_batches_tracked"]) == 3
    # while the parameters did average: beta ≈ 0.999 keeps them near the initial copy
    assert ema.beta(10_000, 16) == pytest.approx(0.5 ** (16 / 10_000))


def test_the_ema_model_is_a_frozen_eval_copy_that_shares_no_storage():
    src = net().train()
    ema = EMA(src, half_life_images=100)
    assert not ema.model.training and src.training
    assert not any(p.requires_grad for p in ema.model.parameters())
    assert all(p.requires_grad for p in src.parameters())
    for s, e in zip(src.parameters(), ema.model.parameters()):
        assert torch.equal(s, e) and s.data_ptr() != e.data_ptr()
    with torch.no_grad():
        next(src.parameters()).add_(1.0)
    assert not torch.equal(next(src.parameters()), next(ema.model.parameters()))

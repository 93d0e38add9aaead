"""ganforge.models: shapes, ranges, attributes, build_models errors, per-sample independence,
spectral norm, and the resolution plan (square and not) against brute force."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganforge.config import Config, merge
from ganforge.errors import GanforgeError
from ganforge.models import build_models, dcgan, mlp, resnet, toy
from ganforge.models.layers import ClassBatchNorm2d, plan


def config(family="dcgan", loss="non-saturating", width=8, z_dim=6, **model) -> Config:
    return merge(Config(), {"data": {"source": "test"}, "loss": {"name": loss},
                            "model": {"family": family, "width": width, "z_dim": z_dim, **model}})


def has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def weight_layers(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]


# ---------------------------------------------------------------- layers.plan

def test_square_plan_matches_brute_force_over_all_resolutions_up_to_1024():
    # truth: b * 2^k for k >= 1 and base b in 3..7 that cannot be halved again into 3..7
    # (6 * 2^k is 3 * 2^(k+1)): the old 4 * 2^k and 7 * 2^k plans are unchanged
    truth = {b * 2**k: (b, b, k) for b in (3, 4, 5, 7) for k in range(1, 11) if b * 2**k <= 1024}
    for r in range(-2, 1025):
        assert plan(r) == truth.get(r), r


def test_non_square_plan_matches_brute_force():
    # truth: the largest k >= 1 with both sides b * 2^k and the shorter base in 3..7
    def brute(h, w):
        for k in range(10, 0, -1):
            if h % 2**k == 0 and w % 2**k == 0 and 3 <= min(h, w) // 2**k <= 7:
                return h // 2**k, w // 2**k, k
        return None
    for h in range(1, 200):
        for w in range(1, 200, 7):
            assert plan((h, w)) == brute(h, w), (h, w)


@pytest.mark.parametrize("res, expected", [(8, (4, 4, 1)), (14, (7, 7, 1)), (16, (4, 4, 2)), (28, (7, 7, 2)),
                                           (32, (4, 4, 3)), (64, (4, 4, 4)), (56, (7, 7, 3)), (4, None),
                                           (7, None), (20, (5, 5, 2)), (48, (3, 3, 4)), (12, (3, 3, 2)),
                                           (0, None), (100, None), ((48, 64), (3, 4, 4)), ("64x48", (3, 4, 4)),
                                           ((64, 48), (4, 3, 4)), ((16, 8), (8, 4, 1)), ((50, 64), None),
                                           ("64y48", None)])
def test_plan_by_hand(res, expected):
    assert plan(res) == expected


def test_networks_refuse_a_resolution_they_cannot_make_with_a_clear_error():
    for cls in (dcgan.Generator, dcgan.Discriminator, resnet.Generator, resnet.Discriminator):
        with pytest.raises(ValueError, match="cannot make 100 px"):
            cls(resolution=100)
        with pytest.raises(ValueError, match=r"cannot make 64x50 \(width x height\)"):
            cls(resolution=[50, 64])


# ---------------------------------------------------------------- shapes, ranges, attributes

@pytest.mark.parametrize("res", [8, 14, 16, 28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("c_dim", [0, 3])
def test_dcgan_shapes_range_and_attributes(res, channels, c_dim):
    torch.manual_seed(0)
    G = dcgan.Generator(z_dim=5, resolution=res, channels=channels, width=4, c_dim=c_dim)
    D = dcgan.Discriminator(resolution=res, channels=channels, width=4, c_dim=c_dim)
    check_pair(G, D, 5, c_dim, res, channels, (channels, res, res), image=True)


@pytest.mark.parametrize("res", [8, 16, 28])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("c_dim", [0, 4])
def test_mlp_shapes_range_and_attributes(res, channels, c_dim):
    torch.manual_seed(0)
    G = mlp.Generator(z_dim=5, resolution=res, channels=channels, width=8, c_dim=c_dim)
    D = mlp.Discriminator(resolution=res, channels=channels, width=8, c_dim=c_dim)
    check_pair(G, D, 5, c_dim, res, channels, (channels, res, res), image=True)


@pytest.mark.parametrize("res", [8, 16, 32])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("c_dim", [0, 3])
def test_resnet_shapes_range_and_attributes(res, channels, c_dim):
    torch.manual_seed(0)
    G = resnet.Generator(z_dim=5, resolution=res, channels=channels, width=4, c_dim=c_dim)
    D = resnet.Discriminator(resolution=res, channels=channels, width=4, c_dim=c_dim)
    check_pair(G, D, 5, c_dim, res, channels, (channels, res, res), image=True)


def test_resnet_has_the_sngan_layout_at_32_and_64_px():
    for res, blocks in ((32, 3), (64, 4)):
        G = resnet.Generator(z_dim=128, resolution=res, channels=3, width=32)
        D = resnet.Discriminator(resolution=res, channels=3, width=32)
        assert len(G.blocks) == blocks and len(D.blocks) == blocks + 1  # + one block at 4x4
        h = G.linear(torch.randn(2, 128)).view(2, -1, 4, 4)
        assert G.blocks(h).shape[2:] == (res, res)
        assert D.blocks(torch.randn(2, 3, res, res)).shape[2:] == (4, 4)
        assert not has_batchnorm(D) and has_batchnorm(G)


@pytest.mark.parametrize("family, res", [("dcgan", 16), ("mlp", 8), ("resnet", 16)])
@pytest.mark.parametrize("conditioning", ["concat", "projection", "acgan"])
def test_every_image_family_supports_every_conditioning(family, res, conditioning):
    torch.manual_seed(0)
    cfg = config(family, conditional=True, conditioning=conditioning, spectral_norm=family == "resnet")
    G, D = build_models(cfg, "images", (1, res, res), 4)
    D.eval()  # spectral norm's power iteration would move between calls in train mode
    z, c = torch.randn(6, 6), torch.tensor([0, 1, 2, 3, 0, 1])
    x = G(z, c)
    assert x.shape == (6, 1, res, res)
    logits, class_logits = D.forward_with_classes(x, c)
    assert torch.equal(logits, D(x, c)) and logits.shape == (6,)
    other = (c + 1) % 4
    if conditioning == "acgan":  # D ignores the label and classifies instead
        assert class_logits.shape == (6, 4) and torch.equal(D(x, other), logits)
    else:  # the label changes D's verdict, through its input (concat) or the projection
        assert class_logits is None and not torch.allclose(D(x, other), logits)
        assert (D.head.embed is not None) == (conditioning == "projection")


@pytest.mark.parametrize("family, res", [("dcgan", 16), ("resnet", 16)])
def test_a_batchnorm_conditioned_g_takes_the_label_in_every_norm_and_not_beside_z(family, res):
    torch.manual_seed(0)
    G, _ = build_models(config(family, conditional=True, g_conditioning="batchnorm"), "images", (1, res, res), 4)
    norms = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    per_class = [m for m in G.modules() if isinstance(m, ClassBatchNorm2d)]
    assert norms and len(per_class) == len(norms)  # every BN of G is class-conditional
    assert all(not m.bn.affine for m in per_class)  # the scale and shift are the per-class ones
    first = G.net[0] if family == "dcgan" else G.linear
    assert (first.in_channels if family == "dcgan" else first.in_features) == 6  # z only (z_dim 6)
    z, c = torch.randn(8, 6), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    with torch.no_grad():
        for m in per_class:  # distinct per-class scales, as after training
            m.gain.weight.normal_(1.0, 0.3)
            m.shift.weight.normal_(0.0, 0.3)
    G.eval()  # running statistics: a sample's image must depend on its own label only
    x = G(z, c)
    assert x.shape == (8, 1, res, res)
    assert not torch.allclose(G(z, (c + 1) % 4), x)
    flipped = c.clone()
    flipped[0] = 3
    y = G(z, flipped)
    assert not torch.allclose(y[0], x[0]) and torch.equal(y[1:], x[1:])
    with pytest.raises(ValueError, match="conditional on 4 classes"):
        G(z)


@pytest.mark.parametrize("family", ["dcgan", "resnet"])
def test_a_concat_g_keeps_its_layout_and_state_dict_keys(family):
    """Exports from before g_conditioning existed must load into the same modules."""
    G, _ = build_models(config(family, conditional=True), "images", (1, 16, 16), 4)
    assert not any(isinstance(m, ClassBatchNorm2d) for m in G.modules()) and "g_conditioning" not in G.hparams
    mod = dcgan if family == "dcgan" else resnet
    old = mod.Generator(6, 16, 1, 8, 4)  # the positional signature exports are rebuilt with
    assert old.state_dict().keys() == G.state_dict().keys()


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("c_dim", [0, 2])
def test_toy_shapes_and_attributes(dim, c_dim):
    torch.manual_seed(0)
    G = toy.Generator(z_dim=4, dim=dim, width=16, depth=2, c_dim=c_dim)
    D = toy.Discriminator(dim=dim, width=16, depth=2, c_dim=c_dim)
    check_pair(G, D, 4, c_dim, 0, dim, (dim,), image=False)


@pytest.mark.parametrize("family", ["dcgan", "resnet", "mlp"])
@pytest.mark.parametrize("hw", [(48, 64), (64, 48), (28, 56)])
@pytest.mark.parametrize("c_dim", [0, 3])
def test_non_square_shapes_range_and_attributes(family, hw, c_dim):
    torch.manual_seed(0)
    mod = {"dcgan": dcgan, "resnet": resnet, "mlp": mlp}[family]
    G = mod.Generator(z_dim=5, resolution=list(hw), channels=3, width=4, c_dim=c_dim)
    D = mod.Discriminator(resolution=list(hw), channels=3, width=4, c_dim=c_dim)
    assert G.image_size == D.image_size == hw
    check_pair(G, D, 5, c_dim, list(hw), 3, (3, *hw), image=True)


def test_build_models_makes_non_square_images_and_records_height_width():
    G, D = build_models(config("dcgan"), "images", (3, 48, 64), 0)
    assert G.hparams["resolution"] == D.hparams["resolution"] == [48, 64]
    assert G(torch.randn(2, 6)).shape == (2, 3, 48, 64)
    G, _ = build_models(config("dcgan"), "images", (3, 32, 32), 0)
    assert G.hparams["resolution"] == 32  # square models keep an int, as exports always had


def check_pair(G, D, z_dim, c_dim, res, channels, sample_shape, image):
    assert (G.z_dim, G.c_dim, G.resolution, G.channels) == (z_dim, c_dim, res, channels)
    assert (D.c_dim, D.resolution, D.channels) == (c_dim, res, channels)
    B = 5
    g = torch.Generator().manual_seed(1)
    z = torch.randn(B, z_dim, generator=g)
    c = torch.tensor([0, 1, 0, 1, 1]) if c_dim else None
    x = G(z, c)
    assert x.shape == (B, *sample_shape) and torch.isfinite(x).all()
    if image:  # tanh output; scale the last layer up so that it actually saturates
        assert x.abs().max() <= 1
        with torch.no_grad():
            weight_layers(G)[-1].weight.mul_(1e4)
        x_big = G(z, c)
        assert x_big.abs().max() <= 1 and x_big.abs().max() > 0.999
    logits = D(x, c)
    assert logits.shape == (B,) and torch.isfinite(logits).all()
    if c_dim:
        # the label is used: another class gives another output, by G and by D
        c2 = (c + 1) % c_dim
        assert not torch.allclose(G(z, c), G(z, c2))
        assert not torch.allclose(D(x, c), D(x, c2))
        with pytest.raises(ValueError, match="conditional"):
            G(z)


def test_dcgan_init_is_normal_0_02_even_under_spectral_norm():
    torch.manual_seed(0)
    for sn in (False, True):
        D = dcgan.Discriminator(resolution=32, channels=3, width=32, spectral_norm=sn, batchnorm=False)
        convs = weight_layers(D)
        raw = [m.parametrizations.weight.original if sn else m.weight for m in convs]
        big = raw[2]  # 128 x 64 x 4 x 4 weights: std within a few percent of 0.02
        assert big.std().item() == pytest.approx(0.02, rel=0.05)
        assert big.mean().abs().item() < 0.002
        assert all(m.bias is None or (m.bias == 0).all() for m in convs)


# ---------------------------------------------------------------- build_models

def test_build_models_picks_the_family_and_passes_the_shape():
    G, D = build_models(config("dcgan"), "images", (3, 28, 28), 0)
    assert isinstance(G, dcgan.Generator) and isinstance(D, dcgan.Discriminator)
    assert (G.z_dim, G.channels, G.resolution, G.c_dim) == (6, 3, 28, 0)
    G, D = build_models(config("mlp", conditional=True), "images", (1, 16, 16), 10)
    assert isinstance(G, mlp.Generator) and (G.c_dim, D.c_dim, G.resolution) == (10, 10, 16)
    G, D = build_models(config("toy", depth=3), "points", (2,), 0)
    assert isinstance(G, toy.Generator) and G(torch.randn(4, 6)).shape == (4, 2)
    assert len(weight_layers(G)) == 4  # depth 3 hidden layers + output


@pytest.mark.parametrize("family, kind, shape, classes, cfg_extra, match", [
    ("dcgan", "images", (1, 25, 25), 0, {}, "dcgan cannot make 25 px .*shorter side's base 3 to 7"),
    ("dcgan", "images", (3, 100, 100), 0, {}, "dcgan cannot make 100 px"),
    ("resnet", "images", (3, 50, 64), 0, {}, r"resnet cannot make 64x50 \(width x height\) images"),
    ("dcgan", "images", (1, 16, 16), 3, {"conditional": True, "conditioning": "film"}, "unknown conditioning 'film'"),
    ("toy", "points", (2,), 3, {"conditional": True, "conditioning": "acgan"}, "concatenation only"),
    ("toy", "images", (1, 16, 16), 0, {}, "model 'toy' makes points"),
    ("dcgan", "points", (2,), 0, {}, "model 'dcgan' makes images"),
    ("dcgan", "images", (1, 16, 16), 0, {"conditional": True}, "conditional model needs labels"),
    ("toy", "points", (2,), 0, {"conditional": True}, "conditional model needs labels"),
    ("dcgan", "images", (1, 16, 16), 3, {"conditional": True, "g_conditioning": "film"},
     "unknown generator conditioning 'film'"),
    ("dcgan", "images", (1, 16, 16), 0, {"g_conditioning": "batchnorm"},
     "--g-conditioning batchnorm is for conditional dcgan and resnet generators .this one is unconditional dcgan"),
    ("mlp", "images", (1, 16, 16), 3, {"conditional": True, "g_conditioning": "batchnorm"},
     "this one is conditional mlp"),
])
def test_build_models_errors_are_one_line_ganforge_errors(family, kind, shape, classes, cfg_extra, match):
    with pytest.raises(GanforgeError, match=match) as e:
        build_models(config(family, **cfg_extra), kind, shape, classes)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("loss, sn, r1, expect_bn", [("non-saturating", False, 0.0, True),
                                                     ("wgan", False, 0.0, True),
                                                     ("wgan-gp", False, 0.0, False),
                                                     ("hinge", True, 0.0, False),
                                                     ("non-saturating", False, 1.0, False)])
def test_dcgan_d_has_batchnorm_only_without_per_sample_penalties_or_spectral_norm(loss, sn, r1, expect_bn):
    cfg = config("dcgan", loss=loss, spectral_norm=sn)
    cfg.loss.r1_gamma = r1
    G, D = build_models(cfg, "images", (1, 16, 16), 0)
    assert has_batchnorm(D) == expect_bn
    assert has_batchnorm(G)  # G keeps its BatchNorm: no penalty differentiates G per sample


def per_sample_jacobian_is_block_diagonal(D, x) -> bool:
    """Whether logit i depends on sample i only (train mode, where BatchNorm would mix)."""
    D.train()
    J = torch.autograd.functional.jacobian(lambda inp: D(inp), x)  # (B, B, *sample)
    B = x.shape[0]
    off = J.flatten(2).abs().sum(2) * (1 - torch.eye(B))  # (B, B), zero diagonal
    return bool(off.max() == 0) and bool(J.flatten(2).abs().sum(2).diagonal().min() > 0)


@pytest.mark.parametrize("family, shape", [("dcgan", (1, 16, 16)), ("mlp", (1, 8, 8)), ("toy", (2,)),
                                           ("resnet", (1, 8, 8))])
def test_with_wgan_gp_a_logit_depends_only_on_its_own_sample(family, shape):
    torch.manual_seed(0)
    kind = "points" if family == "toy" else "images"
    _, D = build_models(config(family, loss="wgan-gp"), kind, shape, 0)
    x = torch.randn(4, *shape)
    assert per_sample_jacobian_is_block_diagonal(D, x)
    # the check has teeth: the default dcgan D (BatchNorm, non-saturating) mixes samples
    if family == "dcgan":
        _, D_bn = build_models(config(family), kind, shape, 0)
        assert not per_sample_jacobian_is_block_diagonal(D_bn, x)


@pytest.mark.parametrize("family, shape", [("dcgan", (3, 32, 32)), ("mlp", (1, 8, 8)), ("toy", (2,)),
                                           ("resnet", (3, 16, 16))])
def test_spectral_norm_makes_each_d_weight_have_largest_singular_value_one(family, shape):
    torch.manual_seed(0)
    kind = "points" if family == "toy" else "images"
    _, D = build_models(config(family, width=16, spectral_norm=True), kind, shape, 0)
    layers = weight_layers(D)
    assert layers and all(nn.utils.parametrize.is_parametrized(m, "weight") for m in layers)
    x = torch.randn(2, *shape)
    D.train()
    for _ in range(50):  # one power iteration per forward pass
        D(x)
    D.eval()
    for m in layers:
        W = m.weight.detach().reshape(m.weight.shape[0], -1)
        assert torch.linalg.matrix_norm(W, ord=2).item() == pytest.approx(1.0, abs=0.01)
        raw = m.parametrizations.weight.original.detach().reshape(W.shape)
        assert torch.linalg.matrix_norm(raw, ord=2).item() != pytest.approx(1.0, abs=0.05)  # it did something

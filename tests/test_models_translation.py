"""U-Net, PatchGAN, CycleGAN's ResNet translator and pair: shapes (square and not), ranges, skips,
dropout, receptive field vs the gradient's support, conditioning, rebuilding from hparams, errors."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from ganforge.models import DISCRIMINATORS, TRANSLATORS, patchgan, resnet_translator, translator_pair, unet

def hw(res) -> tuple[int, int]:
    return (res, res) if isinstance(res, int) else tuple(res)


def translators(res, width=8):
    return [unet.Generator(3, 1, res, width), resnet_translator.Generator(3, 1, res, width, blocks=2),
            translator_pair.Generator(3, 1, res, width, blocks=1)]


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# ---------------------------------------------------------------- shapes, ranges, attributes

@pytest.mark.parametrize("res", [32, 64, [64, 32]])  # [height, width]
def test_translators_keep_the_size_and_stay_in_range(res):
    torch.manual_seed(0)
    x = torch.randn(2, 3, *hw(res)) * 3
    for G in translators(res):
        assert G.kind == "translator" and G.in_channels == 3 and G.channels == 1
        assert G.image_size == hw(res) and G.resolution == res
        y = G(x)
        assert y.shape == (2, 1, *hw(res)) and y.abs().max() <= 1
    assert G(x[:, :1], "b2a").shape == (2, 3, *hw(res))         # G is the pair now


def test_translators_are_fully_convolutional_over_multiples_and_resnet_blocks():
    G = unet.Generator(3, 3, 32, width=8)                        # depth 5
    assert G.depth == 5 and G.multiple == 32
    assert G(torch.randn(1, 3, 64, 96)).shape == (1, 3, 64, 96)
    R = resnet_translator.Generator(3, 3, 32, width=8, blocks=1)
    assert R.multiple == 4 and R(torch.randn(1, 3, 36, 20)).shape == (1, 3, 36, 20)
    with pytest.raises(ValueError, match=r"unet cannot translate 48x32 \(width x height\) inputs \(depth 5\)"):
        G(torch.randn(1, 3, 32, 48))
    with pytest.raises(ValueError, match="multiples of 4"):
        R(torch.randn(1, 3, 30, 32))
    with pytest.raises(ValueError, match="resnet-translator cannot translate 30 px images: .* multiples of 4"):
        resnet_translator.Generator(3, 3, 30)
    assert sum(isinstance(m, resnet_translator.ResidualBlock) for m in R.modules()) == R.blocks == 1
    assert [resnet_translator.Generator(3, 3, r, 4).blocks for r in (128, [256, 128])] == [6, 9]


@pytest.mark.parametrize("res, patches", [(32, (2, 2)), (64, (6, 6)), ([64, 32], (6, 2)), (256, (30, 30))])
def test_patchgan_patch_map(res, patches):
    assert ((D := patchgan.Discriminator(3, width=8)).c_dim, D.channels, D.cond_channels) == (0, 3, 0)
    assert D(torch.randn(2, 3, *hw(res))).shape == (2, 1, *patches)


# ---------------------------------------------------------------- U-Net: depth, skips, dropout

def test_unet_depth_defaults_errors_and_layers():
    for res, depth in [(256, 8), (512, 8), (32, 5), (28, 2), ([64, 32], 5), ([48, 64], 4)]:
        assert unet.default_depth(hw(res)) == depth
    for res, depth, says in [(28, 3, "28 px"), ([48, 64], 5, r"64x48 \(width x height\)"), (27, None, "27 px")]:
        with pytest.raises(ValueError, match=f"^unet cannot translate {says} images at depth {depth or 0}: "):
            unet.Generator(3, 3, res, depth=depth)
    assert unet.Generator(3, 3, 32, width=4, depth=2).multiple == 4
    G = unet.Generator(3, 3, 256, width=2)                       # the paper's widths, norms and noise
    assert [b.out_channels if isinstance(b, nn.Conv2d) else b[1].out_channels for b in G.down] == \
        [2, 4, 8, 16, 16, 16, 16, 16]
    norms = [any(isinstance(m, nn.BatchNorm2d) for m in b.modules()) for b in G.down]
    assert norms == [False] + [True] * 6 + [False]               # not the first, not the innermost
    assert [any(isinstance(m, nn.Dropout) for m in b.modules()) for b in G.up] == [False] * 5 + [True] * 3


def test_unet_skip_connections_carry_the_input_past_a_dead_bottleneck():
    torch.manual_seed(0)
    G = unet.Generator(3, 3, 32, width=8, norm="none").eval()
    for m in G.up[-1].modules():                                 # the innermost block outputs zeros
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.zeros_(m.weight), nn.init.zeros_(m.bias)
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    G(x).sum().backward()
    assert x.grad.abs().sum() > 0
    assert not torch.allclose(G(x), G(torch.randn(1, 3, 32, 32)))


def test_unet_dropout_is_noise_in_train_mode_and_off_in_eval_mode():
    torch.manual_seed(0)
    G, x = unet.Generator(3, 3, 32, width=8), torch.randn(2, 3, 32, 32)
    assert not torch.equal(G(x), G(x))
    assert torch.equal(G.eval()(x), G(x))
    assert sum(isinstance(m, nn.Dropout) for m in unet.Generator(3, 3, 28, width=4).modules()) == 1
    assert not any(isinstance(m, nn.Dropout) for m in unet.Generator(3, 3, 32, width=4, dropout=0).modules())


@pytest.mark.parametrize("norm, layer", [("instance", nn.InstanceNorm2d), ("none", None), ("batch", nn.BatchNorm2d)])
def test_norm_choices(norm, layer):
    for m in (unet.Generator(3, 3, 32, 4, norm=norm), resnet_translator.Generator(3, 3, 32, 4, 1, norm),
              patchgan.Discriminator(3, width=4, norm=norm)):
        found = [x for x in m.modules() if isinstance(x, (nn.BatchNorm2d, nn.InstanceNorm2d))]
        assert all(type(x) is layer for x in found) and bool(found) == (layer is not None)
        assert all(not x.affine for x in found if isinstance(x, nn.InstanceNorm2d))
    with pytest.raises(ValueError, match="unknown norm 'layer' \\(expected one of: batch, instance, none\\)"):
        unet.Generator(3, 3, 32, norm="layer")


def test_patchgan_spectral_norm_replaces_the_norm_layers():
    D = patchgan.Discriminator(3, width=4, spectral_norm=True)
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5 and all(nn.utils.parametrize.is_parametrized(m, "weight") for m in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())


# ---------------------------------------------------------------- PatchGAN

@pytest.mark.parametrize("layers, field", [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field_matches_the_gradient_support(layers, field):
    torch.manual_seed(0)
    D = patchgan.Discriminator(1, width=4, layers=layers).double().eval()  # eval: BN mixes no positions
    assert D.receptive_field == field
    x = torch.randn(1, 1, 128, 128, dtype=torch.float64, requires_grad=True)
    (out := D(x))[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows, cols = x.grad[0, 0].abs().gt(0).nonzero().unbind(1)
    assert rows.min() > 0 and rows.max() < 127 and cols.min() > 0  # a central patch: the window is unclipped
    assert rows.max() - rows.min() + 1 == field and cols.max() - cols.min() + 1 == field


def test_patchgan_conditioning_concatenates_the_image():
    torch.manual_seed(0)
    D = patchgan.Discriminator(3, cond_channels=2, width=4).eval()
    assert D.net[0].in_channels == 5
    x, c = torch.randn(2, 3, 32, 32), torch.randn(2, 2, 32, 32)
    assert D(x, c).shape == (2, 1, 2, 2) and not torch.allclose(D(x, c), D(x, torch.randn_like(c)))
    for bad, got in [(None, "none"), (torch.randn(2, 3, 32, 32), r"\(2, 3, 32, 32\)"),
                     (torch.randn(2, 2, 16, 32), r"\(2, 2, 16, 32\)")]:
        with pytest.raises(ValueError, match=rf"pass c of shape \(2, 2, 32, 32\), got {got}$"):
            D(x, bad)
    with pytest.raises(ValueError, match=r"unconditional \(cond_channels=0\): pass c=None"):
        patchgan.Discriminator(3, width=4)(x, c)


# ---------------------------------------------------------------- ResNet translator, pair, hparams, sizes

def test_pair_directions_and_its_error():
    torch.manual_seed(0)
    P = translator_pair.Generator(3, 3, 32, 4, blocks=1, channels_b=1).eval()
    assert P.directions == ("a2b", "b2a") and P.channels == 1 and P.multiple == 4
    assert (P.a2b.in_channels, P.a2b.channels, P.b2a.in_channels, P.b2a.channels) == (3, 1, 1, 3)
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(P(x), P.a2b(x)) and torch.equal(P(P(x), "b2a"), P.b2a(P.a2b(x)))
    assert n_params(P) == n_params(P.a2b) + n_params(P.b2a)
    with pytest.raises(ValueError, match=r"^unknown direction 'ab' \(expected 'a2b' or 'b2a'\)$"):
        P(x, "ab")


@pytest.mark.parametrize("res", [32, [64, 32]])
def test_rebuilt_from_hparams_loads_the_weights_and_gives_the_same_outputs(res):
    torch.manual_seed(0)
    x = torch.randn(2, 3, *hw(res))
    nets = translators(res) + [patchgan.Discriminator(1, cond_channels=3, width=4, spectral_norm=True),
                               patchgan.Discriminator(1, cond_channels=3, width=4, norm="instance")]
    for m in nets:
        copy = type(m)(**json.loads(json.dumps(m.hparams)))
        copy.load_state_dict(m.state_dict())
        m.eval(), copy.eval()  # dropout off
        args = (x[:, :1], x) if isinstance(m, patchgan.Discriminator) else (x,)  # D: (output, condition)
        assert torch.equal(m(*args), copy(*args)), type(m).__module__

def test_registries_and_parameter_counts_at_the_papers_sizes():
    from ganforge.models import inpainter, srresnet
    assert TRANSLATORS == {"unet": unet, "resnet-translator": resnet_translator, "translator-pair": translator_pair,
                           "srresnet": srresnet, "inpainter": inpainter}
    assert DISCRIMINATORS == {"patchgan": patchgan}
    # pytorch-CycleGAN-and-pix2pix's unet_256 has 54,413,955 (54.414 M); ours 576 more, biases on the
    # two encoder convs no norm follows (64 + 512). Its resnet_9blocks: 11.378 M; its basic D by hand:
    # 3136 + 131328 + 524800 + 2098176 + 8193 at 3 channels, + 3072 for pix2pix's 3-channel condition.
    assert n_params(unet.Generator(3, 3, 256)) == 54_413_955 + 576
    assert n_params(resnet_translator.Generator(3, 3, 256)) == 11_378_179
    assert n_params(patchgan.Discriminator(3)) == 2_765_633
    assert n_params(patchgan.Discriminator(3, cond_channels=3)) == 2_765_633 + 3072

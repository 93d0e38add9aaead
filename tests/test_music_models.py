"""MuseGAN's networks and metrics: shapes of the three models, longer pieces, the Patch
layers against the convolutions they stand for, and the metrics on rolls with known answers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganforge.metrics.music import (
    QUALIFIED,
    empty_bars,
    in_key,
    music_metrics,
    polyphony,
    qualified_notes,
    tonal_distance,
    used_pitch_classes,
)
from ganforge.models.musegan import MODES, Discriminator, Generator, Patch

SHAPE = (4, 2, 16, 24)  # tracks, bars, steps, pitches


@pytest.mark.parametrize("mode", MODES)
def test_every_model_makes_rolls_and_is_judged_per_phrase(mode: str):
    torch.manual_seed(0)
    G, D = Generator(40, *SHAPE, mode=mode, width=8), Discriminator(*SHAPE, mode=mode, width=8)
    x = G(torch.randn(5, 40))
    assert x.shape == (5, *SHAPE) and x.abs().max() <= 1
    assert D(x).shape == (5,)
    assert G(torch.randn(3, 40), bars=7).shape == (3, 4, 7, 16, 24)  # the temporal GRU runs on


def test_how_tracks_share_the_latent():
    """hybrid: a track's private z changes that track only; composer: no private z at all."""
    torch.manual_seed(0)
    G = Generator(40, *SHAPE, mode="hybrid", width=8).eval()
    z = torch.randn(2, 40)
    z2 = z.clone()
    z2[:, 2 * G.part + 2 * G.part:2 * G.part + 4 * G.part] += 1  # track 1's private parts
    a, b = G(z), G(z2)
    changed = (a - b).abs().flatten(2).amax(-1).amax(0)          # (tracks,)
    assert changed[1] > 1e-3 and changed[0] == 0 and changed[2] == 0 and changed[3] == 0
    jam = Generator(40, *SHAPE, mode="jamming", width=8)
    assert len(jam.bar_generators) == 4 and jam.shared_temporal is None
    composer = Generator(40, *SHAPE, mode="composer", width=8)
    assert len(composer.bar_generators) == 1 and len(composer.private_temporal) == 0


def test_patch_layers_are_the_convolutions_they_replace():
    torch.manual_seed(0)
    down = Patch(3, 5, axis=1, k=4)                               # channels-last axes: 1 = H, 2 = W
    conv = nn.Conv2d(3, 5, (4, 1), (4, 1))
    with torch.no_grad():  # the same weights: the linear map's input is (k, C) flattened
        conv.weight.copy_(down.linear.weight.reshape(5, 4, 3).permute(0, 2, 1)[..., None])
        conv.bias.copy_(down.linear.bias)
    x = torch.randn(2, 3, 8, 6)                                   # (N, C, H, W)
    ours = down(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)        # channels-last through Patch
    assert torch.allclose(ours, conv(x), atol=1e-5)
    up = Patch(3, 5, axis=2, k=4, up=True)
    deconv = nn.ConvTranspose2d(3, 5, (1, 4), (1, 4))
    with torch.no_grad():
        deconv.weight.copy_(up.linear.weight.reshape(4, 5, 3).permute(2, 1, 0)[:, :, None])
        deconv.bias.copy_(up.linear.bias.reshape(4, 5)[0])
        up.linear.bias.copy_(deconv.bias.repeat(4))
    ours = up(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    assert ours.shape == (2, 5, 8, 24) and torch.allclose(ours, deconv(x), atol=1e-5)


def test_models_refuse_what_they_cannot_build():
    with pytest.raises(ValueError, match="unknown MuseGAN model"):
        Generator(40, *SHAPE, mode="orchestra")
    with pytest.raises(ValueError, match="z_dim >= 10"):
        Generator(8, *SHAPE, mode="hybrid")


# ----------------------------------------------------------------- the metrics
def roll(tracks: int = 2, bars: int = 2, pitches: int = 24) -> torch.Tensor:
    return torch.zeros(1, tracks, bars, 16, pitches, dtype=torch.bool)


def test_empty_bars_and_used_pitch_classes():
    r = roll()
    r[0, 0, 0, :4, [0, 4, 7]] = True          # a C major triad in track 0's first bar (low = C)
    r[0, 0, 1, :, 12] = True                  # a C an octave up through its second bar
    assert empty_bars(r).tolist() == [0.0, 100.0]
    upc = used_pitch_classes(r, low=48)
    assert upc[0] == pytest.approx(2.0) and math.isnan(upc[1])  # (3 + 1) / 2 bars; track 1 never sounds


def test_qualified_notes_and_polyphony():
    r = roll(tracks=1)
    r[0, 0, 0, 0:QUALIFIED, 0] = True         # a note just long enough
    r[0, 0, 0, 8:9, 2] = True                 # a short one
    r[0, 0, 0, 14:16, 5] = True               # runs into the next bar: one note of 2 + 3 steps
    r[0, 0, 1, 0:3, 5] = True
    assert qualified_notes(r).tolist() == [pytest.approx(200 / 3)]
    assert polyphony(r).item() == 0.0
    r[0, 0, 0, 0, 9] = True                   # one step of the 9 sounding ones now has two pitches
    assert polyphony(r).item() == pytest.approx(100 / 9)


def test_tonal_distance_and_in_key():
    r = roll()
    r[0, 0, :, :, [0, 4, 7]] = True           # C major in both bars of both tracks
    r[0, 1, :, :, [12, 16, 19]] = True
    assert tonal_distance(r, low=48)[(0, 1)] == pytest.approx(0.0, abs=1e-6)  # octaves do not matter
    far = roll()
    far[0, 0, :, :, [0, 4, 7]] = True
    far[0, 1, :, :, [6, 10, 13]] = True       # F# major: a tritone away
    assert tonal_distance(far, low=48)[(0, 1)] > 0.5
    assert in_key(r, low=48) == 100.0
    chromatic = roll(tracks=1, pitches=12)
    chromatic[0, 0, 0, :12] = torch.eye(12, dtype=torch.bool)  # every pitch class once
    assert in_key(chromatic, low=48) == pytest.approx(700 / 12)


def test_music_metrics_names_every_track_and_pair():
    m = music_metrics(torch.rand(3, 2, 2, 16, 24) > 0.9, 48, ["S", "B"])
    assert {"EB/S", "UPC/B", "QN/S", "PP/B", "TD/S-B", "IK"} <= set(m)


def test_a_music_discriminator_exports_beside_its_generator(tmp_path):
    from ganforge import modeling
    torch.manual_seed(0)
    G, D = Generator(40, *SHAPE, mode="jamming", width=8), Discriminator(*SHAPE, mode="jamming", width=8)
    modeling.save_pretrained(G, tmp_path / "m", {"kind": "music"}, discriminator=D)
    back = modeling.load_discriminator(tmp_path / "m")
    x = G.eval()(torch.randn(3, 40))
    assert torch.equal(back(x), D.eval()(x))

"""Latent-space pipelines: lerp/slerp, InterpolatePipeline (endpoints = generated samples,
GIF/PNG/NPY output, validation) and ProjectPipeline (recovers G's own images)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.modeling import save_pretrained
from ganforge.models import dcgan, toy
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.pipelines.interpolate import (
    InterpolatePipeline,
    lerp,
    parse_seeds,
    save_gif,
    seed_latent,
    slerp,
)
from ganforge.pipelines.project import ProjectPipeline


def tiny_dcgan(c_dim: int = 0, channels: int = 1, seed: int = 0, z_dim: int = 8) -> nn.Module:
    torch.manual_seed(seed)
    return dcgan.Generator(z_dim=z_dim, resolution=8, channels=channels, width=8, c_dim=c_dim).eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, object]:
    """An unconditional and a conditional tiny DCGAN, exported as `generate` would load them."""
    root = tmp_path_factory.mktemp("models")
    return {"plain": save_pretrained(tiny_dcgan(), root / "plain"),
            "cond": save_pretrained(tiny_dcgan(c_dim=3, channels=3), root / "cond")}


# ---------------------------------------------------------------- lerp / slerp

def test_lerp_and_slerp_shapes_and_endpoints():
    a, b = torch.randn(2, 5, generator=torch.Generator().manual_seed(0))
    for mix in (lerp, slerp):
        assert mix(a, b, 0.5).shape == (5,)
        path = mix(a, b, torch.linspace(0, 1, 7))
        assert path.shape == (7, 5)
        assert torch.allclose(path[0], a, atol=1e-6) and torch.allclose(path[-1], b, atol=1e-6)
    assert torch.allclose(lerp(a, b, 0.25), 0.75 * a + 0.25 * b)


def test_slerp_keeps_the_norm_of_unit_vectors_and_follows_the_great_circle():
    g = torch.Generator().manual_seed(1)
    a, b = nn.functional.normalize(torch.randn(2, 64, generator=g), dim=-1)
    path = slerp(a, b, torch.linspace(0, 1, 11))
    assert torch.allclose(path.norm(dim=-1), torch.ones(11), atol=1e-5)
    angles = torch.arccos((path[:-1] * path[1:]).sum(-1).clamp(-1, 1))
    assert torch.allclose(angles, angles.mean().expand(10), atol=1e-4)  # constant speed
    e1, e2 = torch.eye(2)
    assert torch.allclose(slerp(e1, e2, 0.5), torch.tensor([1.0, 1.0]) / math.sqrt(2))
    assert lerp(a, b, 0.5).norm() < 0.9  # what slerp avoids


def test_slerp_of_parallel_or_opposite_vectors_is_finite():
    a = torch.tensor([1.0, 2.0, 3.0])
    for b in (a, 2 * a, -a):
        out = slerp(a, b, torch.linspace(0, 1, 5))
        assert torch.isfinite(out).all() and torch.allclose(out, lerp(a, b, torch.linspace(0, 1, 5)))


# ---------------------------------------------------------------- interpolation

def test_endpoints_are_exactly_the_generated_samples_of_those_seeds(exported):
    walk = InterpolatePipeline.from_pretrained(exported["plain"])
    frames = walk(seeds=(3, 17), steps=6)
    assert frames.shape == (6, 1, 8, 8)
    gen = GeneratePipeline.from_pretrained(exported["plain"])
    for frame, seed in ((frames[0], 3), (frames[-1], 17)):
        sample = gen(1, seed=seed)[0]
        assert torch.allclose(frame, sample, atol=1e-6)
    z = walk.latents((3, 17), 6)
    assert torch.equal(z[0], torch.randn(1, 8, generator=torch.Generator().manual_seed(3))[0])
    assert torch.equal(z[-1], seed_latent(17, 8))
    assert len({tuple(f.flatten().tolist()) for f in frames}) == 6  # every frame differs


def test_conditional_walk_keeps_its_class(exported):
    walk = InterpolatePipeline.from_pretrained(exported["cond"])
    gen = GeneratePipeline.from_pretrained(exported["cond"])
    frames = walk(seeds=[5, 9], steps=4, label=2)
    assert frames.shape == (4, 3, 8, 8)
    assert torch.allclose(frames[0], gen(1, seed=5, classes=torch.tensor([2]))[0], atol=1e-6)
    assert torch.allclose(frames[-1], gen(1, seed=9, classes=torch.tensor([2]))[0], atol=1e-6)
    default = walk(seeds=[5, 9], steps=4)  # class 0, as `generate --seed 5` draws sample 0
    assert torch.allclose(default[0], gen(1, seed=5)[0], atol=1e-6)
    with pytest.raises(GanforgeError, match="from 0 to 2"):
        walk(seeds=[5, 9], label=3)


def test_longer_walks_pass_through_every_seed_and_batching_changes_nothing(exported):
    walk = InterpolatePipeline.from_pretrained(exported["plain"])
    z = walk.latents([1, 2, 3], steps=5, method="lerp")
    assert z.shape == (9, 8)
    for i, seed in zip((0, 4, 8), (1, 2, 3)):
        assert torch.equal(z[i], seed_latent(seed, 8))
    assert torch.allclose(walk([1, 2, 3], 5, batch_size=2), walk([1, 2, 3], 5), atol=1e-6)


def test_gif_png_and_npy_outputs(exported, tmp_path):
    walk = InterpolatePipeline.from_pretrained(exported["cond"])
    frames = walk(seeds=(0, 1), steps=5)
    gif = walk.save(frames, tmp_path / "walk.gif", fps=10, scale=3)
    with Image.open(gif) as im:
        assert im.n_frames == 5 and im.size == (24, 24) and im.info["loop"] == 0
        assert im.info["duration"] == 100
    with Image.open(save_gif(frames, tmp_path / "pp.gif", pingpong=True)) as im:
        assert im.n_frames == 8  # 0 1 2 3 4 3 2 1, then loops
    with Image.open(save_gif(frames, tmp_path / "once.gif", loop=False)) as im:
        assert "loop" not in im.info
    with Image.open(walk.save(frames, tmp_path / "strip.png")) as im:
        assert im.size == (5 * 10 + 2, 12)  # 8 px frames with 2 px gaps, one row
    arr = np.load(walk.save(frames, tmp_path / "walk.npy"))
    assert arr.shape == (5, 8, 8, 3) and arr.dtype == np.uint8
    assert [im.mode for im in walk(seeds=(0, 1), steps=2, output_type="pil")] == ["RGB", "RGB"]
    with pytest.raises(GanforgeError, match="expected .gif, .png or .npy"):
        walk.save(frames, tmp_path / "walk.mp4")
    grey = InterpolatePipeline.from_pretrained(exported["plain"])
    with Image.open(grey.save(grey(seeds=(3, 17), steps=7), tmp_path / "grey.gif")) as im:
        assert im.n_frames == 7 and im.size == (8, 8)


@pytest.mark.parametrize("kwargs, message", [
    ({"seeds": (3, 3)}, "consecutive seeds must differ"),
    ({"seeds": (3,)}, "two or more integer seeds"),
    ({"seeds": (3, "x")}, "two or more integer seeds"),
    ({"seeds": (3, 2**70)}, "out of range"),
    ({"steps": 1}, "steps must be an integer >= 2"),
    ({"method": "cubic"}, "expected one of: slerp, lerp"),
    ({"label": 1}, "not conditional"),
    ({"output_type": "gif"}, "output_type"),
    ({"batch_size": 0}, "batch_size"),
])
def test_interpolation_input_errors(exported, kwargs, message):
    with pytest.raises(GanforgeError, match=message):
        InterpolatePipeline.from_pretrained(exported["plain"])(**kwargs)


def test_points_models_are_refused_clearly():
    with pytest.raises(GanforgeError, match="generates points"):
        InterpolatePipeline(toy.Generator(z_dim=2, dim=2, width=8))(seeds=(0, 1))
    with pytest.raises(GanforgeError, match="generates points"):
        ProjectPipeline(toy.Generator(z_dim=2, dim=2, width=8))(torch.zeros(2))


def test_parse_seeds():
    assert parse_seeds("3,17") == [3, 17] and parse_seeds(" 1, 2,3") == [1, 2, 3]
    for bad in ("3", "3,x", "", "3;17"):
        with pytest.raises(GanforgeError, match="--interpolate expects"):
            parse_seeds(bad)


# ---------------------------------------------------------------- projection

def test_projection_recovers_an_image_the_generator_made():
    G = tiny_dcgan(seed=2)
    with torch.no_grad():
        target = G(seed_latent(11, 8)[None])  # (1, 1, 8, 8)
    pipe = ProjectPipeline(G)
    result = pipe(target, steps=80, restarts=4, lr=0.1, seed=0, progress=False)
    assert result.z.shape == (1, 8) and result.images.shape == (1, 1, 8, 8) and result.labels is None
    with torch.no_grad():
        assert torch.allclose(G(result.z), result.images, atol=1e-5)  # the reconstruction is G(z)
        start = (G(torch.randn(64, 8, generator=torch.Generator().manual_seed(5))) - target).pow(2).mean((1, 2, 3))
    assert result.mse.item() < 0.05 * start.median().item()
    assert result.mse.item() < 1e-4 and torch.equal(result.loss, result.mse)
    again = pipe(target, steps=80, restarts=4, lr=0.1, seed=0, progress=False)
    assert torch.equal(again.z, result.z)  # seeded


def test_projection_from_a_file_with_features_and_classes(tmp_path):
    G = tiny_dcgan(c_dim=3, channels=3, seed=3)
    with torch.no_grad():
        target = G(seed_latent(4, 8)[None], torch.tensor([1]))
    path = tmp_path / "target.png"
    Image.fromarray(GeneratePipeline(G).to_numpy(target)[0]).resize((16, 16), Image.Resampling.NEAREST).save(path)
    features = nn.Sequential(nn.AvgPool2d(2), nn.Flatten())
    result = ProjectPipeline(G)([path, target[0]], steps=40, restarts=2, features=features,
                                feature_weight=0.5, progress=False, output_type="np")
    assert result.images.shape == (2, 8, 8, 3) and result.images.dtype == np.uint8
    assert result.labels.shape == (2,) and result.labels.max() < 3  # every class was tried
    assert (result.loss >= result.mse).all() and (result.loss > result.mse).any()
    assert result.target.shape == (2, 3, 8, 8)
    assert (result.target[0] - target[0]).abs().max() < 0.02  # file quantised to 8 bits, resized back


def test_pipelines_on_a_non_square_generator(tmp_path):
    torch.manual_seed(0)
    G = dcgan.Generator(z_dim=8, resolution=[6, 8], channels=3, width=4).eval()  # 8 wide, 6 tall
    pipe = InterpolatePipeline.from_pretrained(save_pretrained(G, tmp_path / "wide"))
    assert pipe(seeds=[1, 2], steps=3).shape == (3, 3, 6, 8)
    assert GeneratePipeline(pipe.G)(n=2, seed=0, output_type="np").shape == (2, 6, 8, 3)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 40), (200, 30, 30)).save(photo)  # square: covered, then cropped to 8x6
    result = ProjectPipeline(pipe.G)(photo, steps=2, restarts=1, progress=False)
    assert result.target.shape == (1, 3, 6, 8) and result.images.shape == (1, 3, 6, 8)


def test_projection_input_errors(tmp_path):
    pipe = ProjectPipeline(tiny_dcgan())
    with pytest.raises(GanforgeError, match=r"shape \(3, 8, 8\) but the generator makes 1x8x8"):
        pipe(torch.zeros(3, 8, 8), progress=False)
    with pytest.raises(GanforgeError, match=r"in \[-1, 1\]"):
        pipe(torch.full((1, 8, 8), 3.0), progress=False)
    with pytest.raises(GanforgeError, match="no such image file"):
        pipe(tmp_path / "missing.png", progress=False)
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.raises(GanforgeError, match="bad.jpg: not a decodable image"):
        pipe(str(tmp_path / "bad.jpg"), progress=False)
    with pytest.raises(GanforgeError, match="must be uint8"):
        pipe(np.zeros((8, 8), np.float32), progress=False)
    with pytest.raises(GanforgeError, match="steps must be a positive integer"):
        pipe(torch.zeros(1, 8, 8), steps=0, progress=False)
    with pytest.raises(GanforgeError, match="not conditional"):
        pipe(torch.zeros(1, 8, 8), label=0, progress=False)
    with pytest.raises(GanforgeError, match="cannot project a dict"):
        pipe({}, progress=False)

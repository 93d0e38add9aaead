"""Colourisation: `--data photos --pairs gray` (ganforge.data.patches), the gray2color preset
and `ganforge translate` of whole photos in windows (ganforge.pipelines.translate).

Real data: scikit-image's bundled photos; a real (tiny) pix2pix run of the preset's settings
at width 4 for a few steps, whose model translates a real photo.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganforge.config import merge, preset_config
from ganforge.data.paired import load_paired
from ganforge.data.patches import cut
from ganforge.data.superres import HELD_OUT, TRAIN_PHOTOS, photo
from ganforge.data.transforms import convert_channels
from ganforge.models import unet
from ganforge.pipelines.translate import TranslatePipeline, pyramid, starts
from ganforge.training.trainer import Trainer
from conftest import read_metrics, tiny_config, train_run  # noqa: E402  (tests/ is on sys.path)
from test_cli import assert_one_line_error, run_cli  # noqa: E402

COLOUR_TRAIN = ("astronaut", "coffee", "hubble_deep_field", "immunohistochemistry", "retina")


@pytest.fixture(scope="module")
def pairs():
    return load_paired("photos", 64, pairs="gray")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 6-step gray2color run (the preset, width 4, batch 4): its run directory."""
    root = tmp_path_factory.mktemp("gray2color")
    cfg = merge(preset_config("gray2color"), {
        "model": {"width": 4},
        "train": {"steps": 6, "minutes": 0.0, "batch_size": 4, "sample_every": 6, "checkpoint_every": 6,
                  "eval_every": 6, "log_every": 2, "device": "cpu", "threads": 1}})
    with pytest.MonkeyPatch.context() as m:  # no closing pictures (timelapse, curves, report: ~0.7 s)
        m.setattr(Trainer, "summarise", lambda self: None)
        train_run(cfg, root / "run")
    return root / "run"


def digests(tiles: np.ndarray | torch.Tensor) -> set[str]:
    return {hashlib.sha1(np.ascontiguousarray(t).tobytes()).hexdigest() for t in np.asarray(tiles)}


# ----------------------------------------------------------------- the pairs
def test_photos_gray_pairs_are_aligned_grey_inputs_of_colour_tiles(pairs):
    assert pairs.recipe == "gray" and pairs.a.shape[1:] == (1, 96, 96) and pairs.b.shape[1:] == (3, 96, 96)
    assert len(pairs) > 300 and pairs.a.dtype == torch.uint8
    # the input is the target's luminance, exactly as Pillow's RGB -> L (translate's conversion) ...
    for i in range(0, len(pairs), 37):
        rgb = pairs.b[i].permute(1, 2, 0).numpy()
        assert np.array_equal(np.asarray(Image.fromarray(rgb).convert("L")), pairs.a[i, 0].numpy()), i
    # ... which is ITU-R 601's weighting to within one level of rounding
    assert (convert_channels(pairs.b, 1).int() - pairs.a.int()).abs().max() <= 1
    assert not torch.equal(pairs.b[:, 0], pairs.b[:, 1])  # colour targets


def test_held_out_photos_never_appear_in_training_tiles(pairs):
    train, held = pairs.split(-1)
    held_tiles = digests(np.concatenate([cut(photo(n), 96) for n in ("chelsea", "rocket")]))
    train_tiles = digests(np.concatenate([cut(photo(n), 96) for n in COLOUR_TRAIN]))
    assert digests(held.b) == held_tiles and len(held) == len(held_tiles)
    assert digests(train.b) == train_tiles and not digests(train.b) & held_tiles
    # each training photo about as often as another (its tiles repeated), retina's 179 tiles included
    train_digests = [hashlib.sha1(np.ascontiguousarray(t).tobytes()).hexdigest() for t in train.b.numpy()]
    of_photo = [digests(cut(photo(n), 96)) for n in COLOUR_TRAIN]
    counts = [sum(d in own for d in train_digests) for own in of_photo]
    assert max(counts) < 1.2 * min(counts), dict(zip(COLOUR_TRAIN, counts))
    # the colour photos of super-resolution's split: its held-out ones are never trained on here
    assert set(COLOUR_TRAIN) <= set(TRAIN_PHOTOS) and {"chelsea", "rocket"} <= set(HELD_OUT)


# ----------------------------------------------------------------- train, then translate a photo
def test_a_short_run_colours_a_whole_photo_at_its_own_size(run, tmp_path, capsys):
    src = tmp_path / "chelsea.png"
    Image.fromarray(photo("chelsea")).save(src)  # a colour photo: made grey first
    code, out, err = run_cli(capsys, "translate", run, src, "--out", tmp_path / "coloured.png")
    assert code == 0, err
    assert f"wrote 1 translated image(s) to {tmp_path / 'coloured.png'}" in out
    assert "note: 1 colour image(s) made grey" in err and "overlapping 64 px windows" in err
    with Image.open(tmp_path / "coloured.png") as im:
        assert im.mode == "RGB" and im.size == (451, 300)
    # the grey of the photo gives the same: the colour was never looked at
    grey = tmp_path / "grey.png"
    Image.fromarray(photo("chelsea", 1)[..., 0]).save(grey)
    code, _, err = run_cli(capsys, "translate", run, grey, "--out", tmp_path / "from-grey.png")
    assert code == 0 and "made grey" not in err
    with Image.open(tmp_path / "coloured.png") as a, Image.open(tmp_path / "from-grey.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_the_l1_only_baseline_trains_no_discriminator(tmp_path, no_summary):
    cfg = tiny_config("pix2pix", game={"gan_weight": 0.0}, data={"pairs": "downscale:2"},
                      train={"steps": 4, "sample_every": 4, "checkpoint_every": 4})
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    d_before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    g_before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    trainer.fit()
    assert [p.name for p in trainer.phases] == ["G"]
    assert all(torch.equal(v, trainer.D.state_dict()[k]) for k, v in d_before.items())
    assert not all(torch.equal(v, trainer.G.state_dict()[k]) for k, v in g_before.items())
    logged = [r for r in read_metrics(tmp_path / "run") if "Loss/G" in r]
    assert logged and all("Loss/G/l1" in r and not any(k.startswith(("Loss/D", "Loss/G/gan")) for k in r)
                          for r in logged)


# ----------------------------------------------------------------- windows
class PixelWise(nn.Module):
    """A translator whose every output pixel depends on its own input pixel only (1x1 conv)."""
    kind, multiple, image_size = "translator", 16, (16, 16)

    def __init__(self):
        super().__init__()
        self.in_channels, self.channels = 1, 3
        self.conv = nn.Conv2d(1, 3, 1)

    def forward(self, x):
        return torch.tanh(self.conv(x))


@torch.no_grad()
def test_windows_equal_the_whole_image_where_they_should():
    torch.manual_seed(0)
    pipe = TranslatePipeline(PixelWise())
    for h, w in ((50, 37), (16, 80), (33, 16), (7, 40)):
        x = torch.rand(2, 1, h, w) * 2 - 1
        assert torch.allclose(pipe(x, tile=16), pipe(x, tile=0), atol=1e-6), (h, w)  # the weights sum to 1
    assert starts(100, 64) == [0, 32, 36] and starts(64, 64) == [0] and starts(20, 64) == [0]
    assert pyramid(4).tolist() == [0.5, 1.5, 1.5, 0.5]
    # a U-Net: an image no larger than a window is the whole-image pass; a corner only one window
    # covers is that window's output
    net = unet.Generator(1, 3, 16, width=4)
    unet_pipe = TranslatePipeline(net)
    assert unet_pipe.default_tile() == 16
    small, big = torch.rand(1, 1, 16, 16) * 2 - 1, torch.rand(1, 1, 40, 48) * 2 - 1
    assert torch.equal(unet_pipe(small, tile=16), unet_pipe(small, tile=0))
    y = unet_pipe(big, tile=16)
    assert torch.allclose(y[..., :8, :8], net.eval()(big[..., :16, :16])[..., :8, :8].clamp(-1, 1), atol=1e-6)


# ----------------------------------------------------------------- bad input, one line each
@pytest.mark.parametrize("argv, fragments", [
    (["--data", "digits", "--resolution", "8"], ("digits", "already grey", "identity")),
    (["--data", "photos", "--resolution", "64", "--channels", "1"], ("channels must be 3",)),
    (["--data", "photos", "--resolution", "64", "--jitter"], ("drop --jitter",)),
    (["--data", "photos"], ("pairs 'gray' on photos needs a --resolution",)),
])
def test_bad_gray_pairs_are_one_line(argv, fragments, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--game", "pix2pix", "--pairs", "gray", *argv, "--dry-run",
                           "--out", tmp_path / "r")
    assert_one_line_error(code, err, *fragments)


def test_bad_translate_options_are_one_line(run, tmp_path, capsys):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for f in (a, b):
        Image.fromarray(photo("coffee")[:64, :64]).save(f)
    code, _, err = run_cli(capsys, "translate", run, a, b, "--out", tmp_path / "one.png")
    assert_one_line_error(code, err, "names one .png file", "one input image")
    code, _, err = run_cli(capsys, "translate", run, tmp_path / "typo.png", "--out", tmp_path / "one.png")
    assert_one_line_error(code, err, "typo.png: no such image file")
    code, _, err = run_cli(capsys, "translate", run, a, "--out", tmp_path / "o.png", "--tile", "50")
    assert_one_line_error(code, err, "--tile 50", "multiple of this model's 64 px")
    code, _, err = run_cli(capsys, "translate", run, a, "--out", a)
    assert_one_line_error(code, err, "exists", "nothing is overwritten")
    code, _, err = run_cli(capsys, "translate", run, a, "--out", tmp_path / "colour.jpg")  # not a folder colour.jpg/
    assert_one_line_error(code, err, "colour.jpg", "PNG only")
    assert not (tmp_path / "colour.jpg").exists()

"""Repair (inpainting): the masks, the repair game (a few real steps on scikit-learn's digits),
the pipeline (known pixels bitwise, tiles only where the hole is) and `ganforge repair`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge import modeling, provenance
from ganforge.config import Config, merge
from ganforge.data import masks
from ganforge.errors import GanforgeError
from ganforge.models import inpainter
from ganforge.pipelines.repair import RepairPipeline
from conftest import train_run
from test_cli import assert_one_line_error, run_cli  # noqa: E402  (tests/ is on sys.path)


def repair_config(**game) -> Config:
    return merge(Config(), {
        "game": {"name": "repair", "l1_weight": 1.0, "hole_weight": 6.0, "gan_weight": 0.0, **game},
        "data": {"source": "digits", "resolution": 16, "channels": 1, "holdout": 40},
        "model": {"family": "inpainter", "width": 8, "blocks": 2, "d_layers": 2, "spectral_norm": True},
        "loss": {"name": "hinge"},
        "optim": {"lr_g": 2e-3, "lr_d": 2e-3},
        "train": {"steps": 80, "batch_size": 16, "ema_half_life": 0.0, "sample_every": 80, "checkpoint_every": 80,
                  "log_every": 10, "eval_every": 80, "device": "cpu", "threads": 1}})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny L1-only model and a few steps of the GAN, on digits at 16 px."""
    root = tmp_path_factory.mktemp("repair-runs")
    gan = repair_config(gan_weight=0.1)
    gan.train.steps = gan.train.sample_every = gan.train.checkpoint_every = gan.train.eval_every = 4
    train_run(repair_config(), root / "l1")
    train_run(gan, root / "gan")
    return {"l1": root / "l1", "gan": root / "gan"}


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# ----------------------------------------------------------------- masks
def test_masks_are_reproducible_from_the_generator_and_cover_a_share_of_the_image():
    a = masks.draw(200, 28, 28, torch.Generator().manual_seed(3))
    b = masks.draw(200, 28, 28, torch.Generator().manual_seed(3))
    c = masks.draw(200, 28, 28, torch.Generator().manual_seed(4))
    assert a.dtype == torch.bool and a.shape == (200, 28, 28)
    assert torch.equal(a, b) and not torch.equal(a, c)
    cover = a.float().mean((1, 2))
    assert cover.min() > 0 and 0.08 < cover.mean() < 0.35 and cover.max() < 0.7, cover
    centre = masks.fixed("centre", 2, 28, 28)
    assert centre[0, 7:21, 7:21].all() and centre[0].sum() == 14 * 14
    strokes = masks.fixed("strokes", 50, 32, 48, seed=1)
    assert torch.equal(strokes, masks.fixed("strokes", 50, 32, 48, seed=1)) and strokes.shape == (50, 32, 48)
    # strokes are thin and long: far fewer hole pixels than their bounding box
    m = strokes[0]
    ys, xs = torch.nonzero(m, as_tuple=True)
    assert m.sum() < 0.9 * (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)


def test_the_inpainter_keeps_the_size_and_sees_the_mask():
    G = inpainter.Generator(3, 32, width=8, blocks=2)
    x, m = torch.rand(2, 3, 32, 48) * 2 - 1, torch.zeros(2, 1, 32, 48)
    m[:, :, 8:20, 8:30] = 1
    y = G(inpainter.holed_input(x, m))
    assert y.shape == (2, 3, 32, 48) and y.abs().max() <= 1
    assert G.in_channels == 4 and G.kind == "inpainter"


# ----------------------------------------------------------------- the game
def test_a_short_l1_run_fills_holes_better_than_grey(runs):
    last = rows(runs["l1"])[-1]
    assert "Loss/D" not in last and "Loss/G/hole" in last  # gan_weight 0: D is not trained
    # the held-out images' holes (centre squares, strokes): grey (0 in [-1, 1]) scores about 11 dB here
    assert last["Metric/psnr_hole"] > 13.0, last
    G = modeling.load(runs["l1"])
    assert G.data_info["game"] == "repair" and G.data_info["in_shape"] == [2, 16, 16]


def test_the_gan_trains_d_on_composites_beside_the_mask(runs):
    assert any("Loss/D/real" in r and "Loss/G/gan" in r and "Loss/G/hole" in r for r in rows(runs["gan"]))
    assert (runs["gan"] / "samples" / "latest.png").is_file()


def test_a_resumed_repair_run_is_bitwise_the_uninterrupted_one(tmp_path, helpers, no_summary):
    """The holes are drawn from the data RNG each step, so a resume that restored the weights but
    not that RNG (or the batch positions) would train on other masks and drift."""
    def config(steps: int) -> Config:
        cfg = repair_config(gan_weight=0.1)
        cfg.train.steps, cfg.train.checkpoint_every = steps, 2
        cfg.train.sample_every = cfg.train.eval_every = 100  # neither within the run
        return cfg

    one = train_run(config(6), tmp_path / "one")
    train_run(config(3), tmp_path / "split")
    resumed = train_run(None, tmp_path / "split", resume="latest", steps=6)
    assert resumed.step == 6 and resumed.cfg == one.cfg
    helpers.assert_same_state(helpers.trainer_state(one), helpers.trainer_state(resumed), "repair")


def test_the_repair_game_refuses_recipes_and_other_models(tmp_path, capsys):
    for extra, fragment in ((("--pairs", "edges"), "draws its own holes"), (("--model", "unet"), "inpainter"),
                            (("--resolution", "18"), "multiple of 4")):
        code, _, err = run_cli(capsys, "train", "--game", "repair", "--data", "digits", "--resolution", "16",
                               *extra, "--out", tmp_path / "r", "--dry-run")
        assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize("preset", ["fashion-repair", "photos-repair"])
def test_the_repair_presets_resolve_with_dry_run(preset, tmp_path, capsys):
    if preset == "photos-repair":
        pytest.importorskip("skimage")
    code, out, err = run_cli(capsys, "train", "--preset", preset, "--out", tmp_path / "r", "--dry-run")
    assert code == 0, err
    assert "game:\n  name: repair" in out and "G: inpainter" in out + err and not (tmp_path / "r").exists()


# ----------------------------------------------------------------- the pipeline
def random_pipe(channels: int = 3, size: int = 16) -> RepairPipeline:
    torch.manual_seed(0)
    G = inpainter.Generator(channels, size, width=4, blocks=1)
    return RepairPipeline(G)


def test_known_pixels_come_back_bitwise_and_the_hole_changes():
    pipe = random_pipe()
    rng = np.random.default_rng(0)
    for h, w in ((16, 16), (19, 23), (90, 70)):  # the last is filled in cells of 16 px, only where the hole is
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), bool)
        mask[h // 3:h // 3 + 6, 2:12] = True
        mask[h - 5:h - 1, w - 9:w - 2] = True
        out = pipe(image, mask)
        assert out.shape == image.shape and out.dtype == np.uint8
        assert np.array_equal(out[~mask], image[~mask])
        assert (out[mask] != image[mask]).mean() > 0.5
    windows = pipe.windows(mask)
    assert 1 < len(windows) < 8  # a few cells around the two holes, not the whole 90 x 70 image
    covered = np.zeros_like(mask)
    for (r, c), _ in windows:
        covered[r, c] = True
    assert covered[mask].all()


def test_a_grey_model_takes_a_2d_image_and_array_errors_are_one_line():
    pipe = random_pipe(channels=1)
    image = np.full((20, 20), 200, np.uint8)
    mask = np.zeros((20, 20), bool)
    mask[5:9, 5:9] = True
    out = pipe(image, mask)
    assert out.shape == (20, 20) and np.array_equal(out[~mask], image[~mask])
    for args, fragment in (((image, mask[:10]), "same size"), ((image, np.zeros_like(mask)), "empty"),
                           ((image[:6, :6], mask[:6, :6]), "at least 8 px"),
                           ((np.zeros((20, 20, 3), np.uint8), mask), "(H, W, 1)")):
        with pytest.raises(GanforgeError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            pipe(*args)


# ----------------------------------------------------------------- the command
def digit_files(folder: Path) -> tuple[Path, Path, bytes]:
    from sklearn.datasets import load_digits
    digit = (load_digits().images[0] * 16).clip(0, 255).astype(np.uint8)
    Image.fromarray(digit).resize((16, 16)).save(folder / "digit.png")
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    return folder / "digit.png", folder / "mask.png", (folder / "digit.png").read_bytes()


def test_repair_writes_the_image_with_its_hole_filled_and_provenance(runs, tmp_path, capsys):
    image, mask, _ = digit_files(tmp_path)
    code, out, err = run_cli(capsys, "repair", runs["l1"], image, "--mask", mask, "--out", tmp_path / "fixed.png")
    assert code == 0, err
    before, after = np.asarray(Image.open(image)), np.asarray(Image.open(tmp_path / "fixed.png"))
    hole = np.asarray(Image.open(mask)) >= 128
    assert after.shape == before.shape and np.array_equal(after[~hole], before[~hole])
    assert not np.array_equal(after[hole], before[hole])
    record = provenance.read(tmp_path / "fixed.png")
    assert record["task"] == "repair" and record["mask"] == "mask.png" and record["hole"] == "25.0%"


def test_repair_bad_inputs_are_one_line_each_and_nothing_is_overwritten(runs, tmp_path, capsys):
    image, mask, before = digit_files(tmp_path)
    from ganforge.models import unet
    modeling.save_pretrained(unet.Generator(1, 1, 16, width=4), tmp_path / "pix2pix")  # a model of another game
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(tmp_path / "short.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "empty.png")
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "tiny.png")
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "taken.png").write_bytes(b"mine")
    cases = [((runs["l1"], tmp_path / "tiny.png", "--mask", mask), ("tiny.png is 6x6", "at least 8 px")),
             ((runs["l1"], image, "--mask", tmp_path / "short.png"), ("short.png is 16x12", "image's size")),
             ((runs["l1"], tmp_path / "notes.png", "--mask", mask), ("notes.png", "not a decodable image")),
             ((runs["l1"], image, "--mask", tmp_path / "empty.png"), ("empty.png", "nothing to fill")),
             ((tmp_path / "pix2pix", image, "--mask", mask), ("the repair game",)),
             ((runs["l1"], image, "--mask", mask, "--out", image), ("is the image given",)),
             ((runs["l1"], image, "--mask", mask, "--out", mask), ("is the mask given",)),
             ((runs["l1"], image, "--mask", mask, "--out", tmp_path / "taken.png"), ("exists",))]
    for argv, fragments in cases:
        if "--out" not in argv:
            argv = (*argv, "--out", tmp_path / "o.png")
        code, _, err = run_cli(capsys, "repair", *argv)
        assert_one_line_error(code, err, *fragments)
    assert image.read_bytes() == before and (tmp_path / "taken.png").read_bytes() == b"mine"
    assert not (tmp_path / "o.png").exists()


def test_the_other_image_commands_send_a_repair_model_to_repair(runs, tmp_path, capsys):
    image, _, _ = digit_files(tmp_path)
    for command in ("translate", "upscale"):
        code, _, err = run_cli(capsys, command, runs["l1"], image, "--out", tmp_path / "o")
        assert_one_line_error(code, err, "ganforge repair")

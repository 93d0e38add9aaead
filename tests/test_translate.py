"""ganforge.pipelines.translate and `ganforge translate`: trained pix2pix and CycleGAN models
(tests/conftest.py's shared tiny runs) on image files of any size, mode and folder layout.

The pix2pix model is a 4-deep U-Net (sizes in multiples of 16), grey in and out; the
CycleGAN pair is ResNet translators (multiples of 4) between the digits 3 and 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganforge import modeling
from ganforge.errors import GanforgeError
from ganforge.models import dcgan, unet
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.pipelines.translate import TranslatePipeline
from ganforge.viz.grid import to_uint8
from test_cli import assert_one_line_error, run_cli  # noqa: E402  (tests/ is on sys.path)


def picture(path: Path, w: int, h: int, mode: str = "L", seed: int = 0) -> Path:
    """A random image of w x h pixels in `mode` ("L", "RGB", "RGBA", ...), folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(path)  # (the mode from the shape)
    return path


def as_tensor(image: Image.Image) -> torch.Tensor:
    """An L or RGB image -> float (C, H, W) in [-1, 1], as the pipeline reads files."""
    x = np.asarray(image, dtype=np.uint8)
    x = x.reshape(*x.shape[:2], -1)
    return torch.from_numpy(x.copy()).permute(2, 0, 1).float() / 127.5 - 1


def written(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


@pytest.fixture(scope="module")
def pipes(translation_runs) -> dict[str, TranslatePipeline]:
    return {name: TranslatePipeline.from_pretrained(r.run) for name, r in translation_runs.items()}


@pytest.fixture
def generator_run(tmp_path) -> Path:
    """A run directory holding an exported (untrained) image generator, noise -> image."""
    torch.manual_seed(0)
    modeling.save_pretrained(dcgan.Generator(8, 8, 1, 8), tmp_path / "generator" / "model")
    return tmp_path / "generator"


@pytest.fixture
def rgb_model(tmp_path) -> Path:
    """An untrained colour U-Net (3 -> 3 channels) exported as a translator."""
    torch.manual_seed(0)
    return modeling.save_pretrained(unet.Generator(3, 3, 16, width=4), tmp_path / "rgb-model")


# ----------------------------------------------------------------- the pipeline on tensors
@torch.no_grad()
def test_call_on_a_tensor_that_needs_no_padding_is_the_model_s_forward(pipes, translation_runs):
    x = translation_runs["pix2pix"].trainer.game.held_a[:8]  # (8, 1, 16, 16)
    pipe = pipes["pix2pix"]
    assert torch.equal(pipe(x), pipe.G(x))
    assert np.array_equal(pipe(x, output_type="np"), to_uint8(pipe.G(x)))
    cycle = pipes["cycle"]
    a, b = translation_runs["cycle"].trainer.game.held_a[:4], translation_runs["cycle"].trainer.game.held_b[:4]
    assert torch.equal(cycle(a), cycle.G(a, "a2b")) and torch.equal(cycle(a, direction="a2b"), cycle.G(a, "a2b"))
    assert torch.equal(cycle(b, direction="b2a"), cycle.G(b, "b2a"))
    wide = torch.rand(2, 1, 8, 20) * 2 - 1  # multiples of 4: the ResNet translators need no padding
    assert torch.equal(cycle(wide), cycle.G(wide, "a2b"))


@torch.no_grad()
def test_any_size_comes_back_at_its_own_size(pipes):
    # (h, w): reflected, repeated edges (smaller than the padding), below a ResNet translator's 8 px, none
    sizes = [(13, 17), (5, 7), (16, 32), (1, 40), (4, 4), (16, 16)]
    images = [torch.rand(1, h, w) * 2 - 1 for h, w in sizes]
    for pipe in pipes.values():
        outs = pipe(images)
        assert [tuple(o.shape) for o in outs] == [(1, h, w) for h, w in sizes]
        assert all(o.min() >= -1 and o.max() <= 1 for o in outs)
        assert torch.equal(outs[-1][None], pipe(images[-1][None]))  # a list gives what a batch gives
    # padding reflects the image to the model's multiple; the crop is the image's own place in it
    x = images[0][None]  # (1, 1, 13, 17) -> padded to 16 x 32: rows 1 + 2, columns 7 + 8
    net = pipes["pix2pix"].G
    expected = net(F.pad(x, (7, 8, 1, 2), mode="reflect"))[..., 1:14, 7:24]
    assert torch.equal(pipes["pix2pix"](x), expected.clamp(-1, 1))


def test_the_pipeline_refuses_wrong_channels_directions_and_generators(pipes, generator_run):
    with pytest.raises(GanforgeError, match=r"images must be \(N, 1, H, W\) for this model, got \(2, 3, 16, 16\)"):
        pipes["pix2pix"](torch.zeros(2, 3, 16, 16))
    with pytest.raises(GanforgeError, match="one way only"):
        pipes["pix2pix"](torch.zeros(1, 1, 16, 16), direction="b2a")
    with pytest.raises(GanforgeError, match="unknown direction 'sideways'"):
        pipes["cycle"](torch.zeros(1, 1, 16, 16), direction="sideways")
    with pytest.raises(GanforgeError, match="generator .* not a translator.*ganforge generate"):
        TranslatePipeline.from_pretrained(generator_run)
    with pytest.raises(GanforgeError, match="translator .* not a generator.*ganforge translate"):
        GeneratePipeline(pipes["cycle"].G)


# ----------------------------------------------------------------- `ganforge translate` on files
def test_a_file_is_translated_to_a_png_of_its_name_and_size(translation_runs, pipes, tmp_path, capsys):
    src = picture(tmp_path / "in" / "sketch.jpg", 16, 16)
    code, out, err = run_cli(capsys, "translate", translation_runs["pix2pix"].run, src, "--out", tmp_path / "out")
    assert code == 0, err
    assert out.strip() == f"wrote 1 translated image(s) to {tmp_path / 'out'}" and err == ""
    result = tmp_path / "out" / "sketch.png"
    with Image.open(src) as im:
        expected = to_uint8(pipes["pix2pix"](as_tensor(im)[None]))[0, ..., 0]
    assert np.array_equal(written(result), expected)


def test_a_cycle_model_translates_either_way_and_names_the_way(translation_runs, pipes, tmp_path, capsys):
    src = picture(tmp_path / "eight.png", 16, 16)
    run = translation_runs["cycle"].run
    code, out, _ = run_cli(capsys, "translate", run, src, "--out", tmp_path / "b2a", "--direction", "b2a")
    assert code == 0 and "(digits:8 -> digits:3)" in out
    code, out, _ = run_cli(capsys, "translate", run, src, "--out", tmp_path / "a2b")
    assert code == 0 and "(digits:3 -> digits:8)" in out
    with Image.open(src) as im:
        x = as_tensor(im)[None]
    for way in ("a2b", "b2a"):
        expected = to_uint8(pipes["cycle"](x, direction=way))[0, ..., 0]
        assert np.array_equal(written(tmp_path / way / "eight.png"), expected), way
    assert not np.array_equal(written(tmp_path / "a2b" / "eight.png"), written(tmp_path / "b2a" / "eight.png"))


def test_a_folder_keeps_its_sub_folders_and_odd_sizes_come_back_whole(translation_runs, tmp_path, capsys):
    folder = tmp_path / "photos"
    sizes = {"a.png": (16, 16), "sub/b.png": (13, 21), "sub/deeper/c.jpg": (40, 24), "sub/d.bmp": (7, 5)}  # (w, h)
    for i, (name, (w, h)) in enumerate(sizes.items()):
        picture(folder / name, w, h, seed=i)
    (folder / "notes.txt").write_text("not an image: left alone without a word")
    code, out, err = run_cli(capsys, "translate", translation_runs["pix2pix"].run, folder, "--out", tmp_path / "out")
    assert code == 0, err
    assert "wrote 4 translated image(s)" in out
    made = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert made == ["a.png", "sub/b.png", "sub/d.png", "sub/deeper/c.png"]
    for name, (w, h) in sizes.items():
        with Image.open((tmp_path / "out" / name).with_suffix(".png")) as im:
            assert im.size == (w, h) and im.mode == "L", name
    notes = err.strip().splitlines()
    # 13x21 and 40x24 are over the U-Net's 16 px training size: 16 px windows (13 wide ones padded)
    assert "note: 2 image(s) translated in overlapping 16 px windows (the model's training size; --tile 0: the " \
           "whole image at once)" in notes
    assert "note: 2 image(s) padded to multiples of 16 px for the model and cropped back" in notes
    assert not any(line.startswith(("error", "warning")) for line in notes)


def test_colour_and_transparent_inputs_are_converted_to_a_grey_model_s_channel(translation_runs, pipes, tmp_path,
                                                                                 capsys):
    rgb = picture(tmp_path / "in" / "rgb.png", 16, 16, "RGB")
    rgba = picture(tmp_path / "in" / "rgba.png", 16, 16, "RGBA")
    code, _, err = run_cli(capsys, "translate", translation_runs["pix2pix"].run, rgb, rgba, "--out", tmp_path / "out")
    assert code == 0, err
    with Image.open(rgb) as im:  # colour -> the luminance Pillow's convert("L") gives
        expected = to_uint8(pipes["pix2pix"](as_tensor(im.convert("L"))[None]))[0, ..., 0]
    assert np.array_equal(written(tmp_path / "out" / "rgb.png"), expected)
    with Image.open(tmp_path / "out" / "rgba.png") as im:
        assert im.mode == "L" and im.size == (16, 16)


def test_grey_inputs_are_repeated_for_a_colour_model(rgb_model, tmp_path, capsys):
    grey = picture(tmp_path / "grey.png", 16, 16, "L")
    code, _, err = run_cli(capsys, "translate", rgb_model, grey, "--out", tmp_path / "out")
    assert code == 0, err
    with Image.open(grey) as im:
        x = as_tensor(im)[None].expand(-1, 3, -1, -1)  # (1, 3, 16, 16): the grey channel three times
    expected = to_uint8(TranslatePipeline.from_pretrained(rgb_model)(x))[0]
    with Image.open(tmp_path / "out" / "grey.png") as im:
        assert im.mode == "RGB"
        assert np.array_equal(np.asarray(im), expected)


def test_an_undecodable_file_is_skipped_with_a_warning_and_the_others_are_written(translation_runs, tmp_path, capsys):
    folder = tmp_path / "in"
    picture(folder / "good.png", 16, 16)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but the rest is not")
    code, out, err = run_cli(capsys, "translate", translation_runs["cycle"].run, folder, "--out", tmp_path / "out")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"skipped {folder / 'broken.png'}: not a decodable image" in warnings[0]
    assert "Traceback" not in err and "wrote 1 translated image(s)" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]


def test_nothing_decodable_is_one_error_line(translation_runs, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    code, _, err = run_cli(capsys, "translate", translation_runs["pix2pix"].run, tmp_path / "broken.png",
                           "--out", tmp_path / "out")
    assert_one_line_error(code, err, "no input could be translated", "broken.png", "not a decodable image")
    assert not (tmp_path / "out" / "broken.png").exists()


def test_an_existing_output_is_never_overwritten_and_nothing_else_is_written(translation_runs, tmp_path, capsys):
    first, second = picture(tmp_path / "in" / "first.png", 16, 16), picture(tmp_path / "in" / "second.png", 16, 16)
    out = tmp_path / "out"
    out.mkdir()
    (out / "second.png").write_bytes(b"the user's own file")
    code, stdout, err = run_cli(capsys, "translate", translation_runs["pix2pix"].run, first, second, "--out", out)
    assert_one_line_error(code, err, str(out / "second.png"), "exists", "nothing is overwritten")
    assert stdout == ""
    assert (out / "second.png").read_bytes() == b"the user's own file"
    assert sorted(p.name for p in out.iterdir()) == ["second.png"]  # checked before the first was written
    # and a second run into a filled folder refuses every file, naming how many
    code, _, _ = run_cli(capsys, "translate", translation_runs["pix2pix"].run, first, "--out", tmp_path / "again")
    assert code == 0
    before = (tmp_path / "again" / "first.png").read_bytes()
    code, _, err = run_cli(capsys, "translate", translation_runs["pix2pix"].run, first, "--out", tmp_path / "again")
    assert_one_line_error(code, err, "first.png exists")
    assert (tmp_path / "again" / "first.png").read_bytes() == before


@pytest.mark.parametrize("argv, fragments", [
    (["{generator}", "{img}"], ["generator", "not a translator", "ganforge generate"]),
    (["{pix2pix}", "{img}", "--direction", "b2a"], ["one way only", "drop --direction"]),
    (["{pix2pix}", "{tmp}/missing.png"], ["missing.png", "no such image file or folder"]),
    (["{pix2pix}", "{tmp}/empty"], ["empty", "no image files"]),
    (["{pix2pix}", "{img}", "{tmp}/other/sketch.png"], ["two inputs would both be written to", "sketch.png"]),
    (["{tmp}", "{img}"], ["not an exported ganforge model"]),
])
def test_translate_refuses_bad_input_in_one_line(argv, fragments, generator_run, translation_runs, tmp_path, capsys):
    img = picture(tmp_path / "sketch.png", 16, 16)
    picture(tmp_path / "other" / "sketch.png", 16, 16)
    (tmp_path / "empty").mkdir()
    where = {"{generator}": str(generator_run), "{pix2pix}": str(translation_runs["pix2pix"].run),
             "{img}": str(img), "{tmp}": str(tmp_path)}
    for key, value in where.items():
        argv = [a.replace(key, value) for a in argv]
    code, out, err = run_cli(capsys, "translate", *argv, "--out", tmp_path / "out")
    assert_one_line_error(code, err, *fragments)
    assert out == "" and not (tmp_path / "out").exists()

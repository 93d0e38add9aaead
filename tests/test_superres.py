"""Super-resolution: pairs sr:N, SRResNet, the superres game (L1, then the GAN stage from it),
the tiled upscale pipeline and `ganforge upscale`, on small synthetic photos (a folder of
smooth shapes with sharp edges) so that no test needs scikit-image's photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganforge import modeling, provenance
from ganforge.config import Config, merge
from ganforge.data.paired import load_paired
from ganforge.data.superres import downscale
from ganforge.errors import GanforgeError
from ganforge.models.srresnet import Generator
from ganforge.pipelines.upscale import UpscalePipeline, spans
from ganforge.training.pair_batches import PairedBatches
from conftest import train_run
from test_cli import assert_one_line_error, run_cli  # noqa: E402  (tests/ is on sys.path)


def photo(seed: int, h: int = 72, w: int = 96) -> np.ndarray:
    """A smooth colour field with a few sharp-edged rectangles: uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    field = torch.from_numpy(rng.uniform(0, 255, (1, 3, 4, 5))).float()
    x = F.interpolate(field, size=(h, w), mode="bicubic", align_corners=False)[0].permute(1, 2, 0).numpy()
    for _ in range(4):
        top, left = rng.integers(0, h - 16), rng.integers(0, w - 16)
        x[top:top + rng.integers(6, 16), left:left + rng.integers(6, 16)] = rng.uniform(0, 255, 3)
    return x.clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for i in range(6):
        Image.fromarray(photo(i)).save(folder / f"p{i}.png")
    return folder


def sr_config(source: Path, **game) -> Config:
    return merge(Config(), {
        "game": {"name": "superres", "l1_weight": 1.0, "gan_weight": 0.0, "feature_weight": 0.0, **game},
        "data": {"source": str(source), "pairs": "sr:2", "resolution": 32, "holdout": 1, "flip": True},
        "model": {"family": "srresnet", "width": 8, "blocks": 1, "d_layers": 2},
        "loss": {"name": "non-saturating"},
        "optim": {"lr_g": 2e-3, "lr_d": 2e-3, "beta1": 0.9, "beta2": 0.99},
        "train": {"steps": 24, "batch_size": 8, "ema_half_life": 0.0, "sample_every": 24, "checkpoint_every": 24,
                  "log_every": 10, "eval_every": 0, "device": "cpu", "threads": 1}})


@pytest.fixture(scope="module")
def runs(photos, tmp_path_factory) -> dict[str, Path]:
    """A tiny L1 model (x2) and the GAN stage started from it."""
    root = tmp_path_factory.mktemp("sr-runs")
    gan = sr_config(photos, gan_weight=0.01, feature_weight=0.2)
    gan.train.steps, gan.train.init_from = 3, str(root / "l1")
    train_run(sr_config(photos), root / "l1")
    train_run(gan, root / "gan")
    return {"l1": root / "l1", "gan": root / "gan"}


# ----------------------------------------------------------------- data and model
def test_sr_pairs_are_aligned_tiles_with_whole_images_held_out(photos):
    data = load_paired(str(photos), 32, pairs="sr:2", holdout=1)
    assert data.scale == 2 and data.a.shape[-2:] == (24, 24) and data.b.shape[-2:] == (48, 48)
    train, held = data.split(0)
    assert len(held) == 2 and len(train) == 10  # one image of 6 held out: its 2 tiles (48 px of 72 x 96)
    # the inputs are the whole photo's bicubic downscale, cut where the targets are cut
    first = downscale(photo(0), 2)[:24, :24].transpose(2, 0, 1)
    assert np.array_equal(data.a[0].numpy(), first) and np.array_equal(data.b[0].numpy(), photo(0)[:48, :48].transpose(2, 0, 1))


def test_random_crops_and_flips_keep_inputs_and_targets_aligned(photos):
    data = load_paired(str(photos), 32, pairs="sr:2", holdout=1)
    batches = PairedBatches(data, 12, torch.device("cpu"), torch.Generator().manual_seed(0), crop=(32, 32), flip=True)
    a, b = map(torch.cat, zip(*(batches.next()[:2] for _ in range(4))))
    assert a.shape == (48, 3, 16, 16) and b.shape == (48, 3, 32, 32)
    # each target's 2x2 means are close to its input (antialiased downscaling), flipped or not
    err = (F.avg_pool2d(b, 2) - a).abs().mean((1, 2, 3))
    assert err.max() < 0.08, err


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_srresnet_enlarges_any_size_and_starts_as_bicubic(scale):
    G = Generator(3, scale, width=8, blocks=2)
    x = torch.rand(2, 3, 11, 7) * 2 - 1
    y = G(x)
    assert y.shape == (2, 3, 11 * scale, 7 * scale)
    assert torch.allclose(y, F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False))


def test_a_short_run_lowers_the_l1_loss_below_bicubic(runs, photos):
    G = modeling.load(runs["l1"])
    data = load_paired(str(photos), 32, pairs="sr:2", holdout=1).split(0)[0]
    a, b = data.a.float() / 127.5 - 1, data.b.float() / 127.5 - 1
    with torch.no_grad():
        trained = (G(a) - b).abs().mean()
    bicubic = (F.interpolate(a, scale_factor=2, mode="bicubic", align_corners=False) - b).abs().mean()
    assert trained < 0.97 * bicubic, (float(trained), float(bicubic))
    assert G.data_info["game"] == "superres" and G.data_info["scale"] == 2


def test_the_gan_stage_starts_from_the_l1_model_and_trains_d(runs):
    import json
    rows = [json.loads(line) for line in (runs["gan"] / "metrics.jsonl").read_text().splitlines()]
    assert any("Loss/D" in r and "Loss/G/gan" in r and "Loss/G/feature" in r for r in rows)


def test_init_from_a_model_of_other_settings_is_one_line(runs, photos, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--game", "superres", "--data", photos, "--pairs", "sr:2",
                           "--resolution", "32", "--width", "16", "--batch-size", "4", "--holdout", "1",
                           "--init-from", runs["l1"], "--out", tmp_path / "r",
                           "--dry-run")
    assert_one_line_error(code, err, "--init-from", "same family and settings")


# ----------------------------------------------------------------- tiles
def test_spans_cover_the_side_with_at_most_two_tiles_anywhere():
    for length in (1, 24, 25, 70, 257):
        s = spans(length, 24, 6)
        assert s[0][0] == 0 and s[-1][1] == length
        cover = np.zeros(length, int)
        for a, b in s:
            cover[a:b] += 1
        assert cover.min() >= 1 and cover.max() <= 2


def test_tiled_equals_untiled_and_blending_leaves_no_seam():
    torch.manual_seed(0)
    G = Generator(3, 4, width=8, blocks=2)
    for p in G.parameters():
        p.data.normal_(0, 0.05)
    pipe = UpscalePipeline(G)
    x = torch.rand(3, 70, 53) * 1.6 - 0.8
    whole = pipe(x, tile=0)
    assert whole.shape == (3, 280, 212)
    assert (pipe(x, tile=24, overlap=6) - whole).abs().max() < 1e-4  # context = receptive field: exact
    # too little context (pad 0): the tiles' borders differ, and the ramps blend them away
    blended = (pipe(x, tile=24, overlap=6, pad=0) - whole).abs().max()
    naive = (pipe(x, tile=24, overlap=0, pad=0) - whole).abs().max()
    assert blended < naive / 2, (float(blended), float(naive))
    assert np.array_equal(pipe(x, tile=24, overlap=6, output_type="np").shape, (280, 212, 3))


# ----------------------------------------------------------------- the command
def test_upscale_writes_the_enlarged_image_with_provenance(runs, tmp_path, capsys):
    Image.fromarray(photo(9, 30, 41)).save(tmp_path / "small.jpg")
    code, out, err = run_cli(capsys, "upscale", runs["l1"], tmp_path / "small.jpg", "--out", tmp_path / "big",
                             "--tile", "16", "--no-progress")
    assert code == 0, err
    with Image.open(tmp_path / "big" / "small.png") as im:
        assert im.size == (82, 60) and im.mode == "RGB"
    record = provenance.read(tmp_path / "big" / "small.png")
    assert record["task"] == "upscale" and record["scale"] == "x2" and record["input"] == "small.jpg"


def test_upscale_bad_inputs_are_one_line_each(runs, tmp_path, capsys):
    from ganforge.models import unet
    modeling.save_pretrained(unet.Generator(3, 3, 16, width=4), tmp_path / "pix2pix")  # a translator
    Image.fromarray(np.zeros((3, 40, 3), np.uint8)).save(tmp_path / "thin.png")
    (tmp_path / "notes.png").write_text("not an image")
    Image.fromarray(photo(2, 20, 20)).save(tmp_path / "ok.png")
    before = (tmp_path / "ok.png").read_bytes()
    cases = [((runs["l1"], tmp_path / "thin.png"), ("thin.png", "at least 4 px")),
             ((runs["l1"], tmp_path / "notes.png"), ("notes.png", "not a decodable image")),
             ((tmp_path / "pix2pix", tmp_path / "ok.png"), ("superres game",)),
             ((runs["l1"], tmp_path / "ok.png", "--tile", "5"), ("--tile 5",))]
    for argv, fragments in cases:
        code, _, err = run_cli(capsys, "upscale", *argv, "--out", tmp_path / "out")
        assert_one_line_error(code, err, *fragments)
    code, _, err = run_cli(capsys, "upscale", runs["l1"], tmp_path / "ok.png", "--out", tmp_path)
    assert_one_line_error(code, err, "would overwrite the input")
    code, _, err = run_cli(capsys, "upscale", runs["l1"], tmp_path / "ok.png", tmp_path, "--out", tmp_path)
    assert_one_line_error(code, err, "is one of the inputs")
    assert (tmp_path / "ok.png").read_bytes() == before and not (tmp_path / "out").exists()


def test_the_translate_command_sends_an_upscaler_to_upscale(runs, tmp_path, capsys):
    Image.fromarray(photo(2, 20, 20)).save(tmp_path / "ok.png")
    code, _, err = run_cli(capsys, "translate", runs["l1"], tmp_path / "ok.png", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "ganforge upscale")


@pytest.mark.parametrize("preset", ["photos-srresnet-x4", "photos-esrgan-x4", "folder-srresnet-x4"])
def test_the_superres_presets_resolve_with_dry_run(preset, runs, photos, tmp_path, capsys):
    pytest.importorskip("skimage")
    extra = ["--data", photos, "--resolution", "32", "--batch-size", "4"] if preset.startswith("folder") else []
    code, out, err = run_cli(capsys, "train", "--preset", preset, *extra, "--out", tmp_path / "r", "--dry-run")
    if preset == "photos-esrgan-x4":  # it starts from the L1 model's run: refused until there is one
        assert_one_line_error(code, err, "--init-from runs/photos-srresnet-x4")
        return
    assert code == 0, err
    assert "game:\n  name: superres" in out and "G: srresnet" in out + err and not (tmp_path / "r").exists()


def test_pix2pix_refuses_sr_pairs_and_superres_refuses_same_size_pairs(photos, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--game", "pix2pix", "--data", photos, "--pairs", "sr:2",
                           "--resolution", "32", "--batch-size", "4", "--out", tmp_path / "r", "--dry-run")
    assert_one_line_error(code, err, "--game superres")
    with pytest.raises(GanforgeError, match="sr:N takes N"):
        load_paired(str(photos), 32, pairs="sr:5")

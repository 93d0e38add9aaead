"""The `ganforge` command: presets, help, dry runs, generate, evaluate, and bad input.

Most commands run in-process through `ganforge.cli.main` (fast; output via capsys); one runs
as a real `python -m ganforge` subprocess to check the exit code and the one-line stderr.
Errors from user input must exit with 2 and print ONE line, `error: ...`, naming the problem.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import ganforge
from ganforge.cli import main
from ganforge.config import PRESETS, preset_config
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.training import checkpoint

SUBCOMMANDS = ["train", "generate", "evaluate", "presets", "demo", "serve", "project", "report", "augment", "repair"]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(autouse=True)
def _in_tmp_cwd(tmp_path, monkeypatch):
    """A train command without --out writes runs/NAME under the working directory."""
    monkeypatch.chdir(tmp_path)


# ----------------------------------------------------------------- presets and help
def test_presets_lists_every_preset_with_its_description(capsys):
    code, out, err = run_cli(capsys, "presets")
    assert code == 0 and err == ""
    listed = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()}
    assert {"ring8", "grid25", "digits-dcgan", "fashion-dcgan"} <= listed.keys()
    assert listed.keys() == PRESETS.keys()
    for name, description in listed.items():
        assert description == PRESETS[name].description and len(description) > 10


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    # train/generate/evaluate say "examples:", presets/demo (one example each) "example:"
    assert "example" in out.lower()
    assert any(line.strip().startswith(f"ganforge {command}") for line in out.splitlines())


@pytest.mark.parametrize("argv, fragments", [
    (["train", "--steps", "abc"], ["ganforge train: argument --steps: invalid int value: 'abc'"]),
    (["train", "--resolution", "64y48"], ["argument --resolution", "WIDTHxHEIGHT such as 64x48, got '64y48'"]),
    (["generate", "runs/x"], ["ganforge generate: the following arguments are required: --out"]),
    (["trian"], ["invalid choice: 'trian'", "'train'"]),
    ([], ["required: COMMAND"]),
])
def test_command_line_mistakes_are_one_line_not_the_whole_usage(argv, fragments, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    line = assert_one_line_error(2, capsys.readouterr().err, *fragments)
    assert line.endswith("--help)")


def test_top_level_help_names_the_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(c in out for c in SUBCOMMANDS)


# ----------------------------------------------------------------- dry run
@pytest.mark.parametrize("preset", ["ring8", "digits-dcgan"])
def test_dry_run_prints_the_resolved_config_and_writes_nothing(preset, tmp_path, capsys, helpers):
    before = helpers.snapshot(tmp_path)
    code, out, err = run_cli(capsys, "train", "--preset", preset, "--steps", "7", "--dry-run",
                             "--out", tmp_path / "run")
    assert code == 0
    expected = preset_config(preset)
    expected.train.steps = 7
    assert yaml.safe_load(out) == expected.to_dict()  # the extra lines are YAML comments
    assert "# would write to:" in out and "parameters" in err
    assert helpers.snapshot(tmp_path) == before
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_dry_run_reports_a_bad_option_like_a_real_run(capsys):
    code, _, err = run_cli(capsys, "train", "--preset", "digits-dcgan", "--resolution", "25", "--dry-run")
    assert_one_line_error(code, err, "25 px")


def test_dry_run_with_resume_writes_nothing(copy_run, capsys, helpers):
    run = copy_run("ring8")
    before = helpers.snapshot(run)
    code, _, _ = run_cli(capsys, "train", "--out", run, "--resume", "latest", "--steps", "24",
                         "--dry-run", "--no-progress")
    assert code == 0
    assert helpers.snapshot(run) == before


def _failing_start(case: str, tmp_path: Path, copy_run, config_file) -> list:
    """Arguments of a train command that fails at the start of a run, before any step."""
    if case == "used-dir":
        return ["--config", config_file("ring8"), "--out", copy_run("ring8")]
    if case == "batch-larger-than-data":
        return ["--preset", "digits-dcgan", "--batch-size", "5000", "--out", tmp_path / "run"]
    if case == "below-a-file":
        (tmp_path / "file.txt").write_text("a file, not a folder")
        return ["--config", config_file("ring8"), "--out", tmp_path / "file.txt" / "run"]
    (tmp_path / "photos" / "samples").mkdir(parents=True)  # force-on-a-folder-no-run-wrote
    (tmp_path / "photos" / "samples" / "cat.jpg").write_bytes(b"jpeg")
    return ["--config", config_file("ring8"), "--out", tmp_path / "photos", "--force"]


@pytest.mark.parametrize("case", ["used-dir", "batch-larger-than-data", "below-a-file",
                                  "force-on-a-folder-no-run-wrote"])
def test_dry_run_fails_where_the_run_would_with_the_same_line(case, tmp_path, copy_run, config_file, capsys, helpers):
    argv = ["train", *_failing_start(case, tmp_path, copy_run, config_file), "--no-progress"]
    before = helpers.snapshot(tmp_path)
    code, out, err = run_cli(capsys, *argv, "--dry-run")
    line = assert_one_line_error(code, err)
    assert out == "" and helpers.snapshot(tmp_path) == before
    code, _, err = run_cli(capsys, *argv)
    assert assert_one_line_error(code, err) == line
    assert helpers.snapshot(tmp_path) == before


def test_dry_run_with_force_clears_nothing(copy_run, config_file, capsys, helpers):
    run = copy_run("ring8")
    before = helpers.snapshot(run)
    code, out, _ = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", run, "--force", "--dry-run")
    assert code == 0 and f"# would write to: {run}" in out
    assert helpers.snapshot(run) == before


# ----------------------------------------------------------------- train
def test_train_from_a_config_file_reports_where_everything_went(tmp_path, config_file, capsys, helpers):
    cfg = config_file("ring8", train={"steps": 4, "sample_every": 2, "checkpoint_every": 2, "log_every": 2})
    code, out, err = run_cli(capsys, "train", "--config", cfg, "--out", tmp_path / "run", "--no-progress")
    assert code == 0
    run = tmp_path / "run"
    for line in ("run: ", "samples: ", "metrics: ", "model: "):
        assert line in out
    assert str(run / "samples" / "latest.png") in out
    assert "G: toy" in err and "parameters" in err
    assert ganforge.Config.load(run / "config.yaml") == helpers.tiny_config(
        train={"steps": 4, "sample_every": 2, "checkpoint_every": 2, "log_every": 2})


def test_flags_override_the_config_file_and_a_runs_config_yaml_works_as_config(
        trained_runs, tmp_path, capsys):
    code, _, _ = run_cli(capsys, "train", "--config", trained_runs["ring8"] / "config.yaml", "--steps", "3",
                         "--loss", "hinge", "--lr", "0.002", "--seed", "5", "--out", tmp_path / "run",
                         "--no-progress")
    assert code == 0
    cfg = ganforge.Config.load(tmp_path / "run" / "config.yaml")
    assert (cfg.train.steps, cfg.loss.name, cfg.optim.lr_g, cfg.optim.lr_d, cfg.train.seed) == \
        (3, "hinge", 0.002, 0.002, 5)
    assert cfg.model.width == 32  # the rest comes from the file


def test_without_out_a_run_gets_a_numbered_directory_under_runs(tmp_path, config_file, capsys):
    cfg = config_file("ring8", train={"steps": 2})
    (tmp_path / "runs" / "ring8").mkdir(parents=True)
    (tmp_path / "runs" / "ring8" / "taken.txt").write_text("someone else's")
    code, out, _ = run_cli(capsys, "train", "--config", cfg, "--no-progress")
    assert code == 0
    assert "run: runs/ring8-2" in out
    assert (tmp_path / "runs" / "ring8-2" / "model" / "model.safetensors").is_file()


# ----------------------------------------------------------------- generate
def test_generate_points_as_npy_is_float32_n_by_2(trained_runs, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "generate", trained_runs["ring8"], "--n", "100", "--out", tmp_path / "x.npy")
    assert code == 0 and "wrote 100 samples" in out
    x = np.load(tmp_path / "x.npy")
    assert x.dtype == np.float32 and x.shape == (100, 2) and np.isfinite(x).all()


def test_generate_images_as_npy_is_uint8_n_h_w_c(trained_runs, tmp_path, capsys):
    code, _, _ = run_cli(capsys, "generate", trained_runs["digits"] / "model", "--n", "100",
                         "--out", tmp_path / "x.npy")
    assert code == 0
    x = np.load(tmp_path / "x.npy")
    assert x.dtype == np.uint8 and x.shape == (100, 8, 8, 1)
    assert x.max() > x.min()


@pytest.mark.parametrize("base, size", [("ring8", (512, 512)), ("digits", (10 * 10 + 2, 10 * 10 + 2))])
def test_generate_png_writes_a_picture(base, size, trained_runs, tmp_path, capsys):
    out = tmp_path / "sub" / "x.PNG"  # parent folders are made; the suffix is case-insensitive
    code, _, _ = run_cli(capsys, "generate", trained_runs[base], "--n", "100", "--out", out)
    assert code == 0
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == size


def test_generate_is_reproducible_by_seed_and_matches_the_pipeline(trained_runs, tmp_path, capsys):
    run = trained_runs["ring8"]
    outs = {}
    for name, seed, batch in (("a", 3, 256), ("a2", 3, 256), ("b", 3, 7), ("c", 4, 256)):
        code, _, _ = run_cli(capsys, "generate", run, "--n", "50", "--seed", seed, "--batch-size", batch,
                             "--out", tmp_path / f"{name}.npy")
        assert code == 0
        outs[name] = np.load(tmp_path / f"{name}.npy")
    assert np.array_equal(outs["a"], outs["a2"])     # same seed: the same bytes
    # another batch size: the same z, up to the matmul's float rounding for that batch shape
    np.testing.assert_allclose(outs["a"], outs["b"], rtol=0, atol=1e-5)
    assert not np.array_equal(outs["a"], outs["c"])  # another seed
    G = ganforge.load(run)
    z = torch.randn(50, G.z_dim, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(outs["a"], G(z).numpy())
    np.testing.assert_array_equal(outs["a"], GeneratePipeline.from_pretrained(run)(50, seed=3, output_type="np"))


@pytest.mark.parametrize("argv, fragments", [
    (["--out", "x.jpg"], (".png", ".npy", "x.jpg")),
    (["--out", "x"], (".png", ".npy")),
    (["--out", "x.npy", "--n", "0"], ("--n",)),
])
def test_generate_rejects_bad_output_names_and_counts(argv, fragments, trained_runs, capsys):
    code, _, err = run_cli(capsys, "generate", trained_runs["ring8"], *argv)
    assert_one_line_error(code, err, *fragments)


def test_generate_conditional_png_has_one_row_per_class(trained_runs, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "generate", trained_runs["digits-cgan"], "--n", "64", "--out", tmp_path / "g.png")
    assert code == 0 and "wrote 70 samples" in out and "10 rows, one per class" in out
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (7 * 10 + 2, 10 * 10 + 2)  # 7 columns of 8 px + 2 px padding, 10 rows


def test_generate_one_class_gives_what_the_generator_makes_for_it(trained_runs, tmp_path, capsys):
    run = trained_runs["digits-cgan"]
    code, _, _ = run_cli(capsys, "generate", run, "--class", "3", "--n", "5", "--out", tmp_path / "x.npy")
    assert code == 0
    G = ganforge.load(run)
    z = torch.randn(5, G.z_dim, generator=torch.Generator().manual_seed(0))
    expected = GeneratePipeline(G).to_numpy(G(z, torch.full((5,), 3)))
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), expected)
    other = GeneratePipeline(G).to_numpy(G(z, torch.full((5,), 4)))
    assert not np.array_equal(expected, other)


@pytest.mark.parametrize("run, cls, fragments", [
    ("digits-cgan", "10", ("class 10 is out of range", "0..9", "3=3")),
    ("digits-cgan", "-1", ("class -1 is out of range",)),
    ("digits", "3", ("not conditional", "--class")),
])
def test_generate_rejects_a_class_the_model_cannot_make(run, cls, fragments, trained_runs, tmp_path, capsys):
    code, _, err = run_cli(capsys, "generate", trained_runs[run], "--class", cls, "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "x.png").exists()


def test_generate_from_something_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "generate", tmp_path / "empty", "--out", tmp_path / "x.npy")
    assert_one_line_error(code, err, "not an exported ganforge model", "empty")


def test_generate_into_an_unwritable_place(trained_runs, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    code, _, err = run_cli(capsys, "generate", trained_runs["ring8"], "--out", tmp_path / "file.txt" / "x.npy")
    assert_one_line_error(code, err, "cannot write", "file.txt")


# ----------------------------------------------------------------- evaluate
def test_evaluate_prints_mode_coverage_and_appends_it_to_metrics(copy_run, capsys, helpers):
    run = copy_run("ring8")
    rows_before = helpers.read_metrics(run)
    code, out, _ = run_cli(capsys, "evaluate", run, "--n", "500", "--seed", "2")
    assert code == 0
    printed = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if not line.startswith("(")}
    assert printed.keys() == {"modes", "hq_percent", "reverse_kl"}
    assert 0 <= printed["modes"] <= 8 and 0 <= printed["hq_percent"] <= 100 and printed["reverse_kl"] >= 0

    rows = helpers.read_metrics(run)
    assert rows[:-1] == rows_before
    record = rows[-1]
    assert record["evaluate"] == "mode_coverage"
    for name, value in printed.items():
        assert record[f"Metric/{name}"] == pytest.approx(value, abs=1e-4)
    assert record["settings"]["n_fake"] == 500 and record["settings"]["seed"] == 2
    assert record["settings"]["data"] == "ring8"


def test_evaluate_is_reproducible_with_the_default_protocol(copy_run, capsys):
    run = copy_run("ring8")
    first = run_cli(capsys, "evaluate", run)[1]
    second = run_cli(capsys, "evaluate", run)[1]
    assert first == second and "n_fake=2500" in first


def test_evaluate_a_2d_model_with_image_metrics_says_what_it_takes(copy_run, capsys):
    code, _, err = run_cli(capsys, "evaluate", copy_run("ring8"), "--metrics", "modes,fid")
    assert_one_line_error(code, err, "mode coverage only", "fid")


# ----------------------------------------------------------------- bad input to train
@pytest.fixture
def bad_inputs(tmp_path) -> Path:
    points = tmp_path / "points.csv"
    points.write_text("x,y\n" + "".join(f"{i * 0.1},{-i * 0.1}\n" for i in range(10)))
    idx = tmp_path / "train-images-idx3-ubyte"
    idx.write_bytes(b"\x12\x34\x08\x03" + (2).to_bytes(4, "big") + (8).to_bytes(4, "big") * 2 + bytes(128))
    return tmp_path


TRAIN_ERRORS = {
    "unknown-preset": (["--preset", "ring9"], ["ring9", "ring8", "grid25", "digits-dcgan", "fashion-dcgan"]),
    "unknown-data": (["--data", "ring9"], ["ring9", "ring8", "grid25", "digits", "fashion-mnist"]),
    "unknown-model": (["--model", "gpt"], ["gpt", "toy", "mlp", "dcgan"]),
    "unknown-loss": (["--loss", "wgangp"], ["wgangp", "minimax", "non-saturating", "wgan-gp", "lsgan", "hinge"]),
    "missing-data-path": (["--data", "./no/such/folder"], ["./no/such/folder", "no such file"]),
    "corrupt-idx-header": (["--data", "{tmp}/train-images-idx3-ubyte", "--model", "dcgan"],
                           ["train-images-idx3-ubyte", "IDX header", "magic"]),
    "dcgan-resolution": (["--preset", "digits-dcgan", "--resolution", "25"], ["dcgan", "25 px", "--resolution"]),
    "dcgan-non-square": (["--preset", "digits-dcgan", "--resolution", "64x50"],
                         ["dcgan", "64x50 (width x height)", "--resolution"]),
    "batch-larger-than-data": (["--data", "{tmp}/points.csv", "--batch-size", "64"],
                               ["batch size 64", "10 samples", "points.csv"]),
    "model-data-mismatch": (["--data", "ring8", "--model", "dcgan"], ["dcgan", "points", "--model toy"]),
    "preset-and-config": (["--preset", "ring8", "--config", "{tmp}/points.csv"], ["--preset", "--config"]),
    "missing-config": (["--config", "{tmp}/nope.yaml"], ["nope.yaml", "not found"]),
    "bad-lr": (["--lr", "-0.1"], ["lr", "positive learning rate"]),
}


@pytest.mark.parametrize("case", list(TRAIN_ERRORS))
def test_train_rejects_bad_input_in_one_line(case, bad_inputs, capsys):
    argv, fragments = TRAIN_ERRORS[case]
    argv = [a.replace("{tmp}", str(bad_inputs)) for a in argv]
    # --steps 2 caps the damage should a case wrongly start training
    code, out, err = run_cli(capsys, "train", *argv, "--steps", "2", "--out", bad_inputs / "run", "--no-progress")
    assert_one_line_error(code, err, *fragments)
    assert out == ""
    assert not (bad_inputs / "run" / "checkpoints").exists()


def test_a_used_run_directory_is_refused_and_left_byte_for_byte_untouched(copy_run, config_file, capsys, helpers):
    run = copy_run("ring8")
    (run / "notes.txt").write_text("mine")
    before = helpers.snapshot(run)
    code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", run, "--no-progress")
    assert_one_line_error(code, err, str(run), "not empty", "--resume latest", "--force")
    assert helpers.snapshot(run) == before


def test_a_folder_with_only_a_users_file_is_also_refused(tmp_path, config_file, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", tmp_path / "run")
    assert_one_line_error(code, err, "not empty")


def test_force_replaces_the_run_but_keeps_the_users_other_files(copy_run, config_file, capsys, helpers):
    run = copy_run("ring8")  # 20 steps: checkpoints 10 and 20, samples 10 and 20
    (run / "notes.txt").write_text("mine")
    cfg = config_file("ring8", train={"steps": 4, "sample_every": 2, "checkpoint_every": 2, "log_every": 2})
    code, _, _ = run_cli(capsys, "train", "--config", cfg, "--out", run, "--force", "--no-progress")
    assert code == 0
    assert (run / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-00000002.pt", "step-00000004.pt"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["latest.png", "step-00000002.png",
                                                                     "step-00000004.png"]
    assert [r["step"] for r in helpers.read_metrics(run)] == [2, 4]
    assert ganforge.Config.load(run / "config.yaml").train.steps == 4


def test_force_never_clears_a_folder_no_ganforge_run_wrote(tmp_path, config_file, capsys, helpers):
    photos = tmp_path / "photos"  # a user's folder that happens to hold run-like names
    (photos / "samples").mkdir(parents=True)
    (photos / "samples" / "holiday.jpg").write_bytes(b"jpeg")
    (photos / "model").mkdir()
    (photos / "model" / "cat.png").write_bytes(b"png")
    before = helpers.snapshot(photos)
    code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", photos, "--force",
                           "--no-progress")
    assert_one_line_error(code, err, str(photos), "not a ganforge run directory", ".ganforge-run", "--out")
    assert helpers.snapshot(photos) == before


def test_a_run_marks_its_directory_with_what_trained_it(tmp_path, helpers):
    helpers.train_run(helpers.tiny_config(train={"steps": 2}), tmp_path / "mine")
    assert json.loads((tmp_path / "mine" / ".ganforge-run").read_text())["by"] == "train"
    helpers.train_run(helpers.tiny_config(train={"steps": 2}), tmp_path / "demo", owner="demo")
    assert json.loads((tmp_path / "demo" / ".ganforge-run").read_text())["by"] == "demo"


def test_the_demo_never_replaces_a_run_the_user_trained(copy_run, tmp_path, capsys, helpers):
    out = tmp_path / "out"
    out.mkdir()
    copy_run("ring8").rename(out / "ring8")  # a demo of its own: replaced without a word
    (out / "ring8" / ".ganforge-run").write_text(json.dumps({"by": "demo"}))
    copy_run("digits").rename(out / "digits-dcgan")  # e.g. `ganforge train ... --out out/digits-dcgan`
    before = helpers.snapshot(out)
    code, _, err = run_cli(capsys, "demo", "--out", out)
    assert_one_line_error(code, err, str(out / "digits-dcgan"), "run you trained", "another --out")
    assert helpers.snapshot(out) == before  # checked before the first demo run was cleared


def test_force_with_a_bad_option_leaves_the_old_run_alone(copy_run, config_file, capsys, helpers):
    run = copy_run("ring8")
    before = helpers.snapshot(run)
    code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--loss", "wgan_gp",
                           "--out", run, "--force", "--no-progress")
    assert_one_line_error(code, err, "wgan_gp")
    assert helpers.snapshot(run) == before


def test_a_rejected_run_creates_no_directory(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--loss", "nope", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "nope")
    assert not (tmp_path / "run").exists()


def test_an_output_below_a_regular_file_is_unwritable(tmp_path, config_file, capsys):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", tmp_path / "file.txt" / "run")
    assert_one_line_error(code, err, "cannot write", "file.txt")


def test_an_output_that_is_a_file_is_refused(tmp_path, config_file, capsys):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", tmp_path / "file.txt")
    assert_one_line_error(code, err, "file.txt", "not a directory")
    assert (tmp_path / "file.txt").read_text() == "a file, not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod 0o500")
def test_an_output_in_a_read_only_folder_is_unwritable(tmp_path, config_file, capsys):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        code, _, err = run_cli(capsys, "train", "--config", config_file("ring8"), "--out", parent / "run")
    finally:
        parent.chmod(0o700)
    assert_one_line_error(code, err, "cannot write", "locked")


# ----------------------------------------------------------------- bad input to --resume
@pytest.mark.parametrize("flags, named", [
    (["--loss", "hinge"], "--loss"),
    (["--batch-size", "8"], "--batch-size"),
    (["--preset", "ring8"], "preset"),
    (["--lr", "0.1"], "--lr"),
])
def test_resume_refuses_a_changed_option_and_touches_nothing(flags, named, copy_run, capsys, helpers):
    run = copy_run("ring8")
    before = helpers.snapshot(run)
    code, _, err = run_cli(capsys, "train", "--out", run, "--resume", "latest", *flags)
    assert_one_line_error(code, err, "keeps its config", "--steps", named)
    assert helpers.snapshot(run) == before


def test_resume_in_a_folder_without_checkpoints(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    code, _, err = run_cli(capsys, "train", "--out", tmp_path / "run", "--resume", "latest")
    assert_one_line_error(code, err, "no checkpoints", str(tmp_path / "run" / "checkpoints"))


def test_resume_of_a_missing_run_or_checkpoint(tmp_path, copy_run, capsys):
    code, _, err = run_cli(capsys, "train", "--out", tmp_path / "nowhere", "--resume", "latest")
    assert_one_line_error(code, err, "nowhere", "does not exist")
    run = copy_run("ring8")
    code, _, err = run_cli(capsys, "train", "--out", run, "--resume", run / "step-9.pt")
    assert_one_line_error(code, err, "step-9.pt", "not found")
    code, _, err = run_cli(capsys, "train", "--resume", "latest")
    assert_one_line_error(code, err, "--out")


def test_resume_with_a_corrupt_checkpoint_through_the_cli(copy_run, capsys):
    run = copy_run("ring8")
    latest = checkpoint.list_checkpoints(run)[-1]
    latest.write_bytes(b"\x00garbage" * 64)
    code, _, err = run_cli(capsys, "train", "--out", run, "--resume", "latest")
    assert_one_line_error(code, err, "cannot read checkpoint", latest.name)


# ----------------------------------------------------------------- a real process
def test_a_real_process_exits_2_with_one_error_line_and_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "default"}  # show, do not hide, any warning
    proc = subprocess.run([sys.executable, "-m", "ganforge", "train", "--data", "ring9", "--steps", "2",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "ring9" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_ctrl_c_stops_between_steps_saves_a_checkpoint_and_resumes(tmp_path):
    """A real SIGINT to a real training process: exit 130, one line, a resumable checkpoint."""
    import signal
    import time

    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganforge", "train", "--data", "ring8", "--model", "toy", "--width", "16",
           "--batch-size", "64", "--steps", "1000000", "--out", str(run), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 60
    while not (run / "metrics.jsonl").exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "interrupted at step" in lines[0] and "--resume latest" in lines[0]
    assert "Traceback" not in err
    ckpt = torch.load(sorted((run / "checkpoints").glob("step-*.pt"))[-1], weights_only=True)
    assert 0 < ckpt["step"] < 1_000_000
    code = main(["train", "--out", str(run), "--resume", "latest", "--steps", str(ckpt["step"] + 5),
                 "--no-progress"])
    assert code == 0 and (run / "model" / "model.safetensors").is_file()


# ----------------------------------------------------------------- image presets and options
@pytest.mark.parametrize("preset", ["folder-64", "folder-64-resnet"])
def test_folder_presets_ask_for_a_folder_then_build_at_64_px(preset, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--preset", preset)
    assert_one_line_error(code, err, f"preset '{preset}'", "--data PATH")
    folder = tmp_path / "art"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (80, 70), (i * 40, 10, 200)).save(folder / f"{i}.jpg")
    code, out, err = run_cli(capsys, "train", "--preset", preset, "--data", folder, "--batch-size", "2", "--dry-run")
    assert code == 0, err
    assert "# data: images (3, 64, 64), 3 samples" in out and "diffaugment: color,translation,cutout" in out
    assert not (tmp_path / "runs").exists()


def test_a_folder_at_a_non_square_size_trains_generates_and_interpolates(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):  # landscape photos of another aspect: covered, then centre-cropped
        Image.new("RGB", (90, 50), (i * 60, 20, 120)).save(folder / f"{i}.jpg")
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", "--data", folder, "--resolution", "16x12", "--width", "4",
                             "--steps", "2", "--batch-size", "2", "--out", run, "--no-progress")
    assert code == 0, err
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["kwargs"]["resolution"] == [12, 16] and config["data"]["shape"] == [3, 12, 16]
    assert "resolution: 16x12" in (run / "config.yaml").read_text()
    code, _, err = run_cli(capsys, "generate", run, "--n", "1", "--out", tmp_path / "one.png")
    assert code == 0, err
    assert Image.open(tmp_path / "one.png").size[0] > Image.open(tmp_path / "one.png").size[1]
    code, _, err = run_cli(capsys, "generate", run, "--interpolate", "1,2", "--frames", "3", "--out", tmp_path / "w.gif")
    with Image.open(tmp_path / "w.gif") as gif:
        assert code == 0 and gif.n_frames == 3 and gif.size[0] * 3 == gif.size[1] * 4  # 4:3 frames


def test_diffaugment_flag_alone_means_the_full_policy(capsys):
    code, out, _ = run_cli(capsys, "train", "--preset", "digits-dcgan", "--diffaugment", "--dry-run")
    assert code == 0 and "diffaugment: color,translation,cutout" in out
    code, out, _ = run_cli(capsys, "train", "--preset", "digits-dcgan", "--diffaugment", "translation", "--dry-run")
    assert code == 0 and "diffaugment: translation" in out
    code, _, err = run_cli(capsys, "train", "--preset", "digits-dcgan", "--diffaugment", "blur", "--dry-run")
    assert_one_line_error(code, err, "unknown DiffAugment policy 'blur'", "color, translation, cutout")


def test_scaling_and_gpu_flags_reach_the_config(capsys):
    code, out, _ = run_cli(capsys, "train", "--preset", "digits-dcgan", "--sync-batchnorm", "--compile",
                           "--amp", "fp16", "--dry-run")
    assert code == 0 and "sync_batchnorm: true" in out and "compile: true" in out and "amp: fp16" in out
    code, out, _ = run_cli(capsys, "train", "--preset", "digits-dcgan", "--dry-run")
    assert "sync_batchnorm: false" in out and "compile: false" in out and "amp: auto" in out


# ----------------------------------------------------------------- latent walks and projection
def test_generate_interpolate_writes_a_gif_whose_ends_are_the_seeds_samples(trained_runs, tmp_path, capsys):
    run = trained_runs["digits"]
    code, out, _ = run_cli(capsys, "generate", run, "--interpolate", "3,17", "--frames", "5", "--out", tmp_path / "w.gif")
    assert code == 0 and "wrote 5 frames (slerp, seeds 3 -> 17)" in out
    with Image.open(tmp_path / "w.gif") as im:
        assert im.n_frames == 5 and im.size == (128, 128)  # 8 px frames enlarged to be visible
    code, _, _ = run_cli(capsys, "generate", run, "--interpolate", "3,17", "--frames", "5", "--out", tmp_path / "w.npy")
    frames = np.load(tmp_path / "w.npy")
    for seed, frame in ((3, frames[0]), (17, frames[-1])):
        run_cli(capsys, "generate", run, "--n", "1", "--seed", seed, "--out", tmp_path / "one.npy")
        np.testing.assert_array_equal(frame, np.load(tmp_path / "one.npy")[0])


@pytest.mark.parametrize("argv, fragments", [
    (["--interpolate", "3", "--out", "w.gif"], ("two or more", "3,17")),
    (["--interpolate", "3,x", "--out", "w.gif"], ("integer seeds",)),
    (["--interpolate", "3,4", "--out", "w.jpg"], (".gif", ".png", ".npy")),
    (["--interpolate", "3,4", "--frames", "1", "--out", "w.gif"], ("--frames", "at least 2")),
    (["--interpolate", "3,4", "--class", "2", "--out", "w.gif"], ("not conditional",)),
])
def test_generate_interpolate_rejects_bad_options(argv, fragments, trained_runs, capsys):
    code, _, err = run_cli(capsys, "generate", trained_runs["digits"], *argv)
    assert_one_line_error(code, err, *fragments)


def test_project_finds_a_latent_that_reproduces_a_generated_image(trained_runs, tmp_path, capsys):
    run = trained_runs["digits"]
    run_cli(capsys, "generate", run, "--n", "1", "--seed", "5", "--out", tmp_path / "target.png")
    code, out, _ = run_cli(capsys, "project", run, tmp_path / "target.png", "--out", tmp_path / "p.png",
                           "--z", tmp_path / "z.npy", "--steps", "150")
    assert code == 0, out
    mse = float(out.split("reconstruction MSE ")[1].split()[0])
    assert mse < 0.05  # pixels in [-1, 1]; the PNG round trip costs < 1/255 per pixel
    G = ganforge.load(run)
    z = np.load(tmp_path / "z.npy")
    assert z.shape == (G.z_dim,)
    with Image.open(tmp_path / "p.png") as im:
        assert im.size == (2 * 10 + 2, 10 + 2)  # target | reconstruction


@pytest.mark.parametrize("make, fragments", [
    (lambda p: p / "missing.png", ("missing.png", "no such image")),
    (lambda p: (p / "bad.png").write_bytes(b"not a png") and p / "bad.png", ("bad.png",)),
])
def test_project_rejects_unreadable_images(make, fragments, trained_runs, tmp_path, capsys):
    code, _, err = run_cli(capsys, "project", trained_runs["digits"], make(tmp_path), "--out", tmp_path / "p.png")
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "p.png").exists()


def test_resume_and_force_together_is_refused(copy_run, capsys):
    run = copy_run("ring8")
    code, _, err = run_cli(capsys, "train", "--out", run, "--resume", "latest", "--force")
    assert_one_line_error(code, err, "--resume", "--force", "not both")


@pytest.mark.parametrize("device", ["meta", "xpu", "cuda:x"])
def test_devices_other_than_cpu_cuda_mps_are_refused(device, capsys):
    code, _, err = run_cli(capsys, "train", "--preset", "ring8", "--device", device, "--dry-run")
    if code == 0:  # --dry-run does not choose a device: train for real, briefly
        code, _, err = run_cli(capsys, "train", "--preset", "ring8", "--device", device, "--steps", "1")
    assert_one_line_error(code, err, f"unknown device '{device}'")


def test_report_writes_one_self_contained_page(copy_run, capsys):
    run = copy_run("digits")
    code, out, _ = run_cli(capsys, "report", run)
    assert code == 0 and f"wrote {run / 'report.html'}" in out
    html = (run / "report.html").read_text()
    assert "data:image/png;base64," in html and "data:image/gif;base64," in html
    assert "http://" not in html and "https://" not in html


def test_report_of_something_that_is_not_a_run(tmp_path, capsys):
    code, _, err = run_cli(capsys, "report", tmp_path)
    assert_one_line_error(code, err, str(tmp_path))

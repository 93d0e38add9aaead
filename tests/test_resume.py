"""Exact resume, the trainer's core promise: N steps in one go == N/2, resume, the rest.

"Exact" means bitwise on CPU: G, D, the EMA generator, both optimisers, every RNG state and
the batch position, compared with torch.equal. Also: checkpoints are complete, written
atomically, and a damaged one is a clear GanforgeError rather than a traceback.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import torch
from torch import nn

from ganforge.cli import main
from ganforge.config import OptimConfig
from ganforge.errors import GanforgeError
from ganforge.training import checkpoint
from ganforge.training.trainer import Trainer

# name -> (base config, overrides, total steps N); each is split at N // 2
CASES = {
    # a 2-D toy, sampled afresh each batch from the data generator
    "ring8": ("ring8", {}, 12),
    # BatchNorm in G and D (16 px: at 8 px D has no middle layer to normalise; no dropout in
    # dcgan); batch 256 of 1797 images: an epoch is 7 batches, so the split (step 5) is
    # mid-epoch and the reshuffle (step 7) comes after it
    "digits-dcgan-batchnorm": ("digits", {"data": {"resolution": 16}, "train": {"batch_size": 256}}, 10),
    # the penalty's interpolation weights come from the trainer's noise generator
    "ring8-wgan-gp": ("ring8", {"loss": {"name": "wgan-gp"}}, 12),
    # two D updates per step and lazy R1 every 4 steps (0, 4, 8): the split at 6 is off-interval
    "ring8-ncritic2-r1": ("ring8", {"loss": {"n_critic": 2, "r1_gamma": 1.0, "r1_interval": 4}}, 12),
    # the G step reuses the D step's fakes; a conditional ResNet with projection (and SNGAN's
    # class-conditional batch norm in G: per-class scales are weights, running statistics buffers)
    "digits-resnet-projection-reuse": ("digits", {"model": {"family": "resnet", "conditional": True,
                                                            "conditioning": "projection", "spectral_norm": True,
                                                            "g_conditioning": "batchnorm"},
                                                  "train": {"reuse_fakes": True}}, 6),
    "digits-acgan": ("digits", {"model": {"conditional": True, "conditioning": "acgan"}}, 6),
    # DiffAugment draws from the trainer's noise generator, also inside R1
    "digits-diffaugment-r1": ("digits", {"train": {"diffaugment": "color,translation,cutout"},
                                         "loss": {"r1_gamma": 1.0, "r1_interval": 2}}, 6),
}


def _config(helpers, base: str, overrides: dict, steps: int):
    cfg = helpers.tiny_config(base, **overrides)
    cfg.train.steps = steps
    cfg.train.checkpoint_every = 4
    return cfg


@pytest.mark.parametrize("case", list(CASES))
def test_resume_is_bitwise_identical_to_one_uninterrupted_run(case, tmp_path, helpers):
    base, overrides, n = CASES[case]
    one = helpers.train_run(_config(helpers, base, overrides, n), tmp_path / "one")

    half = helpers.train_run(_config(helpers, base, overrides, n // 2), tmp_path / "split")
    assert half.step == n // 2
    resumed = helpers.train_run(None, tmp_path / "split", resume="latest", steps=n)
    assert resumed.step == n and resumed.cfg == one.cfg

    # the live state: weights, BatchNorm buffers, EMA, optimiser moments, RNGs, batch position
    helpers.assert_same_state(helpers.trainer_state(one), helpers.trainer_state(resumed), case)
    # and the complete final checkpoints on disk (global RNG state and config included)
    final = checkpoint.checkpoint_path(tmp_path / "one", n)
    again = checkpoint.checkpoint_path(tmp_path / "split", n)
    helpers.assert_same_state(checkpoint.load(final), checkpoint.load(again), f"{case} checkpoint")
    # the resumed half really trained: it moved away from the checkpoint it started from
    assert not torch.equal(next(half.G.parameters()), next(resumed.G.parameters()))


def test_the_image_case_really_has_batchnorm_and_no_dropout(helpers, tmp_path):
    base, overrides, n = CASES["digits-dcgan-batchnorm"]
    t = Trainer(_config(helpers, base, overrides, n), tmp_path / "run", progress=False)
    for net in (t.G, t.D):
        kinds = {type(m) for m in net.modules()}
        assert nn.BatchNorm2d in kinds
        assert not any(issubclass(k, nn.modules.dropout._DropoutNd) for k in kinds)


def test_resume_from_an_earlier_checkpoint_file_replays_the_same_steps(tmp_path, helpers):
    run = tmp_path / "run"
    helpers.train_run(_config(helpers, "ring8", {}, 12), run)  # checkpoints at 4, 8, 12
    assert [p.name for p in checkpoint.list_checkpoints(run)] == [
        "step-00000004.pt", "step-00000008.pt", "step-00000012.pt"]
    expected = checkpoint.load(checkpoint.checkpoint_path(run, 12))

    # a later checkpoint off the interval (as Ctrl-C leaves) must not stay 'latest'
    (run / "checkpoints" / "step-00000010.pt").write_bytes(checkpoint.checkpoint_path(run, 12).read_bytes())
    rows_before = helpers.read_metrics(run)

    resumed = helpers.train_run(None, run, resume=str(checkpoint.checkpoint_path(run, 4)))
    assert resumed.step == 12
    helpers.assert_same_state(expected, checkpoint.load(checkpoint.checkpoint_path(run, 12)))
    assert checkpoint.resolve(run, "latest").name == "step-00000012.pt"
    assert not (run / "checkpoints" / "step-00000010.pt").exists()
    steps = [r["step"] for r in helpers.read_metrics(run)]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # the abandoned rows are gone
    assert steps == [r["step"] for r in rows_before]


@pytest.mark.skipif("lr_decay" not in {f.name for f in fields(OptimConfig)}, reason="no lr schedules")
@pytest.mark.parametrize("decay", ["linear", "cosine"])
def test_a_run_with_a_learning_rate_schedule_resumes_exactly(decay, tmp_path, helpers):
    # the schedule depends on the step budget, so this resumes an interrupted run (same budget)
    run = tmp_path / "run"
    cfg = _config(helpers, "ring8", {"optim": {"lr_decay": decay, "warmup": 0.25}}, 12)
    helpers.train_run(cfg, run)
    expected = checkpoint.load(checkpoint.checkpoint_path(run, 12))
    assert expected["opt_g"]["param_groups"][0]["lr"] < cfg.optim.lr_g  # it did decay
    helpers.train_run(None, run, resume=str(checkpoint.checkpoint_path(run, 4)))
    helpers.assert_same_state(expected, checkpoint.load(checkpoint.checkpoint_path(run, 12)))


def test_cli_resume_latest_matches_one_cli_run(tmp_path, config_file, helpers, capsys):
    cfg = str(config_file("ring8", train={"checkpoint_every": 4}))
    assert main(["train", "--config", cfg, "--steps", "12", "--out", str(tmp_path / "one"), "--no-progress"]) == 0
    assert main(["train", "--config", cfg, "--steps", "6", "--out", str(tmp_path / "split"), "--no-progress"]) == 0
    assert main(["train", "--out", str(tmp_path / "split"), "--resume", "latest", "--steps", "12",
                 "--no-progress"]) == 0
    capsys.readouterr()
    one = checkpoint.load(checkpoint.checkpoint_path(tmp_path / "one", 12))
    split = checkpoint.load(checkpoint.checkpoint_path(tmp_path / "split", 12))
    helpers.assert_same_state(one, split)


# ----------------------------------------------------------------- checkpoint files
def test_checkpoints_hold_everything_resume_needs_and_load_without_pickled_code(trained_runs):
    files = checkpoint.list_checkpoints(trained_runs["digits"])
    assert files
    ckpt = torch.load(files[-1], map_location="cpu", weights_only=True)
    for key in ("G", "D", "G_ema", "opt_g", "opt_d", "step", "rng", "config", "batches"):
        assert key in ckpt, key
    assert ckpt["step"] == 8
    assert {"torch", "noise", "data"} <= set(ckpt["rng"])
    assert ckpt["config"]["data"]["source"] == "digits"
    assert any("running_mean" in k for k in ckpt["G"])  # BatchNorm statistics travel too


def test_no_temporary_files_are_left_behind(trained_runs):
    for run in trained_runs.values():
        leftovers = [p for p in run.rglob("*") if p.name.endswith(".tmp") or p.name == ".write-test"]
        assert leftovers == []


def _corrupt_garbage(path: Path) -> None:
    path.write_bytes(b"this is not a checkpoint\n" * 10)


def _corrupt_truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt_empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [
    pytest.param(_corrupt_garbage, id="garbage"),
    pytest.param(_corrupt_truncated, id="truncated"),
    pytest.param(_corrupt_empty, id="empty"),
])
def test_a_corrupt_latest_checkpoint_is_a_clear_error_naming_the_file(damage, copy_run):
    run = copy_run("ring8")
    latest = checkpoint.list_checkpoints(run)[-1]
    damage(latest)
    with pytest.raises(GanforgeError, match="cannot read checkpoint") as info:
        Trainer(None, run, resume="latest", progress=False)
    message = str(info.value)
    assert latest.name in message and "\n" not in message


class _NotATensor:  # a checkpoint holding this needs unpickling code, which weights_only refuses
    pass


def test_a_checkpoint_with_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"G": _NotATensor(), "step": 1}, path)
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        checkpoint.load(path)


def test_a_torch_file_that_is_not_a_checkpoint_is_named_as_such(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(GanforgeError, match="not a ganforge checkpoint"):
        checkpoint.load(path)


@pytest.mark.parametrize("drop", ["scaler_d", "batches", "rng.noise"])
def test_a_checkpoint_missing_what_resume_reads_names_it(drop, copy_run):
    run = copy_run("ring8")
    latest = checkpoint.list_checkpoints(run)[-1]
    ckpt = torch.load(latest, weights_only=True)
    section, _, key = drop.rpartition(".")
    del (ckpt[section] if section else ckpt)[key]
    torch.save(ckpt, latest)
    with pytest.raises(GanforgeError) as info:
        Trainer(None, run, resume="latest", progress=False)
    message = str(info.value)
    assert "\n" not in message and latest.name in message and f"lacks {drop}," in message


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "checkpoints" / "step-00000001.pt"
    checkpoint.atomic_save({"G": {}, "step": 1}, target)
    before = target.read_bytes()
    with pytest.raises(Exception):
        checkpoint.atomic_save({"G": {}, "step": 2, "bad": lambda: 0}, target)  # unpicklable
    assert target.read_bytes() == before
    assert torch.load(target, weights_only=True)["step"] == 1


def test_atomic_save_removes_its_temporary_file_when_writing_fails(tmp_path):
    target = tmp_path / "checkpoints" / "step-00000001.pt"
    checkpoint.atomic_save({"G": {}, "step": 1}, target)
    with pytest.raises(Exception):
        checkpoint.atomic_save({"G": {}, "step": 2, "bad": lambda: 0}, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["step-00000001.pt"]


def test_at_most_three_checkpoints_are_kept_newest_last(tmp_path, helpers):
    run = tmp_path / "run"
    helpers.train_run(helpers.tiny_config("ring8", train={"steps": 10, "checkpoint_every": 2}), run)
    files = sorted((run / "checkpoints").iterdir())
    assert [p.name for p in files] == ["step-00000006.pt", "step-00000008.pt", "step-00000010.pt"]
    assert checkpoint.resolve(run, "latest").name == "step-00000010.pt"

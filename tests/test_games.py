"""The loop's guarantees for every game: pix2pix and CycleGAN (and, where cheap, generation).

Exact resume (CycleGAN's history pools included), torchrun = one process, the roll-back of a
NaN, the export as a translator, the sample picture, the held-out evaluation and a real
L1 learning check, and bad input to `ganforge train --game ...` in one line. Real training
throughout, kept tiny: digits at 16 px, 8-channel networks, batch 8 (tests/conftest.py's
"pix2pix" and "cycle" bases).
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torch import nn

import ganforge
from ganforge.data.idx import FASHION_MNIST_ROOT
from ganforge.training import checkpoint
from ganforge.training.trainer import Trainer
from ganforge.viz.grid import to_uint8

sys.path.insert(0, str(Path(__file__).parent))
from ddp_scenarios import GAME_SCENARIOS, STEPS  # noqa: E402
from test_cli import assert_one_line_error, run_cli  # noqa: E402

GAMES = ["pix2pix", "cycle"]
WORKER = Path(__file__).parent / "ddp_worker.py"


# ----------------------------------------------------------------- exact resume
# name -> (base, overrides, total steps N); each is split at N // 2
RESUME_CASES = {
    # the defaults: a U-Net with dropout (the global RNG) and BatchNorm; random crops from the
    # 18 px stored images and flips (the data RNG); 40 training pairs make an epoch 5 batches,
    # so the reshuffle (step 5) comes after the split (step 4)
    "pix2pix-unet-jitter-flip": ("pix2pix", {"data": {"jitter": True, "flip": True, "holdout": 1757}}, 8),
    # the other generator, instance norm, LSGAN (the x2 scale) on super-resolution pairs
    "pix2pix-resnet-lsgan": ("pix2pix", {"data": {"pairs": "downscale:2"}, "loss": {"name": "lsgan"},
                                         "model": {"family": "resnet-translator", "norm": "instance",
                                                   "blocks": 1}}, 6),
    # pools of 4 (full after the first step: every later step swaps at random, on both sides of
    # the split); 33 A and 24 B images left for training, so each side reshuffles on its own
    "cycle-pool-jitter-flip": ("cycle", {"data": {"jitter": True, "flip": True, "holdout": 150}}, 8),
}


def _resume_config(helpers, base: str, overrides: dict, steps: int):
    cfg = helpers.tiny_config(base, **overrides)
    cfg.train.steps, cfg.train.checkpoint_every = steps, 2
    return cfg


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_is_bitwise_identical_to_one_uninterrupted_run(case, tmp_path, helpers, no_summary):
    base, overrides, n = RESUME_CASES[case]
    one = helpers.train_run(_resume_config(helpers, base, overrides, n), tmp_path / "one")
    half = helpers.train_run(_resume_config(helpers, base, overrides, n // 2), tmp_path / "split")
    if base == "cycle":  # the pools are full at the split: the swaps go on after the resume
        assert all(pool.count == pool.size == 4 for pool in half.game.pools.values())
    resumed = helpers.train_run(None, tmp_path / "split", resume="latest", steps=n)
    assert resumed.step == n and resumed.cfg == one.cfg

    # weights, norm buffers, EMA, Adam moments, RNGs, batch positions, the pools' images and fill
    helpers.assert_same_state(helpers.trainer_state(one), helpers.trainer_state(resumed), case)
    final, again = (checkpoint.load(checkpoint.checkpoint_path(tmp_path / r, n)) for r in ("one", "split"))
    helpers.assert_same_state(final, again, f"{case} checkpoint")
    assert not torch.equal(next(half.G.parameters()), next(resumed.G.parameters()))  # it trained on
    # eval_every 0: nothing is measured, not even at the end
    assert not any(k.startswith("Metric/") for row in helpers.read_metrics(tmp_path / "one") for k in row)


def test_the_pools_really_swap_and_their_state_is_in_the_checkpoint(tmp_path, helpers, no_summary):
    t = helpers.train_run(_resume_config(helpers, "cycle", {}, 3), tmp_path / "run")
    ckpt = checkpoint.load(checkpoint.checkpoint_path(tmp_path / "run", 3))
    for side, pool in t.game.pools.items():
        saved = ckpt["game"]["pools"][side]
        assert saved["count"] == 4 and saved["images"].shape == (4, 1, 16, 16)
        assert torch.equal(saved["images"], pool.images)
    # what D was shown: a pooled image in place of a new fake about half the time
    fakes = torch.randn(64, 1, 16, 16)
    shown = t.game.pools["a"].query(fakes)
    swapped = sum(not torch.equal(shown[i], fakes[i]) for i in range(64))
    assert 16 <= swapped <= 48


# ----------------------------------------------------------------- torchrun: 2 processes = 1
@pytest.fixture(scope="module")
def two_process_games(tmp_path_factory):
    """One torchrun of tests/ddp_worker.py for every game scenario (STEPS steps each)."""
    out = tmp_path_factory.mktemp("ddp-games")
    env = {**os.environ, "GANFORGE_CACHE": str(out / "cache"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(WORKER),
           str(out), *GAME_SCENARIOS]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text())


def biases_before_instance_norm(module: nn.Module) -> set[str]:
    """The convolution biases an affine-free InstanceNorm follows (CycleGAN's networks keep them,
    as pytorch-CycleGAN-and-pix2pix does). The norm subtracts each channel's mean, bias and all,
    so their gradients are zero but for rounding, which Adam scales up into lr-sized steps: on
    2 processes (a different order of sums) they take other steps that change no output."""
    names = set()
    for prefix, seq in module.named_modules():
        if isinstance(seq, nn.Sequential):
            children = list(seq.named_children())
            for (name, layer), (_, after) in zip(children, children[1:]):
                if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and layer.bias is not None \
                        and isinstance(after, nn.InstanceNorm2d) and not after.affine:
                    names.add(f"{prefix}.{name}.bias".lstrip("."))
    return names


@torch.no_grad()
def outputs(game: str, net: str, module: nn.Module, held_a: torch.Tensor, held_b: torch.Tensor) -> list[torch.Tensor]:
    """What a network makes of the held-out images (eval mode, without changing `module`)."""
    m = copy.deepcopy(module).eval()
    if game == "cycle":
        return [m(held_a, "a2b"), m(held_b, "b2a")] if net == "G" else [m(held_a, "a"), m(held_b, "b")]
    return [m(held_a)] if net == "G" else [m(held_b, held_a)]


@pytest.mark.parametrize("name", list(GAME_SCENARIOS))
def test_two_processes_compute_what_one_process_computes_on_the_global_batch(two_process_games, name, tmp_path):
    out, report = two_process_games
    assert report[f"{name}/rank_difference"] == 0.0  # both ranks held the same weights after every step
    one = Trainer(GAME_SCENARIOS[name](), tmp_path / name, progress=False)
    for _ in range(STEPS):
        one.train_step()
        if one.step == 1:  # D's gradients of the first step
            grads = {n: p.grad.clone() for n, p in one.D.named_parameters() if p.grad is not None}
    ddp_grads = torch.load(out / f"{name}-grads.pt", weights_only=True)
    assert ddp_grads.keys() == grads.keys() and grads
    for key in grads:
        torch.testing.assert_close(ddp_grads[key], grads[key], rtol=1e-4, atol=1e-6, msg=key)
    saved = torch.load(out / f"{name}-weights.pt", weights_only=True)
    held_a, held_b = one.game.held_a, one.game.held_b
    for net, module in (("G", one.G), ("D", one.D)):
        inert = biases_before_instance_norm(module)
        assert bool(inert) == (name == "cycle")  # pix2pix's scenario: BatchNorm, conv layers without bias
        for key, value in module.state_dict().items():
            if key not in inert:
                torch.testing.assert_close(saved[net][key], value, rtol=1e-4, atol=1e-5, msg=f"{net}.{key}")
        ddp = copy.deepcopy(module)
        ddp.load_state_dict(saved[net])
        for theirs, mine in zip(outputs(name, net, ddp, held_a, held_b), outputs(name, net, module, held_a, held_b)):
            torch.testing.assert_close(theirs, mine, rtol=1e-4, atol=1e-5, msg=f"{net}'s outputs")
    # CycleGAN's pools hold the global batch's fakes on every rank, as one process's do
    assert saved["game"].keys() == one.game.state_dict().keys()
    for side, pool in one.game.state_dict().get("pools", {}).items():
        assert saved["game"]["pools"][side]["count"] == pool["count"] == 4
        torch.testing.assert_close(saved["game"]["pools"][side]["images"], pool["images"], rtol=1e-4, atol=1e-5)
    # the held-out measures of the EMA generator (the worker evaluates at the end)
    mine = one.evaluation(one.ema.model, one.game.data_info(), one.dist)
    for key, value in mine.items():
        assert report[f"{name}/metrics"][f"Metric/{key}"] == pytest.approx(value, rel=1e-4), key


@pytest.mark.parametrize("name, norm", [("pix2pix", nn.BatchNorm2d), ("cycle", nn.InstanceNorm2d)])
def test_the_scenarios_really_have_the_norm_layers_they_claim(name, norm, tmp_path):
    t = Trainer(GAME_SCENARIOS[name](), tmp_path / name, progress=False)
    assert t.cfg.train.sync_batchnorm  # (converted to SyncBatchNorm under torchrun)
    for net in (t.G, t.D):
        kinds = {type(m) for m in net.modules()}
        assert norm in kinds and not any(issubclass(k, nn.modules.dropout._DropoutNd) for k in kinds)


# ----------------------------------------------------------------- health: NaN -> roll-back
# the phase whose loss turns NaN once, in step 5 (the row of step 6 finds it)
POISONED_PHASE = {"digits": "D", "pix2pix": "D", "cycle": "G"}


@pytest.mark.parametrize("base", list(POISONED_PHASE))
def test_a_nan_loss_is_rolled_back_to_the_last_good_state_at_half_the_learning_rates(base, tmp_path, helpers,
                                                                                    capsys, no_summary):
    train = {"steps": 8, "log_every": 2, "checkpoint_every": 2, "sample_every": 8}
    t = Trainer(helpers.tiny_config(base, train=train), tmp_path / "nan", progress=False)
    phase = next(p for p in t.phases if p.name == POISONED_PHASE[base])
    clean, poisoned = phase.loss, []

    def loss():
        value = clean()
        if t.step == 4 and not poisoned:  # once: the replayed step 5 is clean
            poisoned.append(t.step)
            return value * math.nan
        return value
    phase.loss = loss
    t.fit()
    assert poisoned == [4] and t.rollbacks == 1 and t.step == 8
    assert "not finite at step 6: rolled back to step 4" in capsys.readouterr().err
    alarms = [json.loads(line) for line in (tmp_path / "nan" / "alarms.jsonl").read_text().splitlines()]
    (alarm,) = [a for a in alarms if a["alarm"] == "non_finite"]  # (tiny runs may also raise mode_collapse)
    assert alarm["step"] == 6 and "rolled back to step 4" in alarm["message"]
    lr_g, lr_d = helpers.tiny_config(base).optim.lr_g, helpers.tiny_config(base).optim.lr_d
    assert (t.cfg.optim.lr_g, t.cfg.optim.lr_d) == (lr_g / 2, lr_d / 2)
    assert ganforge.Config.load(tmp_path / "nan" / "config.yaml").optim.lr_g == lr_g / 2
    rows = helpers.read_metrics(tmp_path / "nan")
    assert [r["step"] for r in rows] == [2, 4, 6, 8]  # the failed row of step 6 was dropped, then replayed
    assert rows[2].get("Health/non_finite") == 1.0
    assert all(math.isfinite(v) for r in rows for k, v in r.items() if k.startswith("Loss/"))
    for path in checkpoint.list_checkpoints(tmp_path / "nan"):
        state = checkpoint.load(path)
        assert all(torch.isfinite(v).all() for key in ("G", "D", "G_ema") for v in state[key].values()
                   if v.is_floating_point()), path.name

    # back to exactly the good state: the same as 4 steps, a resume, 4 more at half the rates
    helpers.train_run(helpers.tiny_config(base, train={**train, "steps": 4}), tmp_path / "ref")
    ref = Trainer(None, tmp_path / "ref", resume="latest", steps=8, progress=False)
    ref.cfg.optim.lr_g, ref.cfg.optim.lr_d = lr_g / 2, lr_d / 2
    ref.fit()
    helpers.assert_same_state(helpers.trainer_state(t), helpers.trainer_state(ref), f"{base} after the roll-back")


# ----------------------------------------------------------------- export and load
@pytest.mark.parametrize("game", GAMES)
def test_the_export_is_a_translator_with_the_ema_model_s_weights_and_outputs(game, translation_runs):
    r = translation_runs[game]
    ema, held_a, held_b = r.trainer.ema.model, r.trainer.game.held_a, r.trainer.game.held_b
    for where in (r.run, r.run / "model"):  # a run directory or its model/
        G = ganforge.load(where)
        assert G.kind == "translator" and not G.training and G.data_info["game"] == game
        state = G.state_dict()
        assert state.keys() == ema.state_dict().keys()
        assert all(torch.equal(v, ema.state_dict()[k]) for k, v in state.items())
    if game == "cycle":  # both directions in one model
        assert G.directions == ("a2b", "b2a")
        assert G.data_info["source"] == "digits:3" and G.data_info["source_b"] == "digits:8"
        pairs = [(G(held_a, "a2b"), ema(held_a, "a2b")), (G(held_b, "b2a"), ema(held_b, "b2a"))]
    else:
        assert not hasattr(G, "directions") and G.data_info["pairs"] == "edges"
        pairs = [(G(held_a), ema(held_a))]
    for loaded, trained in pairs:  # (the trainer's copy is channels_last: a different kernel, same maths)
        assert loaded.shape == (len(held_a), 1, 16, 16)
        torch.testing.assert_close(loaded, trained, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("game", GAMES)
def test_generate_refuses_a_translator_in_one_line(game, translation_runs, tmp_path, capsys):
    code, out, err = run_cli(capsys, "generate", translation_runs[game].run, "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "translator", "ganforge translate")
    assert out == "" and not (tmp_path / "x.png").exists()


# ----------------------------------------------------------------- the sample picture
@pytest.mark.parametrize("game", GAMES)
def test_a_translation_run_directory_holds_what_a_generation_run_s_does(game, translation_runs):
    run = translation_runs[game].run
    for name in ("config.yaml", "metrics.jsonl", "run_info.json", "curves.png", "timelapse.gif", "report.html"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["latest.png", "step-00000004.png",
                                                                     "step-00000008.png"]
    assert [p.name for p in checkpoint.list_checkpoints(run)] == ["step-00000004.pt", "step-00000008.pt"]
    assert sorted(p.name for p in (run / "model").iterdir()) == ["config.json", "model.safetensors"]
    assert ganforge.Config.load(run / "config.yaml").game.name == game


def grid_size(n: int, nrow: int, h: int, w: int, pad: int = 2) -> tuple[int, int]:
    """(width, height) of ganforge.viz.grid.image_grid's picture of n h x w tiles, nrow a row."""
    return nrow * (w + pad) + pad, math.ceil(n / nrow) * (h + pad) + pad


def tile(picture: np.ndarray, row: int, col: int, h: int = 16, w: int = 16, pad: int = 2) -> np.ndarray:
    top, left = pad + row * (h + pad), pad + col * (w + pad)
    return picture[top:top + h, left:left + w]


@torch.no_grad()
def test_the_pix2pix_picture_is_input_output_target_two_triples_a_row(translation_runs):
    r = translation_runs["pix2pix"]
    latest = r.run / "samples" / "latest.png"
    assert latest.read_bytes() == (r.run / "samples" / "step-00000008.png").read_bytes()
    with Image.open(latest) as im:
        assert im.mode == "L" and im.size == grid_size(3 * 16, 6, 16, 16) == (110, 146)  # 16 pairs, 8 rows
        picture = np.asarray(im)
    a, b = r.trainer.game.held_a[:16], r.trainer.game.held_b[:16]
    out = r.trainer.ema.model(a)
    for i in (0, 1, 15):  # pair i: row i // 2, columns 3 (i % 2) ...
        row, col = divmod(i, 2)
        for j, images in enumerate((a, out, b)):
            assert np.array_equal(tile(picture, row, 3 * col + j), to_uint8(images[i:i + 1])[0, ..., 0]), (i, j)


@torch.no_grad()
def test_the_cycle_picture_is_there_and_back_for_each_side(translation_runs):
    r = translation_runs["cycle"]
    with Image.open(r.run / "samples" / "latest.png") as im:
        assert im.mode == "L" and im.size == grid_size(2 * 8 * 3, 3, 16, 16) == (56, 290)  # 8 of A, 8 of B
        picture = np.asarray(im)
    G, a, b = r.trainer.ema.model, r.trainer.game.held_a[:8], r.trainer.game.held_b[:8]
    ab, ba = G(a, "a2b"), G(b, "b2a")
    rows = [(a, ab, G(ab, "b2a")), (b, ba, G(ba, "a2b"))]  # A | A->B | back, then B | B->A | back
    for side, columns in enumerate(rows):
        for i in (0, 7):
            for j, images in enumerate(columns):
                assert np.array_equal(tile(picture, 8 * side + i, j), to_uint8(images[i:i + 1])[0, ..., 0])


# ----------------------------------------------------------------- held-out evaluation
@pytest.mark.parametrize("game, names", [("pix2pix", ["l1", "psnr"]), ("cycle", ["cycle_l1_a", "cycle_l1_b"])])
def test_the_held_out_measures_are_in_metrics_jsonl_every_eval_interval(game, names, translation_runs, helpers):
    r = translation_runs[game]  # eval_every 4 of 8 steps
    rows = helpers.read_metrics(r.run)
    measured = [row for row in rows if any(k.startswith("Metric/") for k in row)]
    assert [row["step"] for row in measured] == [4, 8]
    for row in measured:
        assert {k for k in row if k.startswith("Metric/")} == {f"Metric/{n}" for n in names}
        for n in names:
            assert math.isfinite(row[f"Metric/{n}"]) and row[f"Metric/{n}"] >= 0
        assert game != "pix2pix" or 0 < row["Metric/l1"] <= 2 and row["Metric/psnr"] > 0
    # the last row measured the exported (EMA) generator
    again = r.trainer.evaluation(r.trainer.ema.model, r.trainer.game.data_info(), r.trainer.dist)
    for n in names:
        assert measured[-1][f"Metric/{n}"] == pytest.approx(again[n], rel=1e-5)


def test_l1_training_really_learns_super_resolution(tmp_path, helpers, no_summary):
    """pix2pix with the L1 term alone (gan_weight 0) on 2x downscaled digits: 300 steps
    bring the held-out L1 far below the untrained network's (0.67 -> ~0.2 on this CPU)."""
    cfg = helpers.tiny_config("pix2pix", game={"gan_weight": 0.0}, data={"pairs": "downscale:2", "holdout": 64},
                              train={"steps": 300, "log_every": 50, "eval_every": 100, "sample_every": 300,
                                     "checkpoint_every": 300})
    t = Trainer(cfg, tmp_path / "run", progress=False)
    untrained = t.evaluation(t.ema.model, t.game.data_info(), t.dist)
    t.fit()
    rows = [row for row in helpers.read_metrics(tmp_path / "run") if "Metric/l1" in row]
    assert [row["step"] for row in rows] == [100, 200, 300]
    assert rows[-1]["Metric/l1"] < 0.5 * untrained["l1"], (untrained, rows)
    assert rows[-1]["Metric/l1"] < rows[0]["Metric/l1"]
    assert rows[-1]["Metric/psnr"] > untrained["psnr"] + 5  # dB


# ----------------------------------------------------------------- the game flags of `train`
def test_the_game_flags_reach_the_config_of_a_dry_run(tmp_path, capsys):
    code, out, err = run_cli(capsys, "train", "--game", "pix2pix", "--data", "digits", "--pairs", "downscale:2",
                             "--resolution", "16", "--jitter", "--flip", "--holdout", "20", "--l1-weight", "50",
                             "--norm", "instance", "--d-layers", "2", "--width", "8", "--dry-run",
                             "--out", tmp_path / "p")
    assert code == 0, err
    cfg = yaml.safe_load(out)  # (the lines after the config are YAML comments)
    assert cfg["game"]["name"] == "pix2pix" and cfg["game"]["l1_weight"] == 50
    assert {k: cfg["data"][k] for k in ("pairs", "jitter", "flip", "holdout")} == \
        {"pairs": "downscale:2", "jitter": True, "flip": True, "holdout": 20}
    assert (cfg["model"]["norm"], cfg["model"]["d_layers"]) == ("instance", 2)
    assert "# data: pairs (1, 18, 18)" in out and "G: unet" in err  # stored 9/8 bigger for the random crops
    code, out, err = run_cli(capsys, "train", "--game", "cycle", "--data", "digits:3", "--data-b", "digits:8",
                             "--cycle-weight", "5", "--resolution", "16", "--d-layers", "2", "--width", "8",
                             "--dry-run", "--out", tmp_path / "c")
    assert code == 0, err
    cfg = yaml.safe_load(out)
    assert (cfg["game"]["name"], cfg["game"]["cycle_weight"], cfg["data"]["source_b"]) == ("cycle", 5, "digits:8")
    assert "G: translator_pair" in err
    assert not (tmp_path / "p").exists() and not (tmp_path / "c").exists()


# ----------------------------------------------------------------- bad input to train
@pytest.fixture
def bad_folders(tmp_path) -> Path:
    def png(path: Path, w: int, h: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(path)
    for name in ("0", "1", "2"):  # 1.png has no partner in B/
        png(tmp_path / "unpaired" / "A" / f"{name}.png", 16, 16)
    for name in ("0", "2"):
        png(tmp_path / "unpaired" / "B" / f"{name}.png", 16, 16)
    png(tmp_path / "sizes" / "A" / "0.png", 16, 16)
    png(tmp_path / "sizes" / "B" / "0.png", 20, 16)
    return tmp_path


GAME_ERRORS = {
    "a-without-its-b": (["--game", "pix2pix", "--data", "{tmp}/unpaired"],
                        ["unpaired/A/1.png", "no image named 1.*", "unpaired/B"]),
    "pair-of-two-sizes": (["--game", "pix2pix", "--data", "{tmp}/sizes"],
                          ["A/0.png is 16x16", "B/0.png is 20x16", "same size"]),
    "unknown-recipe": (["--game", "pix2pix", "--data", "digits", "--pairs", "sketch"],
                       ["'sketch'", "edges", "gray", "downscale:N", "mask"]),
    "unknown-class-name": (["--game", "cycle", "--data", "fashion-mnist:sandal-boot",
                            "--data-b", "fashion-mnist:sneaker"],
                           ["fashion-mnist:sandal-boot", "no class 'sandal-boot'", "5 Sandal", "7 Sneaker",
                            "9 Ankle boot"]),
    "unknown-class-index": (["--game", "pix2pix", "--data", "digits:12", "--pairs", "edges"],
                            ["digits:12", "no class '12'", "0 0", "9 9"]),
    "cycle-without-data-b": (["--game", "cycle", "--data", "digits:3"], ["cycle", "--data-b"]),
    "pix2pix-conditional": (["--game", "pix2pix", "--data", "digits", "--pairs", "edges", "--conditional"],
                            ["pix2pix", "--conditional"]),
    "pix2pix-wgan-gp": (["--game", "pix2pix", "--data", "digits", "--pairs", "edges", "--loss", "wgan-gp"],
                        ["--loss wgan-gp", "minimax", "non-saturating", "lsgan", "hinge"]),
    "patchgan-too-deep": (["--game", "pix2pix", "--data", "digits", "--pairs", "edges", "--d-layers", "3"],
                          ["3 layers", "24 px", "16 px", "--d-layers to 2", "--resolution"]),
    "cycle-patchgan-too-deep": (["--game", "cycle", "--data", "digits:3", "--data-b", "digits:8", "--d-layers", "3"],
                                ["3 layers", "--d-layers to 2"]),
    "unknown-game": (["--game", "pixtopix", "--data", "digits"], ["'pixtopix'", "generation", "pix2pix", "cycle"]),
}


@pytest.mark.parametrize("case", list(GAME_ERRORS))
def test_train_rejects_bad_game_input_in_one_line_and_leaves_the_run_alone(case, bad_folders, translation_runs,
                                                                           capsys, helpers, monkeypatch):
    if any("fashion-mnist" in a for a in GAME_ERRORS[case][0]) and not FASHION_MNIST_ROOT.is_dir():
        pytest.skip("dataset-fashion-mnist not installed")
    monkeypatch.chdir(bad_folders)
    run = Path(shutil.copytree(translation_runs["pix2pix"].run, bad_folders / "run"))
    before = helpers.snapshot(run)
    argv, fragments = GAME_ERRORS[case]
    argv = [a.replace("{tmp}", str(bad_folders)) for a in argv]
    # --force: the checks must all come before the old run is cleared
    code, out, err = run_cli(capsys, "train", "--resolution", "16", "--width", "8", "--d-layers", "2", "--steps", "2",
                             "--batch-size", "4", "--device", "cpu", "--no-progress", *argv, "--out", run, "--force")
    assert_one_line_error(code, err, *fragments)
    assert out == ""
    assert helpers.snapshot(run) == before

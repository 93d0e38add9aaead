"""The training loop: what a run directory holds, determinism, every loss, phases, EMA, labels."""

from __future__ import annotations

import copy
import json
import math
import os
import time

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge import provenance
from ganforge.config import Config
from ganforge.errors import GanforgeError
from ganforge.losses import LOSSES
from ganforge.training import checkpoint, runtime
from ganforge.training.trainer import Trainer

LOSS_NAMES = ["minimax", "non-saturating", "wgan", "wgan-gp", "lsgan", "hinge"]


def test_every_registered_loss_is_covered_here():
    assert sorted(LOSSES) == sorted(LOSS_NAMES)


# ----------------------------------------------------------------- the run directory
def test_ring8_run_directory_holds_config_metrics_samples_checkpoints_and_model(trained_runs, helpers):
    run = trained_runs["ring8"]
    cfg = helpers.tiny_config("ring8")
    assert Config.load(run / "config.yaml") == cfg

    rows = helpers.read_metrics(run)
    assert [r["step"] for r in rows] == [5, 10, 15, 20]  # log_every 5, 20 steps
    for row in rows:
        for name in ("Loss/D/real", "Loss/D/fake", "Loss/D", "Loss/G", "Speed/images_per_s", "Speed/steps_per_s"):
            assert math.isfinite(row[name]), name
        assert row["Speed/images_per_s"] > 0
    # the 2-D mixture is scored at the end of training (eval_every 0)
    assert {"Metric/modes", "Metric/hq_percent", "Metric/reverse_kl"} <= rows[-1].keys()
    assert not any(k.startswith("Metric/") for row in rows[:-1] for k in row)
    assert 0 <= rows[-1]["Metric/modes"] <= 8 and 0 <= rows[-1]["Metric/hq_percent"] <= 100

    samples = sorted(p.name for p in (run / "samples").iterdir())
    assert samples == ["latest.png", "step-00000010.png", "step-00000020.png"]
    for name in samples:
        with Image.open(run / "samples" / name) as im:
            im.verify()
    assert (run / "samples" / "latest.png").read_bytes() == (run / "samples" / "step-00000020.png").read_bytes()

    ckpts = sorted((run / "checkpoints").iterdir())
    assert 1 <= len(ckpts) <= 3 and all(p.suffix == ".pt" for p in ckpts)
    for path in ckpts:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        assert {"G", "D", "G_ema", "opt_g", "opt_d", "step", "rng", "config"} <= ckpt.keys()
        assert path.name == f"step-{ckpt['step']:08d}.pt"
        assert Config.from_dict(ckpt["config"]) == cfg

    assert sorted(p.name for p in (run / "model").iterdir()) == ["config.json", "model.safetensors"]


@pytest.mark.parametrize("base", ["ring8", "digits"])
def test_the_exported_model_is_the_ema_generator_of_the_last_checkpoint(base, trained_runs):
    run = trained_runs[base]
    final = checkpoint.load(checkpoint.list_checkpoints(run)[-1])
    for where in (run, run / "model"):  # a run directory or its model/ both load
        G = ganforge.load(where)
        assert not G.training
        state = G.state_dict()
        assert state.keys() == final["G_ema"].keys()
        assert all(torch.equal(state[k], final["G_ema"][k]) for k in state)
    assert G.data_info["source"] == base


def test_digits_run_writes_image_grids_and_a_loadable_image_generator(trained_runs):
    run = trained_runs["digits"]
    with Image.open(run / "samples" / "latest.png") as im:
        im.load()
        assert im.size[0] > 8 * 8  # an 8x8 grid of 8 px pictures with padding
    G = ganforge.load(run)
    assert (G.z_dim, G.c_dim, G.resolution, G.channels) == (16, 0, 8, 1)
    x = G(torch.randn(5, G.z_dim))
    assert x.shape == (5, 1, 8, 8) and x.min() >= -1 and x.max() <= 1


def test_config_yaml_is_rewritten_with_the_new_step_budget_on_resume(copy_run):
    run = copy_run("ring8")
    t = Trainer(None, run, resume="latest", steps=25, progress=False)
    t.fit()
    assert Config.load(run / "config.yaml").train.steps == 25
    assert t.step == 25


def test_the_ema_generator_averages_unless_the_half_life_is_zero(tmp_path, helpers):
    averaged = helpers.train_run(helpers.tiny_config(train={"steps": 6}), tmp_path / "a")
    assert not torch.equal(next(averaged.G.parameters()), next(averaged.ema.model.parameters()))
    plain = helpers.train_run(helpers.tiny_config(train={"steps": 6, "ema_half_life": 0}), tmp_path / "b")
    helpers.assert_same_state(plain.G.state_dict(), plain.ema.model.state_dict())


# ----------------------------------------------------------------- determinism
@pytest.mark.parametrize("base", ["ring8", "digits"])
def test_same_seed_gives_identical_runs_and_another_seed_does_not(base, tmp_path, helpers):
    steps = {"steps": 6, "checkpoint_every": 6, "sample_every": 6}
    a = helpers.train_run(helpers.tiny_config(base, train=steps), tmp_path / "a")
    b = helpers.train_run(helpers.tiny_config(base, train=steps), tmp_path / "b")
    helpers.assert_same_state(helpers.trainer_state(a), helpers.trainer_state(b))
    # the same pixels; the provenance records differ only in the run they name (a, b)
    pictures = [tmp_path / run / "samples" / "latest.png" for run in ("a", "b")]
    assert np.array_equal(*(np.asarray(Image.open(p)) for p in pictures))
    records = [provenance.read(p) for p in pictures]
    assert records[0] == {**records[1], "model": records[1]["model"].replace("run b,", "run a,")}

    c = helpers.train_run(helpers.tiny_config(base, train={**steps, "seed": 1}), tmp_path / "c")
    for net in ("G", "D", "G_ema"):
        sa, sc = helpers.trainer_state(a)[net], helpers.trainer_state(c)[net]
        assert any(not torch.equal(sa[k], sc[k]) for k in sa if sa[k].is_floating_point()), net


# ----------------------------------------------------------------- every loss
def _loss_rows(helpers, run):
    rows = helpers.read_metrics(run)
    losses = {k: v for row in rows for k, v in row.items() if k.startswith("Loss/")}
    assert {"Loss/D/real", "Loss/D/fake", "Loss/D", "Loss/G"} <= losses.keys()
    assert all(v is not None and math.isfinite(v) for v in losses.values()), losses
    return losses


@pytest.mark.parametrize("base", ["ring8", "digits"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_every_loss_trains_a_few_finite_steps(loss, base, tmp_path, helpers):
    steps = {"steps": 4, "log_every": 2, "sample_every": 4, "checkpoint_every": 4}
    t = helpers.train_run(helpers.tiny_config(base, loss={"name": loss}, train=steps), tmp_path / "run")
    losses = _loss_rows(helpers, tmp_path / "run")
    assert ("Loss/D/gp" in losses) == (loss == "wgan-gp")
    for net in (t.G, t.D):
        assert all(torch.isfinite(p).all() for p in net.parameters())
    if loss == "wgan":  # weight clipping after every critic update; G's step leaves D alone
        bound = t.cfg.loss.clip
        assert all(p.abs().max() <= bound for p in t.D.parameters())
        assert max(p.abs().max() for p in t.D.parameters()) == pytest.approx(bound)  # clipping did bite


def test_wgan_clips_to_the_configured_bound(tmp_path, helpers):
    cfg = helpers.tiny_config(loss={"name": "wgan", "clip": 0.05}, train={"steps": 3})
    t = helpers.train_run(cfg, tmp_path / "run")
    assert max(float(p.abs().max()) for p in t.D.parameters()) == pytest.approx(0.05)


def test_wgan_gp_on_dcgan_drops_batchnorm_from_the_critic(tmp_path, helpers):
    # a per-sample gradient penalty is wrong through BatchNorm, which mixes the batch
    cfg = helpers.tiny_config("digits", data={"resolution": 16}, loss={"name": "wgan-gp"}, train={"steps": 2})
    t = Trainer(cfg, tmp_path / "run", progress=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in t.D.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in t.G.modules())


# ----------------------------------------------------------------- phases as data
def _adam_steps(opt: torch.optim.Optimizer) -> int:
    return int(next(iter(opt.state.values()))["step"])


def test_n_critic_and_lazy_r1_set_how_often_each_network_is_updated(tmp_path, helpers):
    cfg = helpers.tiny_config(loss={"n_critic": 3, "r1_gamma": 1.0, "r1_interval": 4},
                              train={"steps": 9, "log_every": 1, "sample_every": 9, "checkpoint_every": 9})
    t = helpers.train_run(cfg, tmp_path / "run")
    assert [p.name for p in t.phases] == ["D", "D_reg", "G"]
    assert _adam_steps(t.opt_g) == 9
    # 3 critic updates a step (0-26); R1 once per 4 of them: after D updates 0, 4, ..., 24
    assert _adam_steps(t.opt_d) == 9 * 3 + 7
    rows = helpers.read_metrics(tmp_path / "run")
    # a row logged after step s covers step s-1: D updates 0, 4, 8, 12, 16, 20, 24 fall in
    # steps 0, 1, 2, 4, 5, 6, 8 -> rows 1, 2, 3, 5, 6, 7, 9
    assert [r["step"] for r in rows if "Loss/D/r1" in r] == [1, 2, 3, 5, 6, 7, 9]
    assert all(r["Loss/D/r1"] >= 0 for r in rows if "Loss/D/r1" in r)


def test_lazy_r1_with_n_critic_2_has_the_weight_of_r1_on_every_d_update(tmp_path, helpers):
    gamma, k = 1.0, 4
    cfg = helpers.tiny_config(loss={"n_critic": 2, "r1_gamma": gamma, "r1_interval": k},
                              train={"steps": 8, "log_every": 1, "sample_every": 8, "checkpoint_every": 8})
    t = helpers.train_run(cfg, tmp_path / "run")
    r1_rows = [r["step"] for r in helpers.read_metrics(tmp_path / "run") if "Loss/D/r1" in r]
    assert r1_rows == [1, 3, 5, 7]  # every k / n_critic = 2 steps, i.e. every 4 D updates
    d_updates = 8 * 2
    assert _adam_steps(t.opt_d) == d_updates + len(r1_rows)
    # each R1 update is weighted 0.5 * gamma * k (see r1_loss): averaged over the D updates,
    # the weight of a 0.5 * gamma penalty on every one of them
    assert len(r1_rows) * 0.5 * gamma * k / d_updates == 0.5 * gamma


def test_without_r1_there_is_no_regularisation_phase(tmp_path, helpers):
    t = Trainer(helpers.tiny_config(), tmp_path / "run", progress=False)
    assert [p.name for p in t.phases] == ["D", "G"]


# ----------------------------------------------------------------- conditional
def test_conditional_digits_train_with_ten_classes(tmp_path, helpers):
    cfg = helpers.tiny_config("digits", model={"conditional": True}, train={"steps": 4})
    t = helpers.train_run(cfg, tmp_path / "run")
    assert t.G.c_dim == 10 and t.D.c_dim == 10 and t.num_classes == 10
    _loss_rows(helpers, tmp_path / "run")
    G = ganforge.load(tmp_path / "run")
    assert G.c_dim == 10
    assert G.data_info["class_names"] == [str(i) for i in range(10)]
    x = G(torch.randn(10, G.z_dim), torch.arange(10))
    assert x.shape == (10, 1, 8, 8)
    with Image.open(tmp_path / "run" / "samples" / "latest.png") as im:
        # one row of 8 fixed samples per class
        assert im.size == (8 * (8 + 2) + 2, 10 * (8 + 2) + 2)


def test_a_conditional_model_needs_labelled_data(tmp_path, helpers):
    with pytest.raises(GanforgeError, match="labels"):
        Trainer(helpers.tiny_config(model={"conditional": True}), tmp_path / "run", progress=False)


# ----------------------------------------------------------------- misuse of the API
def test_a_dry_run_trainer_sets_everything_up_and_writes_nothing(tmp_path, helpers):
    t = Trainer(helpers.tiny_config("digits"), tmp_path / "runs" / "run", progress=False, dry_run=True)
    assert t.G is not None and t.local_batch == 32
    assert list(tmp_path.iterdir()) == []  # no run directory, no image cache beside it
    with pytest.raises(GanforgeError, match="dry_run"):
        t.fit()


def test_auto_threads_leave_a_python_users_torch_setting_alone(tmp_path, helpers, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch.set_num_threads(3)  # the user's choice before ganforge.train (one_thread restores the suite's)
    Trainer(helpers.tiny_config(train={"threads": 0}), tmp_path / "a", progress=False, dry_run=True)
    assert torch.get_num_threads() == 3
    Trainer(helpers.tiny_config(train={"threads": 2}), tmp_path / "b", progress=False, dry_run=True)
    assert torch.get_num_threads() == 2  # an explicit count is always applied


def test_auto_threads_share_all_cores_among_torchrun_processes_when_torch_is_untouched(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(runtime, "busy_cores", lambda: 0.0)  # an idle machine
    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(runtime._TORCH_THREADS)  # torch's count when ganforge was imported
    runtime.set_threads(0, processes=2)
    assert torch.get_num_threads() == max(1, cores // 2)
    runtime.set_threads(0)  # a count ganforge chose is not the user's: auto replaces it
    assert torch.get_num_threads() == cores
    torch.set_num_threads(runtime._TORCH_THREADS)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one process: the shell's choice stands
    runtime.set_threads(0)
    assert torch.get_num_threads() == runtime._TORCH_THREADS


def test_auto_threads_leave_busy_cores_to_their_processes(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(runtime._TORCH_THREADS)
    monkeypatch.setattr(runtime, "busy_cores", lambda: cores - 0.8)  # another process holds all but one core
    assert runtime.set_threads(0) == 1
    monkeypatch.setattr(runtime, "busy_cores", lambda: cores + 3.0)  # an overloaded machine: still one
    assert runtime.set_threads(0) == 1
    monkeypatch.setattr(runtime, "busy_cores", lambda: 0.3)  # a little background noise: every core
    assert runtime.set_threads(0) == cores
    assert runtime.set_threads(2) == 2  # an explicit count is always applied


def test_busy_cores_sees_another_process_spinning():
    import subprocess
    import sys
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # (started)
        assert runtime.busy_cores(0.5) > 0.6
    finally:
        spin.kill()
        spin.wait()


def test_a_trainer_needs_a_config_or_a_run_to_resume(tmp_path):
    with pytest.raises(GanforgeError, match="no config"):
        Trainer(None, tmp_path / "run", progress=False)


def test_the_train_function_trains_a_shortened_preset_and_returns_the_model_dir(tmp_path):
    # (a preset name trains the full budget, far too long here; the config path is the same)
    model_dir = ganforge.train(_two_step_ring8(), tmp_path / "run", progress=False)
    G = ganforge.load(model_dir)
    assert G(torch.randn(3, G.z_dim)).shape == (3, 2)


def _two_step_ring8() -> Config:
    cfg = ganforge.preset_config("ring8")
    cfg.train.steps, cfg.train.batch_size, cfg.train.threads, cfg.train.device = 2, 64, 1, "cpu"
    return cfg


def test_generated_points_from_a_run_are_float32(trained_runs):
    G = ganforge.load(trained_runs["ring8"])
    points = G(torch.randn(7, G.z_dim)).numpy()
    assert points.dtype == np.float32 and points.shape == (7, 2)


# ----------------------------------------------------------------- periodic evaluation
def _metric_steps(helpers, run):
    return [r["step"] for r in helpers.read_metrics(run) if "Metric/modes" in r]


def test_eval_every_a_multiple_of_log_every_scores_the_mixture_on_schedule(tmp_path, helpers):
    cfg = helpers.tiny_config(train={"steps": 12, "log_every": 2, "eval_every": 4})
    helpers.train_run(cfg, tmp_path / "run")
    assert _metric_steps(helpers, tmp_path / "run") == [4, 8, 12]


def test_eval_every_does_not_depend_on_log_every(tmp_path, helpers):
    cfg = helpers.tiny_config(train={"steps": 12, "log_every": 5, "eval_every": 4})
    helpers.train_run(cfg, tmp_path / "run")
    assert _metric_steps(helpers, tmp_path / "run") == [4, 8, 12]


def test_acgan_trains_d_and_g_with_the_auxiliary_classifier_loss(tmp_path, helpers):
    cfg = helpers.tiny_config("digits", model={"conditional": True, "conditioning": "acgan"},
                              loss={"aux_weight": 0.5}, train={"steps": 4, "log_every": 1})
    t = helpers.train_run(cfg, tmp_path / "run")
    assert t.acgan and t.D.head.classifier is not None
    rows = [r for r in helpers.read_metrics(tmp_path / "run") if "Loss/D/aux" in r]
    assert len(rows) == 4 and all(math.isfinite(r["Loss/D/aux"]) and math.isfinite(r["Loss/G/aux"]) for r in rows)
    # 10 classes, untrained: the real+fake cross-entropy starts near 2 ln 10
    assert rows[0]["Loss/D/aux"] == pytest.approx(2 * math.log(10), rel=0.3)
    # the D loss includes the weighted auxiliary loss
    first = rows[0]
    assert first["Loss/D"] == pytest.approx(first["Loss/D/real"] + first["Loss/D/fake"] + 0.5 * first["Loss/D/aux"],
                                            rel=1e-4)


def test_acgan_classifier_learns_the_real_classes(tmp_path, helpers):
    # The auxiliary loss has teeth: over a short run D's classifier gets far better than chance.
    cfg = helpers.tiny_config("digits", model={"conditional": True, "conditioning": "acgan", "width": 16},
                              optim={"lr_d": 2e-3}, train={"steps": 60, "log_every": 10, "checkpoint_every": 60,
                                                         "sample_every": 60})
    t = helpers.train_run(cfg, tmp_path / "run")
    x, y = t.data.x[:500].float() / 127.5 - 1, t.data.y[:500]
    t.D.eval()
    with torch.no_grad():
        accuracy = (t.D.forward_with_classes(x, None)[1].argmax(1) == y).float().mean().item()
    assert accuracy > 0.5, accuracy  # chance: 0.1


def test_projection_resnet_trains_and_exports(tmp_path, helpers):
    cfg = helpers.tiny_config("digits", model={"family": "resnet", "conditional": True, "width": 8,
                                               "conditioning": "projection", "spectral_norm": True,
                                               "g_conditioning": "batchnorm"},
                              loss={"name": "hinge"}, train={"steps": 4})
    t = helpers.train_run(cfg, tmp_path / "run")
    assert t.D.head.embed is not None
    _loss_rows(helpers, tmp_path / "run")
    G = ganforge.load(tmp_path / "run")
    assert type(G).__module__ == "ganforge.models.resnet" and G.c_dim == 10
    assert G.hparams["g_conditioning"] == "batchnorm" and G.linear.in_features == G.z_dim  # labels in the norms
    moved = [m.gain.weight for m in t.G.modules() if type(m).__name__ == "ClassBatchNorm2d"]
    assert moved and any(not torch.equal(w, torch.ones_like(w)) for w in moved)  # the per-class scales trained


# ----------------------------------------------------------------- speed options
def _count_forwards(module) -> list[int]:
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("reuse, forwards_per_step", [(False, 2), (True, 1)])
def test_reuse_fakes_makes_one_generator_forward_per_step(reuse, forwards_per_step, tmp_path, helpers):
    cfg = helpers.tiny_config("digits", train={"reuse_fakes": reuse, "steps": 3})
    t = Trainer(cfg, tmp_path / "run", progress=False)
    calls = _count_forwards(t.G)
    for _ in range(3):
        t.train_step()
    assert calls[0] == 3 * forwards_per_step


def test_reuse_fakes_gives_g_the_gradient_of_the_d_steps_fakes_through_the_updated_d(tmp_path, helpers):
    # The G step's loss must equal the objective on D_{t+1}(G_t(z)) with the D step's z.
    cfg = helpers.tiny_config("ring8", train={"reuse_fakes": True})
    t = Trainer(cfg, tmp_path / "run", progress=False)
    noise = t.noise.get_state()
    G0 = copy.deepcopy(t.G)
    t._update(t.phases[0])                       # the D step keeps its fakes
    z = torch.randn(cfg.train.batch_size, t.G.z_dim, generator=torch.Generator().set_state(noise))
    with torch.no_grad():
        expected = t.objective.g(t.D(G0(z)))
    assert t._fakes is not None
    assert t.g_loss().item() == pytest.approx(expected.item(), rel=1e-6)
    assert t._fakes is None                      # used once


def test_image_models_and_batches_are_channels_last_on_cpu_unless_off(tmp_path, helpers):
    cfg = helpers.tiny_config("digits", data={"resolution": 16, "channels": 3})
    t = Trainer(cfg, tmp_path / "a", progress=False)
    conv = next(m for m in t.D.modules() if isinstance(m, torch.nn.Conv2d))
    assert t.memory_format == torch.channels_last
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    real, _ = t.batches.next()
    assert real.is_contiguous(memory_format=torch.channels_last)
    cfg.train.channels_last = "off"
    t = Trainer(cfg, tmp_path / "b", progress=False)
    assert t.batches.next()[0].is_contiguous()


def test_trainer_takes_your_own_networks(tmp_path, helpers):
    class MyG(torch.nn.Module):
        z_dim, c_dim, resolution, channels = 2, 0, 0, 2

        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))

        def forward(self, z, c=None):
            return self.net(z)

    D = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
    wrapped = lambda x, c=None: D(x)  # noqa: E731
    class MyD(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.D = D

        def forward(self, x, c=None):
            return wrapped(x)

    t = helpers.train_run(helpers.tiny_config("ring8"), tmp_path / "run", models=(MyG(), MyD()))
    assert isinstance(t.G, MyG)
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert config["family"] == "custom" and config["kwargs"]["class"].endswith("MyG")


# ----------------------------------------------------------------- DiffAugment
def test_diffaugment_shows_d_augmented_reals_and_fakes(tmp_path, helpers, monkeypatch):
    cfg = helpers.tiny_config("digits", train={"diffaugment": "translation,cutout"}, loss={"name": "wgan-gp"})
    t = Trainer(cfg, tmp_path / "run", progress=False)
    seen = []
    forward = t.D.forward
    monkeypatch.setattr(t.D, "forward", lambda x, c=None: (seen.append(x.detach().clone()), forward(x, c))[1])
    t._update(t.phases[0])
    # real and fake batches, then the penalty's interpolates: all augmented, so cut-out
    # rectangles of exact zeros appear in every image (digits' background is -1, and a
    # 4x4 cutout centred anywhere in the 8x8 image overlaps it by at least 2x2)
    assert len(seen) == 3
    for x in seen:
        assert ((x == 0).flatten(1).sum(1) >= 4).all()


def test_diffaugment_on_points_or_with_an_unknown_policy_is_a_clear_error(tmp_path, helpers):
    with pytest.raises(GanforgeError, match="augments images; data 'ring8' is points"):
        Trainer(helpers.tiny_config("ring8", train={"diffaugment": "color"}), tmp_path / "a", progress=False)
    with pytest.raises(GanforgeError, match="unknown DiffAugment policy 'blur'"):
        Trainer(helpers.tiny_config("digits", train={"diffaugment": "color,blur"}), tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# ----------------------------------------------------------------- image folders
def test_a_second_run_on_an_image_folder_reads_the_decoded_cache_beside_the_runs(tmp_path, helpers, monkeypatch):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    cfg = helpers.tiny_config("digits", data={"source": str(folder), "resolution": 8, "channels": 3},
                              train={"steps": 2, "batch_size": 16})
    first = helpers.train_run(cfg, tmp_path / "runs" / "a")
    assert (tmp_path / "runs" / ".ganforge-cache").is_dir()
    assert ".ganforge-cache" not in {p.name for p in (tmp_path / "runs" / "a").iterdir()}

    def no_decoding(*args, **kwargs):
        raise AssertionError("Pillow opened a file although the folder was decoded before")

    with monkeypatch.context() as m:  # while the data loads (the end's timelapse reads PNGs)
        m.setattr(Image, "open", no_decoding)
        second = Trainer(cfg, tmp_path / "runs" / "b", progress=False)
    second.fit()
    assert torch.equal(first.data.x, second.data.x)


# ----------------------------------------------------------------- time budget
def test_a_time_budget_stops_early_with_the_ends_checkpoint_pictures_and_export(tmp_path, helpers, capsys):
    cfg = helpers.tiny_config("ring8", train={"steps": 100_000, "minutes": 0.01})  # 0.6 s
    t = helpers.train_run(cfg, tmp_path / "run")
    assert 0 < t.step < 100_000
    assert "time budget of 0.01 min reached at step" in capsys.readouterr().err
    assert checkpoint.resolve(tmp_path / "run", "latest").name == checkpoint.checkpoint_path(tmp_path / "run", t.step).name
    assert (tmp_path / "run" / "samples" / f"step-{t.step:08d}.png").is_file()
    assert helpers.read_metrics(tmp_path / "run")[-1]["step"] == t.step
    assert ganforge.load(tmp_path / "run").z_dim == cfg.model.z_dim


def test_under_a_time_budget_the_progress_bar_ends_where_the_budget_does(tmp_path, helpers, capsys):
    cfg = helpers.tiny_config("ring8", train={"steps": 100_000, "minutes": 0.02, "log_every": 5})  # 1.2 s
    t = Trainer(cfg, tmp_path / "run", progress=True)
    t.fit()
    last_bar = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if "step/s" in line][-1]
    assert f"{t.step}/{t.step} [" in last_bar  # not "/100000" with an ETA of hours
    assert 0 < t.step < 100_000


# ----------------------------------------------------------------- pictures of a run
def test_a_run_ends_with_a_timelapse_and_curves_and_2d_samples_show_the_decision_surface(tmp_path, helpers):
    helpers.train_run(helpers.tiny_config("ring8"), tmp_path / "run")  # samples at steps 10 and 20
    run = tmp_path / "run"
    with Image.open(run / "timelapse.gif") as gif:
        assert gif.n_frames == 2
    with Image.open(run / "curves.png") as curves:
        assert curves.size[0] > 400
    with Image.open(run / "samples" / "latest.png") as im:
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
    # the heat map tints the plane: almost no pixel is the pure white of a bare scatter plot
    assert (pixels != 255).any(1).mean() > 0.9


def test_tensorboard_gets_scalars_sample_grids_and_d_histograms(tmp_path, helpers):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    helpers.train_run(helpers.tiny_config("digits", train={"tensorboard": True}), tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"images": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    assert {"Loss/D", "Loss/G", "Speed/images_per_s"} <= set(tags["scalars"])
    assert tags["images"] and {"D/real_logits", "D/fake_logits"} <= set(tags["histograms"])


def test_tensorboard_missing_is_one_line_before_anything_is_written(tmp_path, helpers, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith(("tensorboard", "torch.utils.tensorboard")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(GanforgeError, match="pip install tensorboard"):
        Trainer(helpers.tiny_config("ring8", train={"tensorboard": True}), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()

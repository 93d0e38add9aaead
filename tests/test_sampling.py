"""ganforge.sampling: the truncation trick bounds |z|, DRS accepts a subset, MH chains reach
their target, D's logistic calibration, and the samplers on real (tiny) trained runs
through generate, the pipeline and evaluate, with their cost and one-line errors."""

from __future__ import annotations

import copy

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.sampling import draw
from ganforge.sampling.calibration import CalibratedCritic, fit_logistic
from ganforge.sampling.drs import drs
from ganforge.sampling.latents import truncated_normal
from ganforge.sampling.mh import mh
from ganforge.sampling.real import RealSet

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import assert_one_line_error, run_cli  # noqa: E402  (tests/ is on sys.path)


class Shift(nn.Module):
    """A stand-in generator x = z + offset (z_dim = dim), and a critic d(x) = w . x."""

    def __init__(self, dim: int = 1, offset: float = 0.0):
        super().__init__()
        self.z_dim, self.c_dim, self.resolution, self.channels = dim, 0, 0, dim
        self.offset = nn.Parameter(torch.full((dim,), offset))

    def forward(self, z, c=None):
        return z + self.offset


class Linear(nn.Module):
    def __init__(self, w: float, b: float = 0.0):
        super().__init__()
        self.w, self.b = nn.Parameter(torch.tensor(w)), b

    def forward(self, x, c=None):
        return self.w * x[:, 0] + self.b


def critic(w: float, b: float = 0.0) -> CalibratedCritic:
    return CalibratedCritic(Linear(w, b), 1.0, 0.0, "test")


# ----------------------------------------------------------------- the samplers themselves
def test_truncation_bounds_every_value_and_is_seeded():
    z = truncated_normal(4000, 8, 0.5, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.5 and z.std() > 0.25          # (a uniform on [-0.5, 0.5] has std 0.29)
    assert torch.equal(z, truncated_normal(4000, 8, 0.5, torch.Generator().manual_seed(0)))
    with pytest.raises(GanforgeError, match="positive threshold"):
        truncated_normal(4, 2, 0.0, torch.Generator())


def test_drs_accepts_the_subset_the_discriminator_prefers_and_counts_its_proposals():
    G = Shift()
    x, stats = drs(G, critic(8.0), 500, torch.Generator().manual_seed(0), burn_in=2000)
    assert x.shape == (500, 1)
    assert (x[:, 0] > 0).float().mean() > 0.95            # D says x > 0 is real: DRS keeps those
    assert stats["generated"] > 2 * 500 and stats["drs_percentile"] == 95.0


def test_mh_chains_converge_to_the_target_the_density_ratio_describes():
    # proposals N(0, 1), exact log ratio to the target N(1, 1): d(x) = x - 1/2
    G, real = Shift(), RealSet(torch.randn(100, 1, generator=torch.Generator().manual_seed(1)) + 1, None, "test")
    x, stats = mh(G, critic(1.0, -0.5), real, 3000, torch.Generator().manual_seed(0), chain=40, batch_size=1000)
    assert abs(float(x.mean()) - 1.0) < 0.08 and abs(float(x.std()) - 1.0) < 0.08
    assert stats["generated"] >= 3000 * 40 and 0 < stats["mh_acceptance"] < 1  # (+ chains extended)


def test_an_mh_chain_that_never_leaves_its_real_start_returns_a_generated_sample():
    G = Shift()
    real = RealSet(torch.full((10, 1), 100.0), None, "test")  # scores 800: no proposal near 0 is accepted
    x, stats = mh(G, critic(8.0), real, 20, torch.Generator().manual_seed(0), chain=5)
    assert (x.abs() < 10).all() and stats["mh_cherry_picked"] == 20 and stats["mh_chains_extended"] == 20 * 10


def test_logistic_calibration_recovers_the_log_density_ratio():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(20000, generator=g) + 1, torch.randn(20000, generator=g) - 1
    a, b = fit_logistic(real, fake)                       # exact: log N(s; 1, 1) / N(s; -1, 1) = 2 s
    assert a == pytest.approx(2.0, abs=0.1) and b == pytest.approx(0.0, abs=0.1)


# ----------------------------------------------------------------- on trained runs
@pytest.fixture(scope="module")
def trainers(tmp_path_factory) -> dict:
    """Tiny finished runs that exported D (ring8; conditional digits), with their trainers."""
    from conftest import tiny_config, train_run

    root = tmp_path_factory.mktemp("sampling")
    configs = {"ring8-d": tiny_config("ring8", train={"export_discriminator": True}),
               "digits-d": tiny_config("digits", model={"conditional": True}, train={"export_discriminator": True})}
    return {name: train_run(cfg, root / name) for name, cfg in configs.items()}


@pytest.fixture
def runs(trainers, trained_runs) -> dict[str, Path]:
    """Run directories: those above, and "ring8" exported as by default, without D."""
    return {"ring8": trained_runs["ring8"], **{name: t.run_dir for name, t in trainers.items()}}


def test_d_is_exported_only_when_asked_and_loads_back_as_trained(runs, trainers):
    from ganforge.modeling import D_FILES, load_discriminator

    assert not any((runs["ring8"] / "model" / f).exists() for f in D_FILES)
    for name, trainer in trainers.items():
        D = load_discriminator(runs[name])
        x = trainer.data.x[:16] if hasattr(trainer.data, "x") else trainer.data.sample(16, torch.Generator())
        x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x
        c = torch.arange(16) % D.c_dim if D.c_dim else None
        # the trainer's D may hold its weights channels_last (training on CPU), the loaded one
        # contiguous; the two layouts sum in another order on some CPUs, so compare like with like
        trained = copy.deepcopy(trainer.D).to(memory_format=torch.contiguous_format).eval()
        assert torch.equal(D(x, c), trained(x, c).detach()) and not D.training


def test_a_finished_run_re_exports_with_d_from_its_last_checkpoint(copy_run, capsys):
    from safetensors.torch import load_file

    from ganforge.modeling import load_discriminator
    from ganforge.training import checkpoint

    run = copy_run("ring8")
    before = load_file(str(run / "model" / "model.safetensors"))
    code, out, err = run_cli(capsys, "train", "--out", run, "--resume", "latest", "--export-discriminator", "--no-progress")
    assert code == 0, err
    after = load_file(str(run / "model" / "model.safetensors"))
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    ckpt = checkpoint.load(checkpoint.resolve(run, "latest"))
    assert all(torch.equal(v, ckpt["D"][k]) for k, v in load_discriminator(run).state_dict().items())


def test_generate_with_each_sampler_prints_its_cost(runs, tmp_path, capsys):
    for argv, fragment in ((["--sampler", "drs"], "generated samples per accepted one"),
                           (["--sampler", "mh", "--mh-steps", "8"], "generated samples per returned (chain end) one"),
                           (["--truncation", "0.5"], "truncation at |z| <= 0.5")):
        code, out, err = run_cli(capsys, "generate", runs["ring8-d"], "--n", "300", "--out", tmp_path / "x.npy", *argv)
        assert code == 0, err
        assert fragment in out and "wrote 300 samples" in out
    assert "fresh draws of ring8 (held out)" in run_cli(capsys, "generate", runs["ring8-d"], "--sampler", "drs",
                                                        "--out", tmp_path / "y.npy")[1]


def test_the_pipeline_samples_conditional_images_by_each_sampler(runs):
    pipe = GeneratePipeline.from_pretrained(runs["digits-d"])
    plain = pipe(20, seed=3)
    assert torch.equal(plain, pipe(20, seed=3, sampler="plain")) and pipe.last_stats["per_sample"] == 1.0
    for sampler, options in (("drs", {}), ("mh", {"mh_steps": 3}), ("truncation", {"truncation": 0.6})):
        x = pipe(20, seed=3, classes=4, sampler=sampler, **options)
        assert x.shape == plain.shape and x.abs().max() <= 1
        assert pipe.last_stats["sampler"] == sampler
    assert "digits (it has no held-out split)" in pipe.last_stats.get("calibration_data", "") or sampler == "truncation"


def test_evaluate_measures_a_sampler_and_records_its_cost(runs, tmp_path, capsys):
    import shutil

    run = Path(shutil.copytree(runs["ring8-d"], tmp_path / "run"))
    code, out, err = run_cli(capsys, "evaluate", run, "--sampler", "mh", "--mh-steps", "16", "--n", "400")
    assert code == 0, err
    assert "hq_percent" in out and "sampler=mh" in out and "generated samples per returned" in out
    record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    s = record["settings"]
    assert (s["sampler"], s["mh_steps"], s["calibration"]) == ("mh", 16, "logistic") and s["generated"] >= 400 * 16


def test_a_sampler_needing_d_on_a_model_without_one_says_how_to_get_it(runs, tmp_path, capsys):
    for command in (["generate", runs["ring8"], "--sampler", "drs", "--out", tmp_path / "x.npy"],
                    ["evaluate", runs["ring8"], "--sampler", "mh"]):
        code, out, err = run_cli(capsys, *command)
        assert_one_line_error(code, err, "exported without its discriminator", "--export-discriminator",
                              "--resume latest")
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize("argv, fragments", [
    (["--truncation", "0.5", "--sampler", "drs"], ["--truncation is a setting of --sampler truncation"]),
    (["--truncation", "-1"], ["positive threshold"]),
    (["--sampler", "mh", "--mh-steps", "0"], ["--mh-steps must be at least 1"]),
    (["--sampler", "drs", "--drs-percentile", "101"], ["--drs-percentile must be in [0, 100]"]),
    (["--interpolate", "1,2", "--sampler", "drs"], ["takes no --sampler"]),
])
def test_sampler_options_are_checked_in_one_line(argv, fragments, runs, tmp_path, capsys):
    code, out, err = run_cli(capsys, "generate", runs["ring8-d"], "--out", tmp_path / "x.npy", *argv)
    assert_one_line_error(code, err, *fragments)


def test_generate_and_train_help_show_the_samplers_and_the_d_export(capsys):
    from ganforge.cli import main
    for command, fragments in (("generate", ["--sampler drs", "--sampler mh --mh-steps 640", "--truncation 0.7"]),
                               ("train", ["--export-discriminator", "--resume latest --export-discriminator"])):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert all(f in out for f in fragments), command

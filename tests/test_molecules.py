"""MolGAN end to end: the networks, real (tiny, seeded) training on QM9 molecules with the
generation and the rewarded games, what a run writes, generate / evaluate / inspect."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from ganforge import modeling
from ganforge.config import preset_config
from ganforge.data.molecules import EDGE_TYPES, split
from ganforge.errors import GanforgeError
from ganforge.models.molgan import Discriminator, Generator
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.pipelines.molecules import MoleculesPipeline

sys.path.insert(0, str(Path(__file__).parent))
from molecule_fixtures import molecule_config  # noqa: E402



@pytest.mark.parametrize("straight_through", [False, True])
def test_generator_makes_symmetric_graphs_without_self_bonds(straight_through):
    G = Generator(8, atoms=9, atom_types=5, width=16, straight_through=straight_through)
    x = G(torch.randn(6, 8))
    assert x.shape == (6, 9, 5 + 9 * EDGE_TYPES) and x.min() >= -1 and x.max() <= 1
    types, bonds = split((x + 1) / 2, 5)
    assert torch.allclose(types.sum(-1), torch.ones(6, 9)) and torch.allclose(bonds.sum(-1), torch.ones(6, 9, 9))
    assert torch.allclose(bonds, bonds.transpose(1, 2))
    assert torch.equal(bonds.diagonal(dim1=1, dim2=2)[:, 0], torch.ones(6, 9))  # "no bond" to itself
    if straight_through:  # one-hot forward, yet a gradient reaches G's weights
        assert torch.allclose(types, types.round(), atol=1e-6)
        Discriminator(9, 5, 16)(x).sum().backward()
        assert G.types.weight.grad.abs().sum() > 0


def test_discriminator_sees_the_batch_spread():
    D = Discriminator(9, 5, 16)
    G = Generator(8, atoms=9, atom_types=5, width=16)
    x = G(torch.randn(4, 8))
    same = x[:1].expand(4, -1, -1)
    assert D(x).shape == (4,)
    assert not torch.allclose(D(same)[0], D(torch.cat([x[:1], x[1:]]))[0])  # one graph, judged with others
    assert torch.allclose(Discriminator(9, 5, 16, minibatch_std=False)(x[:1]).float().isfinite().float(),
                          torch.ones(1))


def test_training_writes_molecules_and_measures_them(molecule_run, helpers):
    smiles, run, trainer = molecule_run
    rows = [r for r in helpers.read_metrics(run) if "Metric/valid" in r]
    assert [r["step"] for r in rows] == [15, 30, 45]
    last = rows[-1]
    for name in ("valid", "unique", "novel", "qed", "logp", "sa"):
        assert f"Metric/{name}" in last
    assert last["Metric/valid"] > 20  # 45 steps on 512 molecules: far from random graphs already
    samples = run / "samples"
    lines = (samples / "step-00000045.smi").read_text().splitlines()
    assert len(lines) == 16 and any(not line.startswith("#") for line in lines)
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["family"] == "molgan" and config["data"]["atoms"] == ["C", "N", "O", "F"]
    assert config["data"]["kind"] == "molecules" and config["data"]["max_atoms"] == 9


def test_generate_writes_smiles_with_provenance(molecule_run, tmp_path, cli):
    _, run, _ = molecule_run
    out = tmp_path / "mols.smi"
    r = cli("generate", str(run), "--n", "200", "--out", str(out))
    assert r.returncode == 0, r.stderr
    written = out.read_text().splitlines()
    valid = int(written[1].split()[1])
    assert f"wrote {valid} valid molecules of 200 samples" in r.stdout
    assert len(written) == valid + 2 and written[0].startswith("# ganforge-provenance")
    again = MoleculesPipeline.from_pretrained(run)(200, seed=0)  # seeded: the same molecules
    from ganforge.data.molecules import canonical
    assert [canonical(m) for m in again if m is not None] == written[2:]
    r = cli("inspect", str(out))
    assert r.returncode == 0 and "generate molecules" in r.stdout and "sha256:" in r.stdout
    table = tmp_path / "mols.csv"
    assert cli("generate", str(run), "--n", "50", "--out", str(table)).returncode == 0
    header = table.read_text().splitlines()[1]
    assert header == "smiles,qed,logp,sa"
    picture = tmp_path / "mols.png"
    assert cli("generate", str(run), "--n", "12", "--out", str(picture)).returncode == 0
    assert cli("inspect", str(picture)).returncode == 0


def test_molecule_models_refuse_what_they_cannot_do(molecule_run, tmp_path, cli):
    _, run, _ = molecule_run
    r = cli("generate", str(run), "--out", str(tmp_path / "x.npy"))
    assert r.returncode == 2 and "molecules are written as .smi, .csv, .png" in r.stderr
    r = cli("generate", str(run), "--out", str(tmp_path / "x.smi"), "--class", "1")
    assert r.returncode == 2 and "no --sampler" in r.stderr
    with pytest.raises(GanforgeError, match="this model makes molecules"):
        GeneratePipeline.from_pretrained(run)
    r = cli("evaluate", str(run), "--metrics", "fid")
    assert r.returncode == 2 and "MolGAN's metrics" in r.stderr


def test_evaluate_measures_against_the_data(molecule_run, cli):
    _, run, _ = molecule_run
    r = cli("evaluate", str(run), "--n", "300")
    assert r.returncode == 0, r.stderr
    for name in ("valid", "unique", "novel", "qed", "data/qed", "data/valid"):
        assert any(line.split()[0] == name for line in r.stdout.splitlines()), name
    record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["evaluate"] == "molecules" and record["Metric/data/valid"] == 100.0
    assert record["Metric/data/novel"] == 0.0  # the data's molecules are all in the data


def test_the_rewarded_game_learns_the_score_and_steers_g(molecule_run, tmp_path, helpers):
    smiles, _, _ = molecule_run
    cfg = molecule_config(smiles, game={"name": "rewarded", "reward": "qed", "reward_weight": 0.5},
                          train={"steps": 40, "eval_every": 40})
    trainer = helpers.train_run(cfg, tmp_path / "rewarded")
    rows = helpers.read_metrics(tmp_path / "rewarded")
    r_loss = [r["Loss/R"] for r in rows if "Loss/R" in r]
    assert len(r_loss) >= 4 and r_loss[-1] < r_loss[0]  # R learns QED of real and generated graphs
    assert all("Loss/G/reward" in r for r in rows if "Loss/G" in r)
    assert set(dict(trainer.D.named_children())) == {"critic", "reward"}
    config = json.loads((tmp_path / "rewarded" / "model" / "config.json").read_text())
    assert config["data"]["reward"] == "qed" and config["data"]["reward_weight"] == 0.5
    assert modeling.load(tmp_path / "rewarded").kind == "molecules"


def test_the_rewarded_game_resumes_exactly(molecule_run, tmp_path, helpers):
    smiles, _, _ = molecule_run
    cfg = molecule_config(smiles, game={"name": "rewarded", "reward": "logp"},
                          train={"steps": 6, "checkpoint_every": 3, "eval_every": 0, "sample_every": 6})
    whole = helpers.train_run(cfg, tmp_path / "whole")
    half = molecule_config(smiles, game={"name": "rewarded", "reward": "logp"},
                           train={"steps": 3, "checkpoint_every": 3, "eval_every": 0, "sample_every": 6})
    helpers.train_run(half, tmp_path / "parts")
    resumed = helpers.train_run(None, tmp_path / "parts", resume="latest", steps=6)
    helpers.assert_same_state(helpers.trainer_state(whole), helpers.trainer_state(resumed))


def test_bad_molecule_options_are_one_line(molecule_run, tmp_path, cli):
    smiles, _, _ = molecule_run
    cases = [(("--game", "rewarded", "--reward", "mass"), "unknown reward 'mass' for molecules"),
             (("--game", "rewarded", "--reward-weight", "1.5"), "game.reward_weight must be in [0, 1]"),
             (("--atoms", "C,Qq"), "'Qq' is not an element symbol"),
             (("--max-atoms", "0"), "data.max_atoms must be an integer in 1..64"),
             (("--conditional",), "MolGAN models are unconditional")]
    for flags, said in cases:
        r = cli("train", "--data", str(smiles), "--model", "molgan", "--steps", "1", *flags,
                "--out", str(tmp_path / "bad"), "--dry-run")
        assert r.returncode == 2 and said in r.stderr and "Traceback" not in r.stderr, (flags, r.stderr)
    r = cli("train", "--game", "rewarded", "--data", "digits", "--steps", "1", "--out", str(tmp_path / "d"),
            "--dry-run")
    assert r.returncode == 2 and "has none (molecules do" in r.stderr


def test_presets_describe_molgan():
    cfg = preset_config("qm9-molgan")
    assert cfg.data.source == "qm9" and cfg.model.family == "molgan" and cfg.game.name == "generation"
    rewarded = preset_config("qm9-molgan-qed")
    assert rewarded.game.name == "rewarded" and rewarded.game.reward == "qed"


def test_mode_seeking_grows_as_samples_collapse():
    from ganforge.losses.diversity import mode_seeking
    z = torch.randn(8, 4)
    spread = torch.randn(8, 3, 5)
    collapsed = spread[:1].expand(8, -1, -1) + 1e-3 * torch.randn(8, 3, 5)
    assert mode_seeking(collapsed, z) > 100 * mode_seeking(spread, z)


def test_feature_matching_and_mode_seeking_train(molecule_run, tmp_path, helpers, cli):
    smiles, _, _ = molecule_run
    cfg = molecule_config(smiles, loss={"feature_matching": 1.0, "mode_seeking": 1.0},
                          train={"steps": 6, "eval_every": 0, "sample_every": 6, "checkpoint_every": 6})
    helpers.train_run(cfg, tmp_path / "fm")
    rows = [r for r in helpers.read_metrics(tmp_path / "fm") if "Loss/G" in r]
    assert rows and all("Loss/G/feature_matching" in r and "Loss/G/mode_seeking" in r for r in rows)
    r = cli("train", "--data", "digits", "--resolution", "8", "--feature-matching", "1", "--steps", "1",
            "--out", str(tmp_path / "d"), "--dry-run")
    assert r.returncode == 2 and "--feature-matching needs a D that exposes its features" in r.stderr


def test_the_rewarded_game_takes_r1(molecule_run, tmp_path, helpers):
    smiles, _, _ = molecule_run
    cfg = molecule_config(smiles, game={"name": "rewarded"}, loss={"name": "non-saturating", "r1_gamma": 1.0,
                                                                   "r1_interval": 2, "n_critic": 1},
                          train={"steps": 4, "eval_every": 0, "sample_every": 4, "checkpoint_every": 4})
    helpers.train_run(cfg, tmp_path / "r1")
    assert any("Loss/D/r1" in r for r in helpers.read_metrics(tmp_path / "r1"))


def test_a_collapsed_batch_gives_d_finite_gradients():
    D = Discriminator(9, 5, 16)
    x = Generator(8, atoms=9, atom_types=5, width=16)(torch.randn(1, 8)).detach().expand(6, -1, -1).clone()
    x.requires_grad_(True)
    D(x).sum().backward()  # identical graphs: their spread is 0, where sqrt's gradient is infinite
    assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in D.parameters())


def test_the_drift_term_holds_the_critic_near_zero(molecule_run, tmp_path, helpers):
    smiles, _, _ = molecule_run
    logits = {}
    for drift in (0.0, 1.0):
        cfg = molecule_config(smiles, loss={"drift": drift}, train={"steps": 40, "eval_every": 0, "sample_every": 40,
                                                                    "checkpoint_every": 40, "log_every": 1})
        helpers.train_run(cfg, tmp_path / f"drift-{drift:g}")
        rows = [r for r in helpers.read_metrics(tmp_path / f"drift-{drift:g}") if "Loss/D/real" in r]
        logits[drift] = abs(rows[-1]["Loss/D/real"])
        assert ("Loss/D/drift" in rows[-1]) == bool(drift)
    assert logits[1.0] < logits[0.0]

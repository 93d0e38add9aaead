"""Shared fixtures: tiny seeded configs, a one-call trainer, CLI helpers and state comparison.

Every run here is real training, kept tiny: ring8 with a 32-wide toy MLP, scikit-learn's
digits at 8 px with an 8-channel DCGAN, or at 16 px with 8-channel pix2pix and CycleGAN
networks. `threads: 1` because on a 2-core CPU torch's thread pool makes such small steps
many times slower than one thread does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest
import torch
import yaml

from ganforge.config import Config, merge
from ganforge.training.trainer import Trainer

TRAIN = {"steps": 20, "batch_size": 64, "seed": 0, "ema_half_life": 500.0, "sample_every": 10,
         "checkpoint_every": 10, "log_every": 5, "eval_every": 0, "device": "cpu", "threads": 1}

BASES: dict[str, dict[str, Any]] = {
    "ring8": {"data": {"source": "ring8"},
              "model": {"family": "toy", "z_dim": 2, "width": 32, "depth": 2},
              "optim": {"lr_g": 1e-3, "lr_d": 1e-3},
              "train": TRAIN},
    "digits": {"data": {"source": "digits", "resolution": 8},
               "model": {"family": "dcgan", "z_dim": 16, "width": 8},
               "train": {**TRAIN, "steps": 8, "batch_size": 32, "sample_every": 4,
                         "checkpoint_every": 4, "log_every": 2}},
    # the translation games on digits at 16 px (a 4-deep U-Net, 2-layer PatchGANs), batch 8:
    # pix2pix from edge maps (its defaults: U-Net with dropout, BatchNorm, GAN + 100 L1);
    # CycleGAN between two classes (2 residual blocks a translator, a pool of 4 per D)
    "pix2pix": {"game": {"name": "pix2pix"},
                "data": {"source": "digits", "resolution": 16, "pairs": "edges", "holdout": 32},
                "model": {"width": 8, "d_layers": 2},
                "train": {**TRAIN, "steps": 8, "batch_size": 8, "sample_every": 4,
                          "checkpoint_every": 4, "log_every": 2}},
    "cycle": {"game": {"name": "cycle", "pool_size": 4},
              "data": {"source": "digits:3", "source_b": "digits:8", "resolution": 16, "holdout": 8},
              "model": {"width": 8, "d_layers": 2, "blocks": 2},
              "train": {**TRAIN, "steps": 8, "batch_size": 8, "sample_every": 4,
                        "checkpoint_every": 4, "log_every": 2}},
}


def tiny_config(base: str = "ring8", **sections: dict[str, Any]) -> Config:
    """A small seeded Config: `tiny_config("digits", loss={"name": "hinge"}, train={"steps": 4})`."""
    cfg = merge(Config(), BASES[base])
    return merge(cfg, sections) if sections else cfg


def train_run(cfg: Config | None, run_dir: Path, **kwargs: Any) -> Trainer:
    """Train to the end (export included) and return the Trainer, for its in-memory state."""
    trainer = Trainer(cfg, run_dir, progress=False, **kwargs)
    trainer.fit()
    return trainer


# ----------------------------------------------------------------- comparing states
def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists/tuples -> {"a.b.0": leaf}, so every leaf can be compared."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, (list, tuple)):
        out = {}
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): obj}


def assert_same_state(a: Any, b: Any, what: str = "state") -> None:
    """Bitwise equality of every tensor (torch.equal) and equality of every other leaf."""
    fa, fb = flatten(a), flatten(b)
    assert fa.keys() == fb.keys(), f"{what}: different keys {sorted(fa.keys() ^ fb.keys())[:5]}"
    for key in fa:
        x, y = fa[key], fb[key]
        if isinstance(x, torch.Tensor):
            assert isinstance(y, torch.Tensor), f"{what}[{key}]: tensor vs {type(y).__name__}"
            assert x.dtype == y.dtype and x.shape == y.shape, f"{what}[{key}]: {x.dtype}{tuple(x.shape)} vs {y.dtype}{tuple(y.shape)}"
            assert torch.equal(x, y), f"{what}[{key}] differs (max |diff| {(x.double() - y.double()).abs().max():.3g})"
        else:
            assert x == y, f"{what}[{key}]: {x!r} != {y!r}"


def trainer_state(t: Trainer) -> dict[str, Any]:
    """Everything exact resume promises to reproduce, from a live Trainer."""
    return {"G": t.G.state_dict(), "D": t.D.state_dict(), "G_ema": t.ema.model.state_dict(),
            "opt_g": t.opt_g.state_dict(), "opt_d": t.opt_d.state_dict(), "step": t.step,
            "rng": {"noise": t.noise.get_state(), "data": t.data_rng.get_state()},
            "batches": t.batches.state_dict(), "game": t.game.state_dict()}  # (CycleGAN: its pools)


# ----------------------------------------------------------------- run directories
def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under folder (hidden ones included)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny config as YAML for `ganforge train --config`, with optional overrides."""
    def write(base: str = "ring8", name: str | None = None, **sections: dict[str, Any]) -> Path:
        path = tmp_path / (name or f"{base}.yaml")
        path.write_text(yaml.safe_dump(tiny_config(base, **sections).to_dict(), sort_keys=False))
        return path
    return write


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Finished ring8, digits and class-conditional digits ("digits-cgan") runs, shared
    read-only by generate/inspect tests. Tests that modify a run copy it first (`copy_run`)."""
    root = tmp_path_factory.mktemp("trained")
    configs = {"ring8": tiny_config("ring8"), "digits": tiny_config("digits"),
               "digits-cgan": tiny_config("digits", model={"conditional": True})}
    for name, cfg in configs.items():
        train_run(cfg, root / name)
    return {name: root / name for name in configs}


@pytest.fixture(scope="session")
def translation_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SimpleNamespace]:
    """Finished tiny "pix2pix" and "cycle" runs, evaluated on their held-out images every 4
    of their 8 steps: {name: (run, trainer)}, shared read-only by the games and translate tests."""
    root = tmp_path_factory.mktemp("translators")
    runs = {}
    for name in ("pix2pix", "cycle"):
        trainer = train_run(tiny_config(name, train={"eval_every": 4}), root / name)
        runs[name] = SimpleNamespace(run=root / name, trainer=trainer)
    return runs


@pytest.fixture(scope="session")
def music_run(tmp_path_factory: pytest.TempPathFactory):
    """(MIDI folder, run, trainer) of a tiny MuseGAN trained on 8 chorales (music_fixtures),
    shared read-only by the music and provenance tests."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from music_fixtures import music_config, write_chorale_midis

    root = tmp_path_factory.mktemp("music")
    folder = write_chorale_midis(root / "midi")
    trainer = train_run(music_config(folder), root / "run")
    return folder, root / "run", trainer


@pytest.fixture(scope="session")
def molecule_run(tmp_path_factory: pytest.TempPathFactory):
    """(SMILES file, run, trainer) of a tiny MolGAN trained on 512 QM9 molecules
    (molecule_fixtures), shared read-only by the molecule tests."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from molecule_fixtures import molecule_config, write_smiles

    root = tmp_path_factory.mktemp("molecules")
    smiles = write_smiles(root / "qm9-512.smi")
    trainer = train_run(molecule_config(smiles), root / "run")
    return smiles, root / "run", trainer


@pytest.fixture(scope="session")
def audio_run(tmp_path_factory: pytest.TempPathFactory):
    """(run, trainer) of a tiny class-conditional WaveGAN trained on 20 spoken digits (espeak-ng,
    audio_fixtures), shared read-only by the audio tests; skipped without espeak-ng."""
    import sys
    if shutil.which("espeak-ng") is None:
        pytest.skip("Debian espeak-ng is not installed")
    sys.path.insert(0, str(Path(__file__).parent))
    from audio_fixtures import audio_config

    root = tmp_path_factory.mktemp("audio")
    trainer = train_run(audio_config(model={"conditional": True}), root / "run")
    return root / "run", trainer


@pytest.fixture
def copy_run(trained_runs: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    def copy(base: str) -> Path:
        return Path(shutil.copytree(trained_runs[base], tmp_path / f"{base}-copy"))
    return copy


@pytest.fixture
def cli(capsys):
    """`ganforge ARGS...` in this process (the commands' own code, without a new interpreter):
    its exit code and what it printed."""
    from ganforge.cli import main

    def run(*argv: str) -> SimpleNamespace:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse's own errors
            code = e.code
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    return run


@pytest.fixture
def no_summary(monkeypatch):
    """Trainer.fit without its closing pictures (timelapse, curves.png, report.html: ~0.7 s of
    matplotlib a run, tested with the shared runs): for tests that train many runs."""
    monkeypatch.setattr(Trainer, "summarise", lambda self: None)


@pytest.fixture
def helpers() -> SimpleNamespace:
    """The plain helpers above, for tests (conftest is not imported directly)."""
    return SimpleNamespace(tiny_config=tiny_config, train_run=train_run, flatten=flatten,
                           assert_same_state=assert_same_state, trainer_state=trainer_state,
                           read_metrics=read_metrics, snapshot=snapshot)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: torch's thread pool only adds overhead on a small shared CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

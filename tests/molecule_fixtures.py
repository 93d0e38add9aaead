"""Real molecules for the tests: the first QM9 molecules (read from qm9pack's first CSV part)
written as a SMILES file, and a tiny MolGAN config over them."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

from ganforge.config import Config, merge

MOLECULES = 512


def qm9_smiles(n: int = MOLECULES) -> list[str]:
    """The first n SMILES of QM9 (its first CSV part is read, never the package imported)."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None:
        import pytest
        pytest.skip("qm9pack is not installed (scripts/setup.sh --test installs it)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    csv.field_size_limit(1 << 24)
    with open(folder / "qm9_part1.csv", newline="") as f:
        rows = csv.reader(f)
        column = next(rows).index("SMILES")
        return [row[column] for _, row in zip(range(n), rows)]


def write_smiles(path: Path, smiles: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(smiles or qm9_smiles()) + "\n")
    return path


def molecule_config(source: Path, **sections: Any) -> Config:
    """A small seeded MolGAN over `source`: WGAN-GP, 3 critic steps, 32-wide networks."""
    base = {"data": {"source": str(source)},
            "model": {"family": "molgan", "z_dim": 8, "width": 32},
            "loss": {"name": "wgan-gp", "n_critic": 3},
            "optim": {"lr_g": 1e-3, "lr_d": 1e-3},
            "train": {"steps": 45, "batch_size": 32, "seed": 0, "ema_half_life": 500.0, "sample_every": 15,
                      "checkpoint_every": 15, "log_every": 5, "eval_every": 15, "eval_samples": 200,
                      "device": "cpu", "threads": 1}}
    cfg = merge(Config(), base)
    return merge(cfg, sections) if sections else cfg

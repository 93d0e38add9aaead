"""Evaluate an exported model or run, appending results with their settings to metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ganforge import __version__, modeling
from ganforge.data import load_data
from ganforge.errors import GanforgeError
from ganforge.metrics import mode_coverage


def evaluate_mode_coverage(path: str | Path, n: int = 2500, seed: int = 0) -> dict:
    """Mode coverage (modes captured, high-quality %, reverse KL) of a 2-D mixture model."""
    path = Path(path)
    G = modeling.load(path)
    source = G.data_info.get("source")
    data = load_data(source) if G.resolution == 0 and source else None
    if getattr(data, "modes", None) is None:
        raise GanforgeError(f"{path}: mode coverage needs a model of a 2-D Gaussian mixture (ring8, grid25); "
                            f"this one learned {source!r}. Image metrics arrive with FID/KID support")
    if n < 1:
        raise GanforgeError(f"--n must be at least 1, got {n}")
    with torch.no_grad():
        z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
        metrics = mode_coverage(G(z), data.modes, data.std)
    settings = {"n_fake": n, "seed": seed, "data": source, "threshold_std": 3.0, "generator": "ema",
                "ganforge_version": __version__}
    _append(path, {"evaluate": "mode_coverage", **{f"Metric/{k}": v for k, v in metrics.items()},
                   "settings": settings})
    return {"metrics": metrics, "settings": settings}


def _append(path: Path, record: dict) -> None:
    """Runs keep their results in RUN_DIR/metrics.jsonl (a bare model dir gets its own)."""
    try:
        with open(path / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
    except OSError as e:
        raise GanforgeError(f"cannot append to {path / 'metrics.jsonl'}: {e.strerror}") from None

"""Real music for the tests: a dozen of music21's Bach chorales written out as MIDI files (the
folder source), and a tiny MuseGAN config over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganforge.config import Config, merge

CHORALES = 8  # music21 parses and writes one in ~0.5 s


def write_chorale_midis(folder: Path, n: int = CHORALES) -> Path:
    """The first n four-part 4/4 chorales of music21's corpus as MIDI files in `folder`."""
    from music21 import corpus
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in corpus.chorales.Iterator(returnType="filename"):
        score = corpus.parse(path)
        signatures = score.recurse().getElementsByClass("TimeSignature")
        if len(score.parts) != 4 or not len(signatures) or signatures[0].ratioString != "4/4":
            continue
        try:
            score.write("midi", fp=str(folder / f"{path.replace('/', '_')}.mid"))
        except Exception:  # noqa: BLE001  (music21 cannot expand the repeats of a few)
            continue
        written += 1
        if written == n:
            break
    return folder


def music_config(source: Path, **sections: dict[str, Any]) -> Config:
    """A MuseGAN small enough for a test: hybrid, width 8, z of 10 parts of 4, WGAN-GP."""
    base = {"data": {"source": str(source), "bars": 2},
            "model": {"family": "musegan", "multitrack": "hybrid", "z_dim": 40, "width": 8},
            "loss": {"name": "wgan-gp", "n_critic": 2},
            "train": {"steps": 6, "batch_size": 16, "seed": 0, "ema_half_life": 100.0, "sample_every": 3,
                      "checkpoint_every": 3, "log_every": 2, "eval_every": 3, "eval_samples": 64,
                      "device": "cpu", "threads": 1}}
    cfg = merge(Config(), base)
    return merge(cfg, sections) if sections else cfg

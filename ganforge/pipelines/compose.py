"""Writing music with a trained MuseGAN: pieces of any number of bars (the temporal
generator runs on past the training phrase), binarised, out as MIDI, WAV, a piano-roll
picture or the raw rolls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganforge.data.midi import Score, write_midi
from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.provenance import write_sidecar
from ganforge.viz.pianoroll import save_rolls

BINARIZE = ("threshold", "bernoulli", "monophonic")
OUTPUTS = (".mid", ".midi", ".wav", ".png", ".npy")


class ComposePipeline(Pipeline):
    """`pipe(n, bars=16, seed=0)` -> bool piano rolls (n, tracks, bars, 16, pitches)."""

    kind = "music"

    def __init__(self, generator, device="cpu"):
        super().__init__(generator, device)
        self.score = Score.from_info(getattr(self.G, "data_info", {}))
        self.last_record: dict | None = None  # the last call's provenance (model, seed, binarisation)

    @torch.no_grad()
    def __call__(self, n: int, *, bars: int | None = None, seed: int = 0, batch_size: int = 64,
                 binarize: str = "threshold") -> torch.Tensor:
        """n pieces of `bars` bars (default: the training phrase's) from z drawn with `seed`.
        binarize: "threshold" (a note where G's output is above 0, MuseGAN's hard
        thresholding), "bernoulli" (each cell on with probability (output + 1) / 2) or
        "monophonic" (each track plays at most its strongest pitch at a step, if above 0:
        for one-line voices, as the chorales' are)."""
        if n < 1 or batch_size < 1:
            raise GanforgeError(f"n and batch_size must be at least 1, got {n} and {batch_size}")
        if bars is not None and bars < 1:
            raise GanforgeError(f"bars must be at least 1, got {bars}")
        if binarize not in BINARIZE:
            raise GanforgeError(f"binarize must be one of {', '.join(BINARIZE)}, got {binarize!r}")
        self.last_record = self.provenance("compose", seed=seed, sampler=f"binarize {binarize}")
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.G.z_dim, generator=g)  # drawn on the CPU: the same pieces on any device
        out = torch.cat([self.G(z[i:i + batch_size].to(self.device), bars=bars).float().cpu()
                         for i in range(0, n, batch_size)])  # (n, tracks, bars, steps, pitches) in [-1, 1]
        if binarize == "threshold":
            return out > 0
        if binarize == "monophonic":
            strongest = out == out.amax(dim=-1, keepdim=True)
            return strongest & (out > 0)
        return torch.bernoulli((out + 1) / 2, generator=g).bool()

    def save(self, rolls: torch.Tensor, path: str | Path, record: dict | None = None) -> Path:
        """.mid: one MIDI file, the pieces one after another a bar apart (one instrument per
        track); .wav: the same, rendered; .png: piano rolls; .npy: the bool rolls. Each
        carries `record` (default: the last call's provenance; see ganforge.provenance)."""
        path = Path(path)
        suffix = path.suffix.lower()
        record = record or self.last_record or self.provenance("compose", seed="unknown")
        if suffix in (".mid", ".midi"):
            return write_midi(rolls, path, self.score, record)
        if suffix == ".wav":
            from ganforge.viz.synth import write_wav
            return write_wav(rolls, path, self.score, record=record)
        try:
            if suffix == ".png":
                return save_rolls(rolls, path, record=record)
            if suffix == ".npy":
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, rolls.numpy())
                write_sidecar(path, record)
                return path
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror}") from None
        raise GanforgeError(f"--out {path}: music is written as {', '.join(OUTPUTS)}")

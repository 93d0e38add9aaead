"""Making sound with a trained WaveGAN or SpecGAN: n seeded clips (of one class, for a
conditional model; SpecGAN's spectrograms inverted by Griffin-Lim), out as a folder of WAV
files (one a clip), one WAV of the clips one after another, their spectrogram pictures, or
the raw samples; every file with its provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.provenance import write_sidecar
from ganforge.sampling import check_sampler
from ganforge.viz.grid import save_samples
from ganforge.viz.sound import one_after_another, write_wav
from ganforge.viz.spectrogram import clip_pictures

OUTPUTS = ("a folder (one .wav a clip)", ".wav (the clips one after another)", ".png (spectrograms)",
           ".npy (float32 samples)")
SAMPLERS = ("plain", "truncation")  # DRS and MH calibrate D on held-out images and points, not clips
PER_ROW = 5                         # spectrograms a row in a .png


def sound(G, made: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """What an audio G made -> clips (N, 1, length) on the CPU: WaveGAN's as they are, SpecGAN's
    spectrograms through Griffin-Lim (seeded phases) with the statistics in its config.json."""
    if getattr(G, "representation", "waveform") != "spectrogram":
        return made.detach().float().cpu()
    from ganforge.data.spectrogram import SpectrogramCoder
    return SpectrogramCoder.from_info((getattr(G, "data_info", None) or {}).get("spectrogram")).decode(made, seed=seed)


class AudioPipeline(GeneratePipeline):
    """`pipe(n, seed=0, classes=None)` -> clips float32 (n, 1, length) in [-1, 1]."""

    kind = "audio"
    labels: torch.Tensor | None = None  # the last call's class labels (they name a folder's files)

    def __init__(self, generator, device="cpu"):
        super().__init__(generator, device)
        info = getattr(self.G, "data_info", None) or {}
        self.sample_rate = int(info.get("sample_rate", 16_000))
        self.class_names = info.get("class_names") or None

    @torch.no_grad()
    def __call__(self, n: int, *, seed: int = 0, batch_size: int = 64, classes: int | torch.Tensor | None = None,
                 sampler: str = "plain", truncation: float | None = None, **_) -> torch.Tensor:
        """n clips from z drawn with `seed`; a conditional model's `classes` is one class for
        all or (n,) labels (default: cycling through the classes). `sampler`: plain or
        truncation (z resampled where |z_i| > `truncation`)."""
        if n < 1 or batch_size < 1:
            raise GanforgeError(f"n and batch_size must be at least 1, got {n} and {batch_size}")
        sampler = check_sampler(sampler or "", truncation)
        if sampler not in SAMPLERS:
            raise GanforgeError(f"audio models sample with {' or '.join(SAMPLERS)} (--sampler), not {sampler}")
        self.labels = self._labels(n, classes)
        made = super().__call__(n, seed=seed, batch_size=batch_size, classes=self.labels, sampler=sampler,
                                truncation=truncation)
        return sound(self.G, made, seed)

    def save(self, clips: torch.Tensor, path: str | Path, record: dict | None = None, **_) -> Path:
        """A path without a suffix: a folder of WAV files, one a clip (000-seven.wav ...);
        .wav: the clips one after another, a quarter second apart (viz.sound.GAP); .png: their spectrograms
        under their waveforms; .npy: float32 (n, length) and x.npy.json. Each carries
        `record` (default: the last call's provenance); a folder's files also their index."""
        path = Path(path)
        suffix = path.suffix.lower()
        record = record or self.last_record or self.provenance("generate", seed="unknown")
        if suffix == "":
            return self._save_folder(clips, path, record)
        if suffix == ".wav":
            return write_wav(one_after_another(clips, self.sample_rate), self.sample_rate, path, record)
        try:
            if suffix == ".png":
                return save_samples(clip_pictures(clips), path, nrow=PER_ROW, record=record)
            if suffix == ".npy":
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, clips.flatten(1).numpy().astype(np.float32))
                write_sidecar(path, record)
                return path
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror}") from None
        raise GanforgeError(f"--out {path}: audio is written as {', '.join(OUTPUTS)}")

    def _save_folder(self, clips: torch.Tensor, folder: Path, record: dict) -> Path:
        if folder.exists() and not folder.is_dir():
            raise GanforgeError(f"--out {folder}: exists and is not a folder (a file name needs .wav, .png or .npy)")
        named = self.labels is not None and self.class_names and len(self.labels) == len(clips)
        for i, clip in enumerate(clips):
            name = f"{i:03d}-{self.class_names[int(self.labels[i])]}" if named else f"{i:03d}"
            write_wav(clip.flatten().numpy(), self.sample_rate, folder / f"{name}.wav",
                      {**record, "clip": f"{i + 1} of {len(clips)}"})
        return folder


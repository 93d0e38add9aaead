"""Audio: clips of raw samples (float32 (N, 1, length) in [-1, 1]; ganforge/data/audio.py), or
SpecGAN's normalised spectrograms of them (N, 1, 128, 128), turned into sound by Griffin-Lim
(ganforge/data/spectrogram.py). Sample pictures are each fixed-z clip's waveform above its
log-magnitude spectrogram (viz/spectrogram.py), with the same clips as sound beside them:
step-N.wav, and samples/latest.wav (the clips one after another, with provenance), which
report.html plays."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge import provenance
from ganforge.domains.evaluation import SampledEvaluation
from ganforge.viz.grid import save_samples
from ganforge.viz.sound import one_after_another, write_wav
from ganforge.viz.spectrogram import clip_pictures

PER_ROW = 5         # clips a row in a sample picture
BATCH = 256         # clips generated at once when measuring


class AudioDomain:
    kind = "audio"
    images = False          # (B, 1, L): no NHWC layout
    picture_count = 10      # fixed-z clips in a sample picture (a conditional model: one of each digit)
    probe_count = 64        # fixed-z samples the collapse alarm compares with real ones

    def __init__(self, data):
        self.data = data
        self.sample_rate = data.sample_rate
        self.seed: int | None = None  # the run's seed, for the sample sounds' provenance

    def real_sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n real clips (n, 1, L), a seeded random subset."""
        x = self.data.x
        return x[torch.randperm(len(x), generator=generator)[:n]]

    def scale(self) -> float:
        return 1.0

    def info(self) -> dict:
        """What writing the clips needs, kept in the exported model's config.json (spectrograms:
        the statistics that turn them back into sound)."""
        coder = self.data.coder
        spectrogram = {"spectrogram": coder.info()} if coder is not None else {}
        per_word = {"clips_per_word": self.data.clips_per_word} if self.data.clips_per_word else {}
        return {"sample_rate": self.sample_rate, "length": self.data.length,
                "representation": self.data.representation, **per_word, **spectrogram}

    def clips(self, samples: Tensor) -> Tensor:
        """What G makes -> the sound of it, (N, 1, length): spectrograms inverted by Griffin-Lim."""
        coder = self.data.coder
        return samples.detach().float().cpu() if coder is None else coder.decode(samples)

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """step-N.png (waveforms over spectrograms, 5 a row), step-N.wav and latest.wav of the
        same clips; returns the pictures (for TensorBoard)."""
        samples = self.clips(samples)
        pictures = clip_pictures(samples)
        save_samples(pictures, path, nrow=PER_ROW)
        step = path.stem.removeprefix("step-").lstrip("0") or "0"  # samples/step-00000500.png: as the PNG's record
        record = provenance.record(f"training run {path.parent.parent.name}, step {step}", "training sample",
                                   created=False, seed=self.seed)
        sound = write_wav(one_after_another(samples, self.sample_rate), self.sample_rate, path.with_suffix(".wav"), record)
        shutil.copyfile(sound, path.parent / "latest.wav")
        return pictures

    def evaluation(self, cfg, run_dir: Path | None = None) -> AudioEvaluation:
        t = cfg.train
        self.seed = t.seed
        return AudioEvaluation(self, t.eval_every, t.eval_samples, t.seed)


class AudioEvaluation(SampledEvaluation):
    """IS and FID in the spoken-digit classifier's features (metrics/audio.py) of `n` generated
    clips (seeded z; a conditional model's classes evenly), against the training clips."""

    def __init__(self, domain: AudioDomain, every: int, n: int, seed: int):
        from ganforge.metrics.audio import clip_features, reference_metrics
        from ganforge.metrics.speech_classifier import load_speech_classifier
        self.domain, self.every, self.n, self.seed = domain, every, n, seed
        self.classifier = load_speech_classifier()
        self.real, logits = clip_features(self.classifier, domain.data.clips(), domain.sample_rate)
        self.reference = reference_metrics(self.real, logits)

    @torch.no_grad()
    def _measure(self, G: nn.Module) -> dict[str, float]:
        from ganforge.metrics.audio import audio_metrics, clip_features
        from ganforge.metrics.features import generator_labels
        g = torch.Generator().manual_seed(self.seed + 4)
        labels = generator_labels(self.n, G.c_dim, g) if G.c_dim else None
        was_training = G.training
        G.eval()
        clips = torch.cat([self._clips(G, i, labels, g) for i in range(0, self.n, BATCH)])
        G.train(was_training)
        features, logits = clip_features(self.classifier, clips, self.domain.sample_rate)
        return {**audio_metrics(features, logits, self.real, labels), **self.reference}

    def _clips(self, G: nn.Module, start: int, labels: Tensor | None, g: torch.Generator) -> Tensor:
        """Clips start .. start + BATCH of the n measured (as sound: SpecGAN's inverted)."""
        device = next(G.parameters()).device
        b = min(BATCH, self.n - start)
        z = torch.randn(b, G.z_dim, generator=g).to(device)      # drawn on the CPU: the same on any device
        c = None if labels is None else labels[start:start + b].to(device)
        return self.domain.clips(G(z, c))

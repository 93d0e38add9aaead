"""SpecGAN's representation of a clip (Donahue et al. 2019): a 128 x 128 picture of its sound.

  clip (16384,) -> STFT, 16 ms Hann windows every 8 ms (at 16 kHz: n_fft 256, hop 128)
       -> log(|X| + 1e-6), the top frequency bin and the last frame dropped: (128 bins, 128 frames)
       -> each frequency bin normalised by the training set's mean and std for that bin,
          clipped at 3 std and divided by 3: in [-1, 1], what the models see (1, 128, 128)

and back: de-normalised, exponentiated, and its phase (which the picture does not keep)
recovered by Griffin-Lim (1984): 16 iterations of keeping the magnitude and taking the phase
of the STFT of the signal so far, as the paper inverts it. torch.stft / torch.istft only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganforge.errors import GanforgeError

N_FFT, HOP = 256, 128
BINS, FRAMES = N_FFT // 2, 128          # the picture: 128 x 128
LENGTH = HOP * FRAMES                   # 16,384 samples
EPS = 1e-6
CLIP = 3.0                              # normalised values are clipped at 3 std
ITERATIONS = 16                         # Griffin-Lim's, as the paper


def log_spectrum(clips: Tensor) -> Tensor:
    """Clips (N, 1, LENGTH) -> natural-log magnitudes (N, BINS, FRAMES)."""
    window = torch.hann_window(N_FFT, device=clips.device)
    spec = torch.stft(clips.flatten(1).float(), N_FFT, HOP, window=window, return_complex=True)  # (N, 129, 129)
    return torch.log(spec.abs()[:, :BINS, :FRAMES] + EPS)


def griffin_lim(magnitude: Tensor, iterations: int = ITERATIONS, seed: int = 0) -> Tensor:
    """Magnitudes (N, BINS, FRAMES) -> clips (N, LENGTH) whose STFT has (about) them; the
    phase starts seeded-random, so the same input gives the same sound."""
    window = torch.hann_window(N_FFT, device=magnitude.device)
    full = torch.nn.functional.pad(magnitude, (0, 1, 0, 1))           # (N, 129, 129): the dropped bin and frame as 0
    g = torch.Generator().manual_seed(seed)
    phase = torch.polar(torch.ones_like(full), 2 * torch.pi * torch.rand(full.shape, generator=g).to(full.device))

    def inverse(p: Tensor) -> Tensor:
        return torch.istft(full * p, N_FFT, HOP, window=window, length=LENGTH)

    for _ in range(iterations):
        rebuilt = torch.stft(inverse(phase), N_FFT, HOP, window=window, return_complex=True)
        phase = torch.polar(torch.ones_like(full), rebuilt.angle())
    return inverse(phase)


@dataclass
class SpectrogramCoder:
    """Clips <-> normalised log-magnitude spectrograms, with the training set's statistics."""
    mean: Tensor            # (BINS,) per frequency bin
    std: Tensor             # (BINS,)

    @classmethod
    def fit(cls, clips: Tensor, chunk: int = 512) -> SpectrogramCoder:
        """The per-bin mean and std of the log magnitudes of clips (N, 1, LENGTH)."""
        check_length(clips.shape[-1])
        total, squares, count = torch.zeros(BINS, dtype=torch.float64), torch.zeros(BINS, dtype=torch.float64), 0
        for i in range(0, len(clips), chunk):
            s = log_spectrum(clips[i:i + chunk]).double()                 # (n, BINS, FRAMES)
            total += s.sum((0, 2))
            squares += s.pow(2).sum((0, 2))
            count += s.shape[0] * s.shape[2]
        mean = total / count
        std = (squares / count - mean.pow(2)).clamp(min=1e-12).sqrt()
        return cls(mean.float(), std.float().clamp(min=1e-3))

    def encode(self, clips: Tensor) -> Tensor:
        """Clips (N, 1, LENGTH) -> spectrograms (N, 1, BINS, FRAMES) in [-1, 1]."""
        s = (log_spectrum(clips) - self.mean[:, None]) / self.std[:, None]
        return (s.clamp(-CLIP, CLIP) / CLIP)[:, None]

    def decode(self, x: Tensor, iterations: int = ITERATIONS, seed: int = 0, chunk: int = 256) -> Tensor:
        """Spectrograms (N, 1, BINS, FRAMES) in [-1, 1] -> clips (N, 1, LENGTH) in [-1, 1], `chunk`
        at a time (Griffin-Lim's complex spectra of thousands of clips would take gigabytes)."""
        x = x.detach().float().cpu()[:, 0]
        magnitude = (torch.exp(x * CLIP * self.std[:, None] + self.mean[:, None]) - EPS).clamp(min=0)
        parts = [griffin_lim(magnitude[i:i + chunk], iterations, seed + i) for i in range(0, len(x), chunk)]
        return torch.cat(parts).clamp(-1, 1)[:, None]

    def info(self) -> dict:
        """The statistics as JSON (an exported model's config.json keeps them, to decode its output)."""
        return {"mean": [round(float(v), 6) for v in self.mean], "std": [round(float(v), 6) for v in self.std]}

    @classmethod
    def from_info(cls, info: dict) -> SpectrogramCoder:
        try:
            mean, std = torch.tensor(info["mean"], dtype=torch.float32), torch.tensor(info["std"], dtype=torch.float32)
        except (KeyError, TypeError, ValueError):
            raise GanforgeError("this SpecGAN model's config.json has no spectrogram statistics (data.spectrogram "
                                "mean and std): export it again with this ganforge") from None
        if mean.shape != (BINS,) or std.shape != (BINS,):
            raise GanforgeError(f"this SpecGAN model's spectrogram statistics are not {BINS} numbers each")
        return cls(mean, std)


def check_length(length: int) -> None:
    if length != LENGTH:
        raise GanforgeError(f"spectrograms are SpecGAN's {BINS} x {FRAMES} of {LENGTH}-sample clips, not {length} "
                            f"samples: set --length {LENGTH}")

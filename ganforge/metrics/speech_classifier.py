"""A small spoken-digit classifier: the audio domain's feature extractor (`spoken-digits-cnn`),
as the digits and Fashion-MNIST CNNs are the images' (ganforge/metrics/classifiers.py).

WaveGAN's paper measures its SC09 models with the Inception score of a digit classifier
trained on the real clips; SC09 cannot be downloaded here, so this one learns the
spoken-digits set (espeak-ng) and is checked on held-out synthetic voices and on Asterisk's
real recorded digits (the weights' metadata says how well).

  clips (N, 1, L) float in [-1, 1], any rate (resampled to 16 kHz; centred in 16,384 samples)
  -> log mel spectrogram, 40 bands 50 Hz..8 kHz, 32 ms windows every 16 ms (40 x 65),
     its mean over the clip subtracted (loudness does not name a digit)
  -> 4 stages of 3x3 conv-BN-ReLU (16, 32, 64, 64), 2x2 max-pool between
  -> global average: the features (64-d; FID, KID) -> dropout, linear: 10 logits (IS)

`python -m ganforge.metrics.train_speech_classifier` trains the shipped weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.metrics.classifiers import WEIGHTS_DIR, read_metadata

NAME = "spoken-digits"
RATE, LENGTH = 16_000, 16_384
N_FFT, HOP, MELS, F_MIN = 512, 256, 40, 50.0
WIDTHS = (16, 32, 64, 64)


def mel_filters(n_fft: int = N_FFT, mels: int = MELS, rate: int = RATE, f_min: float = F_MIN) -> Tensor:
    """Triangular mel filters (mels, n_fft // 2 + 1) (HTK's mel scale)."""
    mel = lambda f: 2595 * math.log10(1 + f / 700)  # noqa: E731
    edges = torch.linspace(mel(f_min), mel(rate / 2), mels + 2)
    hz = 700 * (10 ** (edges / 2595) - 1)                                   # (mels + 2,)
    freqs = torch.linspace(0, rate / 2, n_fft // 2 + 1)                      # (bins,)
    lower = (freqs[None] - hz[:-2, None]) / (hz[1:-1, None] - hz[:-2, None])
    upper = (hz[2:, None] - freqs[None]) / (hz[2:, None] - hz[1:-1, None])
    return torch.clamp(torch.minimum(lower, upper), min=0)


def to_classifier_input(clips: Tensor, sample_rate: int) -> Tensor:
    """Clips (N, 1, L) at `sample_rate` -> float (N, 1, LENGTH) at 16 kHz, centred (cut or
    zero-padded evenly at both ends)."""
    x = clips.detach().float().cpu().flatten(1)
    if sample_rate != RATE:
        from ganforge.data.wav import resample
        x = torch.from_numpy(np.stack([resample(c, sample_rate, RATE) for c in x.numpy()]))
    extra = x.shape[1] - LENGTH
    if extra >= 0:
        return x[:, extra // 2:extra // 2 + LENGTH][:, None].contiguous()
    missing = -extra
    return nn.functional.pad(x, (missing // 2, missing - missing // 2))[:, None]


class SpeechDigitClassifier(nn.Module):
    """Clips (N, 1, 16384) at 16 kHz -> logits (N, 10); `features` the 64-d penultimate layer."""

    def __init__(self, classes: int = 10, dropout: float = 0.2):
        super().__init__()
        self.num_classes, self.feature_dim = classes, WIDTHS[-1]
        self.register_buffer("mel", mel_filters(), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)
        layers: list[nn.Module] = [nn.BatchNorm2d(1)]
        c = 1
        for i, w in enumerate(WIDTHS):
            layers += ([nn.MaxPool2d(2)] if i else []) + [nn.Conv2d(c, w, 3, padding=1, bias=False),
                                                         nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c, classes)

    def log_mel(self, clips: Tensor) -> Tensor:
        """(N, 1, L) -> (N, 1, MELS, frames), each clip's mean removed."""
        spec = torch.stft(clips.flatten(1).float(), N_FFT, HOP, window=self.window, return_complex=True).abs() ** 2
        m = torch.log(self.mel @ spec + 1e-6)                            # (N, MELS, frames)
        return (m - m.mean(dim=(1, 2), keepdim=True))[:, None]

    def features(self, clips: Tensor) -> Tensor:
        return self.body(self.log_mel(clips)).mean(dim=(2, 3))           # (N, 64)

    def logits_from_features(self, f: Tensor) -> Tensor:
        return self.head(self.dropout(f))

    def forward(self, clips: Tensor) -> Tensor:
        return self.logits_from_features(self.features(clips))


def weights_path() -> Path:
    return WEIGHTS_DIR / f"{NAME}.safetensors"


def load_speech_classifier(weights: str | Path | None = None, device: str | torch.device = "cpu") -> SpeechDigitClassifier:
    """The trained classifier in eval mode; `.metadata` holds its training record and accuracies."""
    path = Path(weights) if weights is not None else weights_path()
    if not path.is_file():
        raise GanforgeError(f"{path}: spoken-digit classifier weights not found (train them with "
                            "`python -m ganforge.metrics.train_speech_classifier`)")
    model = SpeechDigitClassifier()
    metadata = read_metadata(path)
    try:
        model.load_state_dict(load_file(str(path)))
    except (OSError, SafetensorError, RuntimeError) as e:
        raise GanforgeError(f"{path}: weights do not fit the spoken-digit classifier "
                            f"({' '.join(str(e).split())[:160]})") from None
    model.metadata = metadata
    return model.to(device).eval().requires_grad_(False)

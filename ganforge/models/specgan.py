"""SpecGAN (Donahue, McAuley & Puckette 2019): a DCGAN on 128 x 128 normalised log-magnitude
spectrograms (ganforge/data/spectrogram.py), the sound recovered by Griffin-Lim.

  Generator      z (100) -> dense -> (16d, 4, 4) -> 5 transposed convolutions, 5x5, stride 2
                 (16d, 8d, 4d, 2d, d), ReLU; the last to 1 channel, tanh: (1, 128, 128)
  Discriminator  5 convolutions, 5x5, stride 2 (d ... 16d), LeakyReLU(0.2) -> (16d, 4, 4) -> a logit
d = 64 in the paper (--width scales it); no batch norm (WGAN-GP), no phase shuffle (that is
WaveGAN's, for waveforms). Class-conditional as WaveGAN and the image families.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.spectrogram import LENGTH
from ganforge.models.layers import DiscriminatorHead, concat_label_planes, input_label_dim, maybe_spectral_norm, one_hot

KERNEL, LAYERS, BASE = 5, 5, 4   # 4 x 2^5 = 128


def _channels(width: int) -> list[int]:
    return [width * 2 ** (LAYERS - 1 - i) for i in range(LAYERS)]   # 16d ... d


class Generator(nn.Module):
    """z (B, z_dim) [, labels (B,)] -> spectrograms (B, 1, 128, 128) in [-1, 1] (sound: see
    AudioPipeline, which inverts them with the training set's statistics)."""

    kind = "audio"  # pipelines: written by AudioPipeline (`ganforge generate RUN --out clips/`)
    representation = "spectrogram"

    def __init__(self, z_dim: int = 100, width: int = 64, c_dim: int = 0, channels: int = 1):
        super().__init__()
        self.hparams = dict(z_dim=z_dim, width=width, c_dim=c_dim, channels=channels)
        self.z_dim, self.c_dim, self.channels, self.length = z_dim, c_dim, channels, LENGTH
        self.resolution = 0  # (the sound it makes is not an image)
        ch = _channels(width)
        self.dense = nn.Linear(z_dim + c_dim, ch[0] * BASE * BASE)
        ups: list[nn.Module] = []
        for a, b in zip(ch, ch[1:] + [channels]):
            ups += [nn.ConvTranspose2d(a, b, KERNEL, 2, padding=2, output_padding=1), nn.ReLU()]  # 2x each side
        ups[-1] = nn.Tanh()
        self.net = nn.Sequential(*ups)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        c = one_hot(c, self.c_dim, z.shape[0])
        h = z if c is None else torch.cat([z, c], dim=1)
        h = F.relu(self.dense(h)).view(z.shape[0], -1, BASE, BASE)       # (B, 16d, 4, 4)
        return self.net(h)                                               # (B, 1, 128, 128)


class Discriminator(nn.Module):
    """Spectrograms (B, 1, 128, 128) [, labels (B,)] -> logits (B,)."""

    def __init__(self, width: int = 64, c_dim: int = 0, conditioning: str = "concat", spectral_norm: bool = False,
                 channels: int = 1):
        super().__init__()
        self.hparams = dict(width=width, c_dim=c_dim, conditioning=conditioning, spectral_norm=spectral_norm,
                            channels=channels)
        self.c_dim, self.channels, self.resolution = c_dim, channels, 0
        self.label_planes = input_label_dim(c_dim, conditioning)
        ch = _channels(width)[::-1]                                     # d ... 16d
        layers: list[nn.Module] = []
        for a, b in zip([channels + self.label_planes] + ch[:-1], ch):
            layers += [maybe_spectral_norm(nn.Conv2d(a, b, KERNEL, 2, padding=2), spectral_norm), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.head = DiscriminatorHead(ch[-1] * BASE * BASE, c_dim, conditioning, spectral_norm)

    def forward_with_classes(self, x: Tensor, c: Tensor | None = None):
        if self.label_planes:
            x = concat_label_planes(x, c, self.c_dim)                  # (B, 1 + c_dim, 128, 128)
        return self.head(self.net(x).flatten(1), c)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        return self.forward_with_classes(x, c)[0]


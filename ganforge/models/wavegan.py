"""WaveGAN (Donahue, McAuley & Puckette 2019): DCGAN made one-dimensional for raw audio.

  Generator      z (100) -> dense -> (16, 16d) -> k transposed convolutions, kernel 25,
                 stride 4 (channels halving: 16d, 8d, 4d, 2d, d), ReLU; the last to 1 channel,
                 tanh. k = 5 for WaveGAN's 16,384 samples (16 * 4^5); a shorter clip drops layers.
  Discriminator  k convolutions, kernel 25, stride 4 (d, 2d, ... 16d), LeakyReLU(0.2), phase
                 shuffle (n = 2) after every one but the last -> (16, 16d) -> a logit.
d = 64 in the paper (--width scales it). No batch norm (the paper trains with WGAN-GP).

Phase shuffle: D's transposed-convolution detector is "learn the checkerboard artefacts of
G's upsampling"; shifting each example's feature maps by a random -n..n samples (reflection
padded) between layers takes that shortcut away.

Class-conditional (--conditional): G takes the one-hot label beside z; D as the image
families do (layers.CONDITIONING): concat (the label as constant input channels), projection
or acgan (both in D's head).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.models.layers import DiscriminatorHead, concat_label_planes, input_label_dim, maybe_spectral_norm, one_hot

KERNEL, STRIDE = 25, 4
BASE = 16                 # the first feature map's length (G) and the last one's (D)
LENGTHS = tuple(BASE * STRIDE ** k for k in range(2, 7))  # 256 ... 16384 (WaveGAN) ... 65536


def layers_for(length: int) -> int:
    """k, the stride-4 layers between a base map of 16 and `length` = 16 * 4^k samples."""
    if length not in LENGTHS:
        raise ValueError(f"wavegan makes clips of {', '.join(map(str, LENGTHS))} samples, not {length}")
    return LENGTHS.index(length) + 2


def _channels(width: int, k: int) -> list[int]:
    """G's feature widths from the base map down: width * 2^(k-1) ... width (16d ... d for k = 5)."""
    return [width * 2 ** (k - 1 - i) for i in range(k)]


class Generator(nn.Module):
    """z (B, z_dim) [, labels (B,)] -> clips (B, 1, length) in [-1, 1]."""

    kind = "audio"  # pipelines: written by AudioPipeline (`ganforge generate RUN --out clips/`)
    representation = "waveform"

    def __init__(self, z_dim: int = 100, length: int = 16384, channels: int = 1, width: int = 64, c_dim: int = 0):
        super().__init__()
        self.hparams = dict(z_dim=z_dim, length=length, channels=channels, width=width, c_dim=c_dim)
        self.z_dim, self.c_dim, self.length, self.channels = z_dim, c_dim, length, channels
        self.resolution = 0  # not an image
        ch = _channels(width, layers_for(length))
        self.dense = nn.Linear(z_dim + c_dim, BASE * ch[0])
        ups: list[nn.Module] = []
        for a, b in zip(ch, ch[1:] + [channels]):
            # kernel 25, stride 4, "same": exactly 4x longer
            ups += [nn.ConvTranspose1d(a, b, KERNEL, STRIDE, padding=11, output_padding=1), nn.ReLU()]
        ups[-1] = nn.Tanh()
        self.net = nn.Sequential(*ups)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        c = one_hot(c, self.c_dim, z.shape[0])
        h = z if c is None else torch.cat([z, c], dim=1)
        h = F.relu(self.dense(h)).view(z.shape[0], -1, BASE)            # (B, 16d, 16)
        return self.net(h)                                              # (B, 1, length)


class PhaseShuffle(nn.Module):
    """Shift each example's features (B, C, L) by its own random -n..n samples, reflection
    padded; in training only (eval: the identity)."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.n == 0:
            return x
        b, c, length = x.shape
        shift = torch.randint(-self.n, self.n + 1, (b,), device=x.device)  # torch's RNG: resumed exactly
        padded = F.pad(x, (self.n, self.n), mode="reflect")                 # (B, C, L + 2n)
        index = (self.n - shift)[:, None] + torch.arange(length, device=x.device)  # (B, L)
        return padded.gather(2, index[:, None].expand(b, c, length))


class Discriminator(nn.Module):
    """Clips (B, 1, length) [, labels (B,)] -> logits (B,)."""

    def __init__(self, length: int = 16384, channels: int = 1, width: int = 64, c_dim: int = 0,
                 conditioning: str = "concat", phase_shuffle: int = 2, spectral_norm: bool = False):
        super().__init__()
        self.hparams = dict(length=length, channels=channels, width=width, c_dim=c_dim, conditioning=conditioning,
                            phase_shuffle=phase_shuffle, spectral_norm=spectral_norm)
        self.c_dim, self.length, self.channels, self.resolution = c_dim, length, channels, 0
        self.label_planes = input_label_dim(c_dim, conditioning)
        ch = _channels(width, layers_for(length))[::-1]                 # d ... 16d
        layers: list[nn.Module] = []
        for a, b in zip([channels + self.label_planes] + ch[:-1], ch):
            conv = maybe_spectral_norm(nn.Conv1d(a, b, KERNEL, STRIDE, padding=11), spectral_norm)
            layers += [conv, nn.LeakyReLU(0.2), PhaseShuffle(phase_shuffle)]
        self.net = nn.Sequential(*layers[:-1])                           # no shuffle after the last
        self.head = DiscriminatorHead(BASE * ch[-1], c_dim, conditioning, spectral_norm)

    def forward_with_classes(self, x: Tensor, c: Tensor | None = None):
        """(logits (B,), class logits (B, c_dim) for ACGAN else None)."""
        if self.label_planes:
            x = concat_label_planes(x, c, self.c_dim)                  # (B, 1 + c_dim, L)
        return self.head(self.net(x).flatten(1), c)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        return self.forward_with_classes(x, c)[0]

"""MoCoGAN (Tulyakov et al. 2018): a clip is one content latent and a motion trajectory.

G: z = [content (z_dim - motion_dim) | h0 (motion_dim)]. A GRU cell, started from h0, takes
one innovation eps_t ~ N(0, I) a frame and gives the frame's motion code h_t; each frame is
DCGAN's generator (models/dcgan.py) of [content, h_t]. The GRU runs on for as many frames as
asked (`frames`), more than it was trained on too.
D: two judges, one module (one optimiser): DCGAN's discriminator on single frames (is this
a real picture?) and a 3-D convolutional one on the whole clip (is this real motion?).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganforge.models import dcgan
from ganforge.models.layers import (
    DiscriminatorHead,
    checked_plan,
    concat_label_planes,
    dcgan_init,
    input_label_dim,
    maybe_spectral_norm,
)
from ganforge.resolution import size as image_size

MOTION_DIM = 16  # the GRU's state: what changes from frame to frame


class Generator(nn.Module):
    kind = "video"  # pipelines: written by VideoPipeline (`ganforge generate RUN --out clip.gif`)

    def __init__(self, z_dim: int = 64, resolution: int | list[int] = 32, channels: int = 1, width: int = 64,
                 c_dim: int = 0, frames: int = 16, motion_dim: int = MOTION_DIM):
        super().__init__()
        if not 0 < motion_dim < z_dim:
            raise ValueError(f"z_dim ({z_dim}) must be larger than the motion code ({motion_dim})")
        self.hparams = dict(z_dim=z_dim, resolution=resolution, channels=channels, width=width, c_dim=c_dim,
                            frames=frames, motion_dim=motion_dim)
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, c_dim, resolution, channels
        self.frames, self.motion_dim, self.content_dim = frames, motion_dim, z_dim - motion_dim
        self.image_size = image_size(resolution)
        self.gru = nn.GRUCell(motion_dim, motion_dim)
        self.frame = dcgan.Generator(z_dim, resolution, channels, width, c_dim)  # [content, h_t] -> a frame

    def motion(self, h0: Tensor, noise: Tensor) -> Tensor:
        """Motion codes (B, T, motion_dim) from the GRU's start h0 (B, m) and innovations (B, T, m)."""
        h, codes = h0, []
        for t in range(noise.shape[1]):
            h = self.gru(noise[:, t], h)
            codes.append(h)
        return torch.stack(codes, 1)

    def forward(self, z: Tensor, c: Tensor | None = None, frames: int | None = None,
                noise: Tensor | None = None) -> Tensor:
        """Clips (B, C, T, H, W) in [-1, 1]. `noise` (B, T, motion_dim): the innovations (drawn
        from torch's global generator when None: pass them for reproducible clips)."""
        B, T = z.shape[0], frames or (noise.shape[1] if noise is not None else self.frames)
        if noise is None:
            noise = torch.randn(B, T, self.motion_dim, device=z.device, dtype=z.dtype)
        content, h0 = z[:, :self.content_dim], z[:, self.content_dim:]
        codes = self.motion(h0, noise[:, :T])                                      # (B, T, m)
        per_frame = torch.cat([content[:, None].expand(-1, T, -1), codes], 2)      # (B, T, z_dim)
        x = self.frame(per_frame.flatten(0, 1), None if c is None else c.repeat_interleave(T))  # (B*T, C, H, W)
        return x.view(B, T, *x.shape[1:]).transpose(1, 2)                          # (B, C, T, H, W)


class VideoDiscriminator(nn.Module):
    """3-D convolutions over (C, T, H, W): each layer halves the sides (as DCGAN's D) and the
    time axis while it is longer than 1; a linear head on what is left (projection-ready)."""

    def __init__(self, resolution: int | list[int] = 32, channels: int = 1, width: int = 64, c_dim: int = 0,
                 frames: int = 16, spectral_norm: bool = False, batchnorm: bool = True, conditioning: str = "concat"):
        super().__init__()
        self.c_dim, self.label_planes = c_dim, input_label_dim(c_dim, conditioning)
        bh, bw, k = checked_plan("mocogan", resolution)
        ch = dcgan._channels(width, k)[::-1]
        layers: list[nn.Module] = []
        t, previous = frames, channels + self.label_planes
        for i, out in enumerate(ch):
            stride_t = 2 if t > 1 else 1
            layers.append(nn.Conv3d(previous, out, (3, 4, 4), (stride_t, 2, 2), (1, 1, 1), bias=not (batchnorm and i)))
            layers += [nn.BatchNorm3d(out)] if batchnorm and i else []
            layers.append(nn.LeakyReLU(0.2, True))
            t, previous = -(-t // stride_t), out
        self.net = nn.Sequential(*layers)                              # (B, ch[-1], t, bh, bw)
        self.head = DiscriminatorHead(ch[-1] * t * bh * bw, c_dim, conditioning)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        if self.label_planes:
            x = concat_label_planes(x, c, self.c_dim)
        return self.head(self.net(x).flatten(1), c)[0]                 # (B,) logits


class Discriminator(nn.Module):
    """MoCoGAN's two judges behind one forward (DDP syncs gradients only of what goes through
    it): `judge="video"` on clips (B, C, T, H, W), `judge="image"` on frames (N, C, H, W)."""

    def __init__(self, resolution: int | list[int] = 32, channels: int = 1, width: int = 64, c_dim: int = 0,
                 frames: int = 16, spectral_norm: bool = False, batchnorm: bool = True, conditioning: str = "concat"):
        super().__init__()
        if conditioning == "acgan":
            raise ValueError("mocogan's discriminators condition by concat or projection, not acgan")
        self.hparams = dict(resolution=resolution, channels=channels, width=width, c_dim=c_dim, frames=frames,
                            spectral_norm=spectral_norm, batchnorm=batchnorm, conditioning=conditioning)
        self.c_dim, self.resolution, self.channels, self.frames = c_dim, resolution, channels, frames
        self.image_size = image_size(resolution)
        self.image = dcgan.Discriminator(resolution, channels, width, c_dim, spectral_norm, batchnorm, conditioning)
        self.video = VideoDiscriminator(resolution, channels, width, c_dim, frames, spectral_norm, batchnorm,
                                        conditioning)
        dcgan_init(self.video)
        for m in self.video.modules():  # after the init, as dcgan's D (see there)
            if isinstance(m, (nn.Conv3d, nn.Linear, nn.Embedding)):
                maybe_spectral_norm(m, spectral_norm)

    def forward(self, x: Tensor, c: Tensor | None = None, judge: str = "video") -> Tensor:
        return self.image(x, c) if judge == "image" else self.video(x, c)

"""Measuring clips (MoCoGAN's and FVD's measures, with networks that ship offline):

  fvd_3d       the Fréchet distance between real and generated clips in the features of the
               moving-fashion 3-D classifier (metrics/video_classifier.py; FVD's idea, whose
               I3D network cannot be downloaded here)
  fid_frames   the Fréchet distance between real and generated frames in the fashion-mnist-cnn
               features (metrics/classifiers.py), each frame's item cropped around its centre
               of brightness (the classifier knows centred items, not a canvas)
  consistency  the share of clips whose item keeps its class (by fashion-mnist-cnn) from the
               first frame to the last (MoCoGAN's content consistency)

Real clips measured against the reference alike give each measure's ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.video import SPRITE_SHARE
from ganforge.domains.evaluation import SampledEvaluation
from ganforge.metrics.fid import fid

BATCH = 250         # clips a batch
FASHION_SIDE = 28   # fashion-mnist-cnn's input
MARGIN = 1.15       # the crop's side over the item's: Fashion-MNIST items nearly fill their frame


@dataclass
class ClipMeasure:
    """What the scores are computed from, for one set of clips."""
    clip_features: Tensor    # (N, 64) the 3-D classifier's
    frame_features: Tensor   # (N * T, 128) fashion-mnist-cnn's of every frame's item
    first: Tensor            # (N,) the class of the first frame's item
    last: Tensor             # (N,) and of the last's


def item_crops(frames: Tensor, side: int = FASHION_SIDE) -> Tensor:
    """Frames (N, 1, H, W) in [-1, 1] -> the square around each one's centre of brightness, of
    the sprites' side (times MARGIN), resampled to side x side (N, 1, side, side)."""
    n, _, h, w = frames.shape
    weight = (frames + 1).clamp_min(0)[:, 0]                               # (N, H, W) 0..2, background 0
    total = weight.sum((1, 2)).clamp_min(1e-6)
    ys, xs = torch.linspace(-1, 1, h), torch.linspace(-1, 1, w)
    cy, cx = (weight.sum(2) * ys).sum(1) / total, (weight.sum(1) * xs).sum(1) / total  # (N,) in [-1, 1]
    scale = SPRITE_SHARE * MARGIN
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = scale * min(h, w) / w, scale * min(h, w) / h, cx, cy
    grid = F.affine_grid(theta, (n, 1, side, side), align_corners=False)
    return F.grid_sample(frames, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grey(clips: Tensor) -> Tensor:
    """Clips (N, C, T, H, W) uint8 or float -> float (N, 1, T, H, W) in [-1, 1]."""
    x = clips.float().mul(2 / 255).sub(1) if clips.dtype == torch.uint8 else clips.float()
    return x.mean(1, keepdim=True) if x.shape[1] == 3 else x


@torch.no_grad()
def measure(clips: Tensor, video_classifier: nn.Module, fashion: nn.Module) -> ClipMeasure:
    """Clips (N, C, T, H, W) -> their ClipMeasure, in batches."""
    parts = []
    for i in range(0, len(clips), BATCH):
        x = grey(clips[i:i + BATCH])                                     # (B, 1, T, H, W)
        frames = item_crops(x.transpose(1, 2).flatten(0, 1))             # (B * T, 1, 28, 28)
        f = fashion.features(frames)
        classes = fashion.logits_from_features(f).argmax(1).view(len(x), -1)  # (B, T)
        parts.append((video_classifier.features(x).cpu(), f.cpu(), classes[:, 0].cpu(), classes[:, -1].cpu()))
    return ClipMeasure(*(torch.cat(p) for p in zip(*parts)))


def scores(real: ClipMeasure, fake: ClipMeasure) -> dict[str, float]:
    return {"fvd_3d": fid(real.clip_features, fake.clip_features),
            "fid_frames": fid(real.frame_features, fake.frame_features),
            "consistency": float((fake.first == fake.last).float().mean())}


def load_extractors(device: str | torch.device = "cpu") -> tuple[nn.Module, nn.Module]:
    from ganforge.metrics.classifiers import load_classifier
    from ganforge.metrics.video_classifier import load_video_classifier
    return load_video_classifier(device=device), load_classifier("fashion-mnist", device=device)


@torch.no_grad()
def generated_clips(G: nn.Module, n: int, seed: int, labels: Tensor | None = None, frames: int | None = None) -> Tensor:
    """n clips of G in eval mode from content, motion and innovations seeded by `seed` (on the CPU)."""
    device = next(G.parameters()).device
    g = torch.Generator().manual_seed(seed)
    frames = frames or G.frames
    was_training = G.training
    G.eval()
    try:
        out = []
        for i in range(0, n, BATCH):
            b = min(BATCH, n - i)
            z, noise = torch.randn(b, G.z_dim, generator=g), torch.randn(b, frames, G.motion_dim, generator=g)
            c = None if labels is None else labels[i:i + b].to(device)
            out.append(G(z.to(device), c, frames=frames, noise=noise.to(device)).float().cpu())
        return torch.cat(out)
    finally:
        G.train(was_training)


class VideoEvaluation(SampledEvaluation):
    """fvd_3d, fid_frames and consistency of `n` generated clips (seeded; a conditional model's
    classes evenly) against the training clips, beside the training clips' own consistency."""

    def __init__(self, domain, every: int, n: int, seed: int):
        self.domain, self.every, self.n, self.seed = domain, every, n, seed
        self.video_classifier, self.fashion = load_extractors()
        self.real = measure(domain.data.x, self.video_classifier, self.fashion)
        self.reference = {"data/consistency": float((self.real.first == self.real.last).float().mean())}

    def _measure(self, G: nn.Module) -> dict[str, float]:
        from ganforge.metrics.features import generator_labels
        labels = generator_labels(self.n, G.c_dim, torch.Generator().manual_seed(self.seed + 4)) if G.c_dim else None
        clips = generated_clips(G, self.n, self.seed + 4, labels)
        return {**scores(self.real, measure(clips, self.video_classifier, self.fashion)), **self.reference}

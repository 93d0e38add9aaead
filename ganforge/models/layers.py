"""Blocks shared by several model families."""

from __future__ import annotations

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution, describe
from ganforge.resolution import size as image_size

MIN_BASE, MAX_BASE = 3, 7  # the shorter side of the first (G) / last (D) feature map


def plan(resolution: Resolution) -> tuple[int, int, int] | None:
    """(base height, base width, k) for images of `resolution` (a side or (h, w)) made by
    doubling a base map k >= 1 times, or None if no such plan exists. k is the most
    halvings that keep both sides integral and the shorter one >= MIN_BASE, and the shorter
    base must be <= MAX_BASE: 32 -> (4, 4, 3), 28 -> (7, 7, 2), 48x64 -> (3, 4, 4)."""
    try:
        h, w = image_size(resolution)
    except GanforgeError:
        return None
    k = 0
    while h % 2 == 0 and w % 2 == 0 and min(h, w) // 2 >= MIN_BASE:
        h, w, k = h // 2, w // 2, k + 1
    return (h, w, k) if k >= 1 and MIN_BASE <= min(h, w) <= MAX_BASE else None


def checked_plan(family: str, resolution: Resolution) -> tuple[int, int, int]:
    p = plan(resolution)
    if p is None:
        raise ValueError(f"{family} cannot make {describe(image_size(resolution))} images (expected {PLANS})")
    return p


PLANS = ("sides base * 2^k, k >= 1, with the shorter side's base 3 to 7: "
         "8, 12, 14, 16, 24, 28, 32, 48, 56, 64, 128, 256, 64x48, ...")


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap a Linear/Conv layer in spectral normalisation (Miyato et al. 2018) if enabled."""
    return nn.utils.parametrizations.spectral_norm(module) if enabled else module


def one_hot(c: torch.Tensor | None, c_dim: int, batch: int) -> torch.Tensor | None:
    """Class labels (B,) int64 -> (B, c_dim) float; None stays None for unconditional models."""
    if c_dim == 0:
        return None
    if c is None:
        raise ValueError(f"this model is conditional on {c_dim} classes: pass c, int64 of shape ({batch},)")
    return nn.functional.one_hot(c, c_dim).float()


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al. 2016): N(0, 0.02) weights, BatchNorm scale N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Conv3d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d | nn.BatchNorm3d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, ClassBatchNorm2d):  # its per-class scales as BatchNorm's
            nn.init.normal_(m.gain.weight, 1.0, 0.02)
            nn.init.zeros_(m.shift.weight)


CONDITIONING = ("concat", "projection", "acgan")
G_CONDITIONING = ("concat", "batchnorm")  # how a conditional dcgan/resnet G takes the label


class ClassBatchNorm2d(nn.Module):
    """Class-conditional batch norm (de Vries et al. 2017; Dumoulin et al. 2017), the
    generator's conditioning in Miyato & Koyama 2018 and BigGAN: the batch statistics are
    shared, the scale and shift after them are looked up by class, so every layer of G is
    told the class, not only its input."""

    def __init__(self, features: int, c_dim: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(features, affine=False)
        self.gain, self.shift = nn.Embedding(c_dim, features), nn.Embedding(c_dim, features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:  # x (B, F, H, W), c (B,) int64
        return self.bn(x) * self.gain(c)[:, :, None, None] + self.shift(c)[:, :, None, None]


def generator_norm(features: int, c_dim: int, g_conditioning: str) -> nn.Module:
    """G's normalisation layer: ClassBatchNorm2d when a conditional G takes labels by batch
    norm, else BatchNorm2d (the label is concatenated to z, or there is none)."""
    if g_conditioning not in G_CONDITIONING:
        raise ValueError(f"unknown generator conditioning '{g_conditioning}' (expected one of: "
                         f"{', '.join(G_CONDITIONING)})")
    return ClassBatchNorm2d(features, c_dim) if c_dim and g_conditioning == "batchnorm" else nn.BatchNorm2d(features)


def apply_layers(layers, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """Run layers (a Sequential, a list) in order; ClassBatchNorm2d layers also take the labels c."""
    for layer in layers:
        h = layer(h, c) if isinstance(layer, ClassBatchNorm2d) else layer(h)
    return h


class DiscriminatorHead(nn.Module):
    """D's features (B, F) -> real/fake logits (B,), and class logits (B, c_dim) for ACGAN.

    How a conditional D uses the label (G takes it concatenated to z, or in its batch norms:
    G_CONDITIONING):
      concat      the label enters at D's input (cGAN, Mirza & Osindero 2014): a plain head;
      projection  logit += <embed(c), features> (Miyato & Koyama 2018);
      acgan       D sees no label; an auxiliary head classifies (Odena et al. 2017).
    """

    def __init__(self, features: int, c_dim: int = 0, conditioning: str = "concat", spectral_norm: bool = False):
        super().__init__()
        sn = spectral_norm
        self.linear = maybe_spectral_norm(nn.Linear(features, 1), sn)
        projection, acgan = c_dim > 0 and conditioning == "projection", c_dim > 0 and conditioning == "acgan"
        self.embed = None
        if projection:  # small initial projections: N(0, 1) rows would swamp the logits
            embed = nn.Embedding(c_dim, features)
            nn.init.xavier_uniform_(embed.weight)
            self.embed = maybe_spectral_norm(embed, sn)
        self.classifier = maybe_spectral_norm(nn.Linear(features, c_dim), sn) if acgan else None

    def forward(self, h: torch.Tensor, c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self.linear(h).squeeze(1)                       # (B,)
        if self.embed is not None:
            if c is None:
                raise ValueError("this discriminator projects class labels: pass c, int64 of shape (B,)")
            logits = logits + (self.embed(c) * h).sum(1)
        return logits, (self.classifier(h) if self.classifier is not None else None)


def concat_label_planes(x: torch.Tensor, c: torch.Tensor | None, c_dim: int) -> torch.Tensor:
    """cGAN-style D input: images (B, C, H, W) + the one-hot label as c_dim constant planes
    (clips (B, C, L): as c_dim constant channels)."""
    planes = one_hot(c, c_dim, x.shape[0]).view(x.shape[0], c_dim, *[1] * (x.dim() - 2))
    return torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)  # (B, C + c_dim, H, W)


def input_label_dim(c_dim: int, conditioning: str) -> int:
    """Label planes/features D concatenates to its input: only cGAN-style conditioning has them."""
    return c_dim if conditioning == "concat" else 0


NORMS = ("batch", "instance", "none")  # the image-to-image families' normalisation layers


def norm2d(kind: str, channels: int) -> nn.Module:
    """BatchNorm2d, InstanceNorm2d(affine=False) as pytorch-CycleGAN-and-pix2pix, or Identity."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm '{kind}' (expected one of: {', '.join(NORMS)})")


def check_multiple(family: str, hw: tuple[int, int], multiple: int, what: str = "images") -> None:
    """One-line ValueError unless both sides of `hw` (h, w) are multiples of `multiple`."""
    if hw[0] % multiple or hw[1] % multiple:
        raise ValueError(f"{family} cannot translate {describe(hw)} {what}: "
                         f"both sides must be multiples of {multiple}")

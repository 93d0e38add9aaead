"""ResNet GAN in the SNGAN style (Miyato et al. 2018; blocks of Gulrajani et al. 2017).

G: z [+ one-hot label, or labels in every BN] -> linear -> (B, w', bh, bw) -> k up-blocks (BN, ReLU, nearest x2,
   conv3x3, BN, ReLU, conv3x3; 1x1-conv shortcut) -> BN, ReLU, conv3x3 -> tanh.
D: k down-blocks (the first without a leading ReLU) to bh x bw, one more block there, ReLU,
   global sum pooling -> features (B, ch) -> head (plain, projection or ACGAN).
   Spectral norm on every D layer when `spectral_norm` (the SNGAN setting, on in presets).
Sides base * 2^k with the shorter base 3 to 7 (layers.plan): 8, 16, 32, 64, 128, 256 from
the SNGAN 4x4 base; 28 (7x7), 48 (3x3), 64x48 (4x3) ... as well.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.models.layers import (
    DiscriminatorHead,
    apply_layers,
    concat_label_planes,
    input_label_dim,
    checked_plan,
    generator_norm,
    maybe_spectral_norm,
    one_hot,
)
from ganforge.resolution import size as image_size

MAX_CHANNELS = 512


def _init(module: nn.Module) -> None:
    """Xavier-uniform as in SNGAN: gain sqrt(2) on the 3x3 convolutions ReLUs follow, 1 elsewhere."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            residual = isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
            nn.init.xavier_uniform_(m.weight, 2 ** 0.5 if residual else 1.0)
            nn.init.zeros_(m.bias)


def _spectral_norm_all(module: nn.Module) -> None:
    # after the init: under the parametrisation `weight` is derived, so init it first
    for m in list(module.modules()):
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
            maybe_spectral_norm(m, True)


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, c_dim: int = 0, g_conditioning: str = "concat"):
        super().__init__()
        self.bn1, self.conv1 = generator_norm(cin, c_dim, g_conditioning), nn.Conv2d(cin, cout, 3, 1, 1)
        self.bn2, self.conv2 = generator_norm(cout, c_dim, g_conditioning), nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        # (B, cin, h, w) -> (B, cout, 2h, 2w); c (B,) reaches class-conditional norms only
        h = F.interpolate(F.relu(apply_layers([self.bn1], x, c)), scale_factor=2.0)
        h = self.conv2(F.relu(apply_layers([self.bn2], self.conv1(h), c)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0))


class DownBlock(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool, first: bool):
        super().__init__()
        self.down, self.first = down, first
        self.conv1, self.conv2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout or down else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, cin, h, w) -> (B, cout, h/2, w/2)
        # the first block sees images, not ReLU outputs: no leading activation
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        s = x
        if self.first:  # SNGAN's "optimized" block pools before its shortcut conv (cheaper)
            s = self.shortcut(F.avg_pool2d(s, 2))
            return F.avg_pool2d(h, 2) + s
        if self.shortcut is not None:
            s = self.shortcut(s)
        if self.down:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + s


class Generator(nn.Module):
    """`g_conditioning` (conditional G only): "concat" puts the one-hot label beside z at the
    input; "batchnorm" gives every BatchNorm a per-class scale and shift (ClassBatchNorm2d),
    SNGAN's conditional generator."""

    def __init__(self, z_dim: int = 128, resolution: int | list[int] = 32, channels: int = 3, width: int = 64,
                 c_dim: int = 0, g_conditioning: str = "concat"):
        super().__init__()
        self.hparams = dict(z_dim=z_dim, resolution=resolution, channels=channels, width=width, c_dim=c_dim)
        if g_conditioning != "concat":  # (absent from older exports, which all concatenate)
            self.hparams["g_conditioning"] = g_conditioning
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, c_dim, resolution, channels
        self.label_in = c_dim if g_conditioning == "concat" else 0  # one-hot entries beside z
        self.image_size = image_size(resolution)
        bh, bw, k = checked_plan("resnet", resolution)
        ch = [min(width * 2 ** (k - i), MAX_CHANNELS) for i in range(k + 1)]  # base map ... last block
        self.linear = nn.Linear(z_dim + self.label_in, ch[0] * bh * bw)
        self.blocks = nn.Sequential(*(UpBlock(a, b, c_dim, g_conditioning) for a, b in zip(ch[:-1], ch[1:])))
        self.out = nn.Sequential(generator_norm(ch[-1], c_dim, g_conditioning), nn.ReLU(),
                                 nn.Conv2d(ch[-1], channels, 3, 1, 1), nn.Tanh())
        self._base_shape = (ch[0], bh, bw)
        _init(self)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        onehot = one_hot(c, self.c_dim, z.shape[0])  # (checks c is given to a conditional G)
        h = self.linear(torch.cat([z, onehot], dim=1) if self.label_in else z)
        h = h.view(-1, *self._base_shape)                        # (B, w', bh, bw)
        for block in self.blocks:
            h = block(h, c)
        return apply_layers(self.out, h, c)                      # (B, C, H, W) in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, resolution: int | list[int] = 32, channels: int = 3, width: int = 64, c_dim: int = 0,
                 spectral_norm: bool = True, conditioning: str = "projection"):
        super().__init__()
        self.hparams = dict(resolution=resolution, channels=channels, width=width, c_dim=c_dim,
                            spectral_norm=spectral_norm, conditioning=conditioning)
        self.c_dim, self.resolution, self.channels = c_dim, resolution, channels
        self.label_planes = input_label_dim(c_dim, conditioning)
        self.image_size = image_size(resolution)
        k = checked_plan("resnet", resolution)[2]
        ch = [min(width * 2 ** i, MAX_CHANNELS) for i in range(k)]  # w ... after each halving
        cin = [channels + self.label_planes] + ch[:-1]
        blocks = [DownBlock(a, b, down=True, first=i == 0) for i, (a, b) in enumerate(zip(cin, ch))]
        blocks.append(DownBlock(ch[-1], ch[-1], down=False, first=False))  # one more at the base size
        self.blocks = nn.Sequential(*blocks)
        self.head = DiscriminatorHead(ch[-1], c_dim, conditioning)
        _init(self)
        if spectral_norm:
            _spectral_norm_all(self)

    def forward_with_classes(self, x: torch.Tensor, c: torch.Tensor | None = None):
        """(logits (B,), class logits (B, c_dim) for ACGAN else None)."""
        if self.label_planes:
            x = concat_label_planes(x, c, self.c_dim)
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))                # (B, ch) global sum pooling
        return self.head(h, c)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_with_classes(x, c)[0]  # (B,) logits

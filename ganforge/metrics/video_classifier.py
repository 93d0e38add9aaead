"""A small 3-D classifier of moving-sprite clips: the video domain's feature extractor
(`moving-fashion-3d`), in the role FVD gives the I3D network (Unterthiner et al. 2018), which
cannot be downloaded here.

It learns, from the real moving-fashion clips (one item, 32 px, 16 frames), both what moves
and how: its 80 classes are the item's class (10) times the direction it sets off in (8
compass sectors), so its features carry content and motion alike.

  clips (N, C, T, H, W) float in [-1, 1] or uint8, any size and length (grey; resampled to
  16 x 32 x 32, trilinear)
  -> 3 stages of 3x3x3 conv-BN-ReLU (16, 32, 64): the first halves the frames' sides, the
     others every axis
  -> global average: the features (64-d; the Fréchet distance) -> linear: 80 logits

`python -m ganforge.metrics.train_video_classifier` trains the shipped weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.metrics.classifiers import LUMA, WEIGHTS_DIR, read_metadata

NAME = "moving-fashion-3d"
FRAMES, SIDE = 16, 32
WIDTHS = (16, 32, 64)
CLASSES, DIRECTIONS = 10, 8


def to_classifier_input(clips: Tensor) -> Tensor:
    """Clips (N, C, T, H, W) -> float (N, 1, 16, 32, 32) in [-1, 1]."""
    x = clips.float().mul(2 / 255).sub(1) if clips.dtype == torch.uint8 else clips.float()
    if x.shape[1] == 3:
        x = sum(w * x[:, i:i + 1] for i, w in enumerate(LUMA))
    if tuple(x.shape[2:]) != (FRAMES, SIDE, SIDE):
        x = F.interpolate(x, size=(FRAMES, SIDE, SIDE), mode="trilinear", align_corners=False)
    return x


def direction_labels(paths: Tensor) -> Tensor:
    """The compass sector (0..7) each clip's first item sets off in, from its path (N, sprites, T, 2):
    over its first 3 steps (one step is 1-2 rounded pixels on 32 px: too coarse for a sector)."""
    step = (paths[:, 0, min(3, paths.shape[2] - 1)] - paths[:, 0, 0]).float()  # (N, 2): dy, dx
    angle = torch.atan2(step[:, 0], step[:, 1])                        # -pi..pi
    return ((angle + torch.pi) / (2 * torch.pi) * DIRECTIONS).long().clamp(0, DIRECTIONS - 1)


class VideoClassifier(nn.Module):
    def __init__(self, widths: tuple[int, ...] = WIDTHS, num_classes: int = CLASSES * DIRECTIONS):
        super().__init__()
        layers: list[nn.Module] = []
        previous = 1
        for i, w in enumerate(widths):
            stride = (1, 2, 2) if i == 0 else 2
            layers += [nn.Conv3d(previous, w, 3, stride, 1, bias=False), nn.BatchNorm3d(w), nn.ReLU(True)]
            previous = w
        self.net = nn.Sequential(*layers)
        self.head = nn.Linear(previous, num_classes)

    def features(self, clips: Tensor) -> Tensor:
        x = to_classifier_input(clips).to(self.head.weight.device)
        return self.net(x).mean(dim=(2, 3, 4))                         # (N, 64)

    def logits_from_features(self, f: Tensor) -> Tensor:
        return self.head(f)                                            # (N, 80): class * 8 + direction

    def forward(self, clips: Tensor) -> Tensor:
        return self.logits_from_features(self.features(clips))


def weights_path() -> Path:
    return WEIGHTS_DIR / f"{NAME}.safetensors"


def load_video_classifier(weights: str | Path | None = None, device: str | torch.device = "cpu") -> VideoClassifier:
    """The shipped classifier (eval mode, frozen); a one-line error when its weights are missing."""
    path = Path(weights) if weights is not None else weights_path()
    if not path.is_file():
        raise GanforgeError(f"{path}: no weights for the {NAME} classifier; train them with "
                            "python -m ganforge.metrics.train_video_classifier")
    model = VideoClassifier()
    try:
        model.load_state_dict(load_file(str(path)))
    except (SafetensorError, RuntimeError, OSError) as e:
        raise GanforgeError(f"{path}: not weights of the {NAME} classifier ({' '.join(str(e).split())[:120]})") from None
    model.metadata = read_metadata(path)
    return model.to(device).eval().requires_grad_(False)

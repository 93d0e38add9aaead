"""Small CNN domain classifiers for `digits` and `fashion-mnist`.

They give the offline metrics their features and labels: the penultimate layer
(`features(x)`) feeds FID / KID / precision-recall, the logits (`forward(x)`) feed the
Inception Score, class-mode counts and CAS.

Input convention (what ganforge's generators produce, and what datasets give):
- float tensors ``(N, C, H, W)`` with pixel values in ``[-1, 1]`` (a generator's tanh range);
- uint8 tensors ``(N, C, H, W)`` in ``0..255`` (a `Dataset.x`), mapped to ``[-1, 1]``;
- ``C`` is 1 or 3 (RGB is reduced to grey by ITU-R 601 luma, as the data loaders do);
- any ``H, W``: images are resized (bilinear, no antialiasing) to the classifier's native
  square size, 8 px for digits and 28 px for Fashion-MNIST. Training round-trips some
  batches through larger sizes the way `load_data(..., resolution=R)` does, so samples of
  a generator trained at 16 or 32 px are classified about as well as native images.

The weights are trained by ``python -m ganforge.metrics.train_classifier NAME`` and shipped
as ``ganforge/metrics/weights/NAME.safetensors``; their metadata holds the test accuracy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from torch import nn

from ganforge.errors import GanforgeError

WEIGHTS_DIR = Path(__file__).parent / "weights"
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as ganforge.data's RGB -> grey


@dataclass(frozen=True)
class ClassifierSpec:
    """The architecture and data of one domain classifier."""

    name: str                    # dataset name, also the weights file stem
    resolution: int              # native input size (square)
    widths: tuple[int, ...]      # channels per stage; 2x2 max-pool between stages
    convs_per_stage: int         # 3x3 conv + BN + ReLU layers in each stage
    space_to_depth: int = 1      # fold f x f pixel blocks into channels first (cheap stem)
    num_classes: int = 10
    dropout: float = 0.2         # before the linear head, training only


SPECS: dict[str, ClassifierSpec] = {
    "digits": ClassifierSpec("digits", resolution=8, widths=(32, 64, 128), convs_per_stage=1),
    # Space-to-depth first: a 28x28 stage made each epoch ~3x slower on 2 cores.
    "fashion-mnist": ClassifierSpec("fashion-mnist", resolution=28, widths=(32, 64, 128),
                                    convs_per_stage=2, space_to_depth=2),
}


def to_classifier_input(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Images as described in the module docstring -> float ``(N, 1, R, R)`` in [-1, 1]."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise GanforgeError(f"classifier input must be images (N, C, H, W) with C = 1 or 3, "
                            f"got shape {tuple(x.shape)}")
    x = x.float() / 127.5 - 1.0 if x.dtype == torch.uint8 else x.float()
    if x.shape[1] == 3:
        luma = torch.tensor(LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * luma).sum(1, keepdim=True)  # (N, 1, H, W)
    if tuple(x.shape[-2:]) != (resolution, resolution):
        # Plain bilinear (as pytorch-fid resizes): generators learn data that was upsampled
        # at load, and this undoes that far better than an antialiased shrink (on digits
        # seen at 32 px: 98% accuracy against 87%).
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return x  # (N, 1, R, R)


class DomainClassifier(nn.Module):
    """A VGG-style CNN: stages of 3x3 conv-BN-ReLU, max-pool between them, global average
    pooling (the features), dropout and a linear head (the logits)."""

    def __init__(self, spec: ClassifierSpec):
        super().__init__()
        self.spec = spec
        self.resolution, self.num_classes = spec.resolution, spec.num_classes
        self.feature_dim = spec.widths[-1]
        f = spec.space_to_depth
        layers: list[nn.Module] = [nn.PixelUnshuffle(f)] if f > 1 else []  # (N, f*f, R/f, R/f)
        in_ch = f * f
        for i, width in enumerate(spec.widths):
            if i > 0:
                layers.append(nn.MaxPool2d(2))
            for _ in range(spec.convs_per_stage):
                layers += [nn.Conv2d(in_ch, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                in_ch = width
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(spec.dropout)
        self.head = nn.Linear(in_ch, spec.num_classes)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Any supported image tensor -> ``(N, 1, R, R)`` float in [-1, 1] on this device."""
        device = self.head.weight.device
        return to_classifier_input(x.to(device), self.resolution)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features ``(N, feature_dim)`` (global-average-pooled)."""
        h = self.body(self.prepare(x))  # (N, W, r, r)
        return h.mean(dim=(2, 3))      # (N, W)

    def logits_from_features(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(f))  # (N, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, num_classes)``."""
        return self.logits_from_features(self.features(x))


def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.safetensors"


def _spec(name: str) -> ClassifierSpec:
    if name not in SPECS:
        raise GanforgeError(f"no domain classifier for {name!r} (expected one of: {', '.join(SPECS)})")
    return SPECS[name]


def build_classifier(name: str) -> DomainClassifier:
    """A freshly initialised (untrained) classifier for a dataset name."""
    return DomainClassifier(_spec(name))


def read_metadata(path: str | Path) -> dict:
    """The metadata of a classifier weights file, JSON values decoded."""
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
    except (OSError, SafetensorError, ValueError) as e:  # missing, or not safetensors
        raise GanforgeError(f"{path}: cannot read classifier weights ({' '.join(str(e).split())[:120]})") from None
    return {k: _decode(v) for k, v in raw.items()}


def _decode(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


def load_classifier(name: str, weights: str | Path | None = None,
                    device: str | torch.device = "cpu") -> DomainClassifier:
    """The trained classifier for ``name`` ("digits" or "fashion-mnist") in eval mode.

    ``weights`` defaults to the file shipped with ganforge. ``.metadata`` holds what the
    training script recorded (test accuracy, seed, epochs, sizes, version).
    """
    model = build_classifier(name)
    path = Path(weights) if weights is not None else weights_path(name)
    if not path.is_file():
        raise GanforgeError(f"{path}: classifier weights not found (train them with "
                            f"`python -m ganforge.metrics.train_classifier {name}`)")
    metadata = read_metadata(path)
    try:
        state = load_file(str(path))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (OSError, SafetensorError, RuntimeError) as e:
        raise GanforgeError(f"{path}: weights do not fit the {name} classifier "
                            f"({' '.join(str(e).split())[:160]})") from None
    model.metadata = metadata
    return model.to(device).eval().requires_grad_(False)

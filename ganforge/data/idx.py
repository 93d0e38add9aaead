"""MNIST-format IDX files (gzip or raw) and Fashion-MNIST from its Debian package."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
import torch

from ganforge.data.dataset import Dataset
from ganforge.errors import GanforgeError

# Where Debian's dataset-fashion-mnist puts its four gzip IDX files (flat, no sub-folders).
FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SPLIT_PREFIX = {"train": "train", "test": "t10k"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
CHUNK = 1 << 20
_EXPECTED = "expected MNIST IDX magic 0x00000803 (images) or 0x00000801 (labels)"


def _open(path: Path):
    """The file as a binary stream, gunzipped when it starts with the gzip signature."""
    f = open(path, "rb")
    # Sniff rather than trust the suffix: people gunzip files and keep the name.
    if f.read(2) == b"\x1f\x8b":
        f.seek(0)
        return gzip.GzipFile(fileobj=f, mode="rb")
    f.seek(0)
    return f


def _read(stream, count: int) -> bytes:
    """At most `count` bytes, in chunks: neither a lying header (read(2**64) allocates that much
    up front) nor a gzip bomb (inflated only as far as the header asks) costs more than the data."""
    chunks, left = [], count
    while left > 0 and (chunk := stream.read(min(left, CHUNK))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an unsigned-byte IDX file into a uint8 array of the shape its header gives."""
    path = Path(path)
    try:
        with _open(path) as f:
            raw = _read(f, 4)
            if len(raw) < 4 or raw[0:2] != b"\0\0" or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
                magic = int.from_bytes(raw[:4].ljust(4, b"\0"), "big")
                raise GanforgeError(f"{path}: corrupt or truncated IDX header "
                                    f"(magic 0x{magic:08x}; {_EXPECTED})")
            ndim = raw[3]
            header = _read(f, 4 * ndim)
            if len(header) < 4 * ndim:
                raise GanforgeError(f"{path}: truncated IDX header "
                                    f"({4 + len(header)} bytes, need {4 + 4 * ndim} for {ndim} dims)")
            dims = tuple(int(d) for d in np.frombuffer(header, ">u4"))
            expected = math.prod(dims)  # Python ints: numpy's int64 product wraps round for 4 huge dims
            data = _read(f, expected + 1)  # one byte more tells a longer file; bounded by the file itself
    except (OSError, EOFError, zlib.error) as e:
        raise GanforgeError(f"{path}: cannot read IDX file ({e})") from None
    if len(data) != expected:
        held = "more" if len(data) > expected else str(len(data))
        raise GanforgeError(f"{path}: size mismatch: header says {dims} = {expected} bytes of data, "
                            f"file holds {held} (truncated or corrupt)")
    return np.frombuffer(data, np.uint8).reshape(dims).copy()  # copy: writable


def _read_images(path: Path) -> torch.Tensor:
    array = read_idx(path)
    if array.ndim != 3:
        raise GanforgeError(f"{path}: not an IDX image file (dims {array.shape}; expected N, H, W "
                            f"with magic 0x{IMAGES_MAGIC:08x})")
    if 0 in array.shape:
        raise GanforgeError(f"{path}: holds no pixels (dims {array.shape}; expected N, H, W all above 0)")
    return torch.from_numpy(array).unsqueeze(1).contiguous()  # (N, 1, H, W)


def _read_labels(path: Path, count: int) -> torch.Tensor:
    array = read_idx(path)
    if array.ndim != 1 or len(array) != count:
        raise GanforgeError(f"{path}: expected an IDX label file (magic 0x{LABELS_MAGIC:08x}) "
                            f"with {count} labels, found dims {array.shape}")
    return torch.from_numpy(array.astype(np.int64))  # (N,)


def _find(root: Path, stem: str) -> Path | None:
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _prefix(split: str) -> str:
    if split not in SPLIT_PREFIX:
        raise GanforgeError(f"split {split!r} is not known (expected one of: {', '.join(SPLIT_PREFIX)})")
    return SPLIT_PREFIX[split]


def find_idx_images(root: str | Path, split: str = "train") -> Path | None:
    """The split's images file in ``root`` (``train-images-idx3-ubyte[.gz]``), if any."""
    return _find(Path(root), f"{_prefix(split)}-images-idx3-ubyte")


def load_idx_dir(path: str | Path, split: str = "train", name: str | None = None,
                 class_names: list[str] | None = None, hint: str = "") -> Dataset:
    """Load ``{train,t10k}-images-idx3-ubyte[.gz]`` and, when present, the matching labels."""
    root = Path(path)
    prefix = _prefix(split)
    images = _find(root, f"{prefix}-images-idx3-ubyte")
    if images is None:
        raise GanforgeError(f"{name or root}: no IDX files at {root} "
                            f"(expected {prefix}-images-idx3-ubyte[.gz]){hint}")
    x = _read_images(images)
    labels = _find(root, f"{prefix}-labels-idx1-ubyte")
    y = _read_labels(labels, len(x)) if labels else None
    return Dataset(name or str(root), "images", x, y, class_names if y is not None else None)


def load_idx_file(path: str | Path) -> Dataset:
    """Load one IDX images file, with its ``*-labels-idx1-ubyte[.gz]`` sibling when present."""
    path = Path(path)
    x = _read_images(path)
    stem = path.name.removesuffix(".gz").replace("images-idx3", "labels-idx1")
    labels = _find(path.parent, stem) if stem != path.name.removesuffix(".gz") else None
    y = _read_labels(labels, len(x)) if labels else None
    return Dataset(str(path), "images", x, y)


def load_fashion_mnist(split: str = "train", root: str | Path = FASHION_MNIST_ROOT) -> Dataset:
    """Fashion-MNIST (60000 train / 10000 test, 1x28x28) from Debian's package layout."""
    hint = "; install Debian's dataset-fashion-mnist or pass --data PATH"
    root = Path(root)
    if not root.is_dir():
        raise GanforgeError(f"fashion-mnist: no directory {root} (expected gzip IDX files such as "
                            f"train-images-idx3-ubyte.gz){hint}")
    return load_idx_dir(root, split, name="fashion-mnist", class_names=FASHION_CLASSES, hint=hint)

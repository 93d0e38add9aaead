"""One class of a labelled image dataset as a source of its own: ``fashion-mnist:sneaker``,
``digits:3``, ``photos/animals:cat`` (an image folder whose sub-folders are its classes)."""

from __future__ import annotations

import re
from pathlib import Path

from ganforge.data import DATASETS, Dataset, load_data
from ganforge.data.transforms import fit_images
from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def select_class(source: str) -> tuple[str, str | None]:
    """Split ``"dataset:class"`` into ``(dataset, class)``; a source without a class part, or a
    path that exists even though it has a colon in it, comes back as ``(source, None)``."""
    source = str(source)
    if ":" not in source or Path(source).expanduser().exists():
        return source, None
    name, _, spec = source.rpartition(":")
    if not name or not spec.strip():
        raise GanforgeError(f"{source!r}: expected DATASET:CLASS such as fashion-mnist:sneaker or "
                            "digits:3 (a class name or index after the colon)")
    return name, spec.strip()


def _key(name: str) -> str:
    """"Ankle boot", "ankle-boot", "ankle_boot" and "AnkleBoot" are one key: "ankleboot"."""
    return _NOT_ALNUM.sub("", name.lower())


def _listing(names: list[str]) -> str:
    return ", ".join(f"{i} {name}" for i, name in enumerate(names))


def match_class(data: Dataset, spec: str, source: str) -> int:
    """The class index ``spec`` names in ``data``: a class name (ignoring case, spaces, hyphens
    and underscores; "T-shirt/top" also answers to "t-shirt" and "top"), else an index."""
    if data.y is None:
        raise GanforgeError(f"{source}: {data.name} has no class labels to pick {spec!r} from (an image "
                            "folder has classes when its images sit in sub-folders, one per class)")
    names = data.class_names or [str(i) for i in range(data.num_classes)]
    key = _key(spec)
    whole = [i for i, n in enumerate(names) if _key(n) == key]
    parts = [i for i, n in enumerate(names) if key in {_key(p) for p in n.split("/")}]
    for hits in (whole, parts):
        if len(hits) == 1:
            return hits[0]
    if spec.isdigit() and int(spec) < len(names):
        return int(spec)
    raise GanforgeError(f"{source}: {data.name} has no class {spec!r} (expected a name or an index: "
                        f"{_listing(names)})")


def load_images(source: str, resolution: Resolution | None, channels: int | None = None,
                split: str = "train", cache_dir: str | Path | None = None) -> Dataset:
    """An image dataset through ganforge.data.load_data, or one class of it (``NAME:CLASS``),
    at ``resolution`` and ``channels`` (None keeps the data's own); labels are kept."""
    name, spec = select_class(source)
    # registered datasets have a native size: pick the class first, then resize only it
    native = spec is not None and name in DATASETS
    data = load_data(name, None if native else resolution, channels, split, cache_dir)
    if data.kind != "images":
        raise GanforgeError(f"{source}: {data.name} holds 2-D points, not images (expected an image "
                            "dataset such as digits or fashion-mnist, an image folder, or image .npy/IDX files)")
    if spec is None:
        return data
    index = match_class(data, spec, source)
    keep = data.y == index
    if not keep.any():
        raise GanforgeError(f"{source}: the {split} split of {data.name} has no images of class {index}")
    x = fit_images(data.x[keep], resolution, channels)  # (n, C, H, W) uint8
    return Dataset(source, "images", x, data.y[keep], data.class_names)

"""Unpaired image sets for CycleGAN: domain A and domain B, of any sizes, never aligned.

Each side is any image source ganforge.data.load_data loads, or one class of a labelled one
(``fashion-mnist:sneaker`` <-> ``fashion-mnist:ankle-boot``; see ganforge.data.classes).
Both are stored as uint8 at the same size and channel count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from torch import Tensor

from ganforge.data.classes import load_images, match_class, select_class
from ganforge.data.dataset import Dataset
from ganforge.data.paired import split_indices, stored_size
from ganforge.data.transforms import convert_channels
from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution, describe

__all__ = ["UnpairedDataset", "load_unpaired", "match_class", "select_class"]


def _subset(data: Dataset, index) -> Dataset:
    y = None if data.y is None else data.y[index]
    return Dataset(data.name, data.kind, data.x[index], y, data.class_names)


@dataclass(eq=False)  # eq=False: comparing tensors field by field is meaningless
class UnpairedDataset:
    """Two image sets: ``a`` (domain A) and ``b`` (domain B), uint8 (N_a / N_b, C, H, W)."""

    a: Dataset
    b: Dataset
    names: tuple[str, str]             # the two sources, as given

    kind: ClassVar[str] = "unpaired"
    num_classes: ClassVar[int] = 0     # CycleGAN translates without labels

    @property
    def name(self) -> str:
        return f"{self.names[0]} <-> {self.names[1]}"

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one B image, ``(C, H, W)``."""
        return self.b.shape

    @property
    def a_shape(self) -> tuple[int, ...]:
        return self.a.shape

    @property
    def x(self) -> Tensor:
        """Domain B's images (A -> B is the headline direction; what the images domain samples)."""
        return self.b.x

    def __len__(self) -> int:
        """The longer side: an epoch sees every image of both (the shorter one is reshuffled)."""
        return max(len(self.a), len(self.b))

    def split(self, holdout: int, seed: int = 0) -> tuple[UnpairedDataset, UnpairedDataset]:
        """(train, held): ``holdout`` images of each side held out at random (seeded)."""
        keep_a, held_a = split_indices(len(self.a), holdout, seed, f"{self.names[0]} (side A)")
        keep_b, held_b = split_indices(len(self.b), holdout, seed + 1, f"{self.names[1]} (side B)")
        return (UnpairedDataset(_subset(self.a, keep_a), _subset(self.b, keep_b), self.names),
                UnpairedDataset(_subset(self.a, held_a), _subset(self.b, held_b), self.names))


def load_unpaired(source_a: str, source_b: str, resolution: Resolution | None, channels: int | None = None,
                  split: str = "train", cache_dir: str | Path | None = None,
                  load_size: Resolution | None = None) -> UnpairedDataset:
    """Load the two domains, each a source for ganforge.data.load_data or ``NAME:CLASS``.

    Both are stored at ``load_size`` (default: the resolution) and converted to ``channels``
    (default: 3 when either side is in colour, else 1).
    """
    stored = stored_size(resolution, load_size)
    if channels not in (None, 1, 3):
        raise GanforgeError(f"channels must be 1 or 3, got {channels!r}")
    a, b = (load_images(s, stored, None, split, cache_dir) for s in (source_a, source_b))
    if a.x.shape[-2:] != b.x.shape[-2:]:
        raise GanforgeError(f"{source_a} is {describe(tuple(a.x.shape[-2:]))} but {source_b} is "
                            f"{describe(tuple(b.x.shape[-2:]))}: give a resolution to store both at")
    channels = channels or max(a.x.shape[1], b.x.shape[1])
    for data in (a, b):
        data.x = convert_channels(data.x, channels).contiguous()
    return UnpairedDataset(a, b, (str(source_a), str(source_b)))

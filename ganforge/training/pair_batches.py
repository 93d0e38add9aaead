"""Minibatches of pairs (pix2pix) and of two unaligned image sets (CycleGAN), on the device.

As in DatasetBatches, the images live on the device as uint8 and each batch is one gather
(no per-sample Python). Each sample is also cropped at random from its stored size
(load_size) to ``crop`` and flipped left-right at random (pix2pix's jitter); within a pair
the same crop and flip apply to both sides, so input and target stay aligned. Every random
number (order, offsets, flips) comes from the CPU generator, drawn for the global batch
before ``shard`` takes this process's slice: N processes together see what one would.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.resolution import describe
from ganforge.resolution import size as image_size
from ganforge.training.batches import _whole, to_model_range

Shard = Callable[[Tensor], Tensor]
# (top, left, flipped) per sample of a batch, each (B,) on the device or None when not drawn
Views = tuple[Tensor | None, Tensor | None, Tensor | None]


def _store(x: Tensor, device: torch.device, memory_format: torch.memory_format) -> Tensor:
    return x.to(device).contiguous(memory_format=memory_format)  # (N, C, H, W) uint8


class _Epochs:
    """Reshuffled epochs over ``n`` examples, the ragged end of each dropped."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, device: torch.device, what: str):
        if not 0 < batch_size <= n:
            raise GanforgeError(f"batch size {batch_size} does not fit {what} of {n} examples "
                                f"(expected 1 to {n})")
        self.n, self.batch_size, self.generator, self.device = n, batch_size, generator, device
        self.perm, self.pos = self._shuffle(), 0

    def _shuffle(self) -> Tensor:
        # the data generator lives on the CPU, so the order is the same on every device
        return torch.randperm(self.n, generator=self.generator).to(self.device)

    def take(self) -> Tensor:
        """The next global batch's example indices, (B,) on the device."""
        if self.pos + self.batch_size > self.n:
            self.perm, self.pos = self._shuffle(), 0
        idx = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx

    def state_dict(self) -> dict:
        return {"perm": self.perm.cpu(), "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.perm, self.pos = state["perm"].to(self.device), int(state["pos"])


class _Jitter:
    """Random crop offsets and flips for a batch, and the gather that applies them."""

    def __init__(self, stored: tuple[int, int], crop, flip: bool, generator: torch.Generator,
                 device: torch.device, memory_format: torch.memory_format):
        self.crop = stored if crop is None else image_size(crop)  # (h, w)
        if self.crop[0] > stored[0] or self.crop[1] > stored[1]:
            raise GanforgeError(f"crop {describe(self.crop)} is larger than the stored images "
                                f"{describe(stored)} (expected load_size >= resolution)")
        self.slack = (stored[0] - self.crop[0], stored[1] - self.crop[1])  # room to move the crop
        self.flip, self.generator, self.device, self.memory_format = flip, generator, device, memory_format

    def _randint(self, high: int, n: int) -> Tensor | None:
        return torch.randint(high, (n,), generator=self.generator).to(self.device) if high > 1 else None

    def draw(self, n: int) -> Views:
        top, left = self._randint(self.slack[0] + 1, n), self._randint(self.slack[1] + 1, n)
        flipped = self._randint(2, n) if self.flip else None
        return top, left, None if flipped is None else flipped.bool()

    def apply(self, x: Tensor, idx: Tensor, views: Views) -> Tensor:
        """uint8 (N, C, H, W) stored, (b,) indices -> float (b, C, h, w) in [-1, 1]."""
        top, left, flipped = views
        if top is None and left is None and flipped is None:
            return to_model_range(x[idx])  # indexing keeps channels_last (index_select would not)
        h, w = self.crop
        rows = torch.arange(h, device=self.device).expand(len(idx), h)   # (b, h)
        cols = torch.arange(w, device=self.device).expand(len(idx), w)   # (b, w)
        if flipped is not None:
            cols = torch.where(flipped[:, None], w - 1 - cols, cols)     # a mirrored crop
        rows = rows if top is None else rows + top[:, None]
        cols = cols if left is None else cols + left[:, None]
        # the slice between the index tensors puts C last: (b, h, w, C), i.e. channels_last
        out = x[idx[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
        return to_model_range(out.contiguous(memory_format=self.memory_format))


def _shard_views(views: Views, shard: Shard) -> Views:
    return tuple(None if v is None else shard(v) for v in views)


class PairedBatches:
    """(a, b, y) batches of a PairedDataset: inputs and targets in [-1, 1], labels or None."""

    def __init__(self, dataset, batch_size: int, device: torch.device, generator: torch.Generator,
                 memory_format: torch.memory_format = torch.contiguous_format, shard: Shard = _whole,
                 crop: tuple[int, int] | None = None, flip: bool = True):
        self.a = _store(dataset.a, device, memory_format)   # (N, Ca, H, W) uint8
        self.b = _store(dataset.b, device, memory_format)   # (N, Cb, H, W) uint8
        self.y = None if dataset.y is None else dataset.y.to(device)
        self.shard = shard
        self.epochs = _Epochs(len(dataset), batch_size, generator, device, f"the pairs {dataset.name}")
        # targets `scale` times the inputs' size (super-resolution): the crop is drawn on the
        # inputs and the targets' is that view times the scale, so the two stay aligned
        s = self.scale = getattr(dataset, "scale", 1)
        low = None if crop is None or s == 1 else (image_size(crop)[0] // s, image_size(crop)[1] // s)
        self.jitter = _Jitter(tuple(self.a.shape[-2:]), crop if s == 1 else low, flip, generator, device, memory_format)
        self.jitter_b = self.jitter if s == 1 else _Jitter(tuple(self.b.shape[-2:]), crop, flip, generator, device,
                                                           memory_format)

    def next(self) -> tuple[Tensor, Tensor, Tensor | None]:
        idx = self.epochs.take()
        views = self.jitter.draw(len(idx))  # one draw per pair: both sides get the same view
        idx, views = self.shard(idx), _shard_views(views, self.shard)
        views_b = views if self.scale == 1 else tuple(v if v is None or v.dtype == torch.bool else v * self.scale
                                                      for v in views)  # offsets scaled, flips kept
        a, b = self.jitter.apply(self.a, idx, views), self.jitter_b.apply(self.b, idx, views_b)
        return a, b, (None if self.y is None else self.y.index_select(0, idx))

    def state_dict(self) -> dict:
        return self.epochs.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.epochs.load_state_dict(state)


class UnpairedBatches:
    """(a, b) batches of an UnpairedDataset: each side shuffled, cropped and flipped on its own."""

    def __init__(self, dataset, batch_size: int, device: torch.device, generator: torch.Generator,
                 memory_format: torch.memory_format = torch.contiguous_format, shard: Shard = _whole,
                 crop: tuple[int, int] | None = None, flip: bool = True):
        self.x = [_store(side.x, device, memory_format) for side in (dataset.a, dataset.b)]  # (N_a / N_b, C, H, W)
        self.shard = shard
        self.epochs = [_Epochs(len(side), batch_size, generator, device, f"side {s} ({side.name})")
                       for s, side in zip("AB", (dataset.a, dataset.b))]
        self.jitter = [_Jitter(tuple(x.shape[-2:]), crop, flip, generator, device, memory_format) for x in self.x]

    def next(self) -> tuple[Tensor, Tensor]:
        out = []
        for x, epochs, jitter in zip(self.x, self.epochs, self.jitter):  # A's draws, then B's
            idx = epochs.take()
            views = jitter.draw(len(idx))
            out.append(jitter.apply(x, self.shard(idx), _shard_views(views, self.shard)))
        return out[0], out[1]

    def state_dict(self) -> dict:
        return {"a": self.epochs[0].state_dict(), "b": self.epochs[1].state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.epochs[0].load_state_dict(state["a"])
        self.epochs[1].load_state_dict(state["b"])

"""Minibatches for the trainer from any data source, on the training device.

Finite datasets are served in reshuffled epochs by one gather (no per-sample Python, no
copies through a DataLoader): on the CPU from where they are (an image folder's cache is
memory-mapped, so a batch reads only its own images and a folder larger than memory trains
in bounded memory), on an accelerator from a copy in its memory;
2-D toy distributions are sampled afresh each batch. Both draw randomness only from the
generator they are given, and expose their position as state for exact resume.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def to_model_range(x: Tensor) -> Tensor:
    """uint8 images [0, 255] -> float [-1, 1]; points pass through."""
    return x.float().mul_(2 / 255).sub_(1) if x.dtype == torch.uint8 else x


def _whole(batch: Tensor) -> Tensor:
    return batch


class DatasetBatches:
    """`shard` takes this process's slice of each global batch (under torchrun every rank
    shuffles alike and gathers only its own samples: an in-memory DistributedSampler)."""

    def __init__(self, dataset, batch_size: int, device: torch.device, generator: torch.Generator,
                 memory_format: torch.memory_format = torch.contiguous_format,
                 shard: Callable[[Tensor], Tensor] = _whole):
        # (N, ...) uint8 / float32. Copied to an accelerator in the models' memory format, so a batch
        # is a gather with no layout change; on the CPU left as it is (maybe a mapped file), each
        # batch laid out after its gather.
        x = dataset.x
        if device.type != "cpu":
            x = x.to(device)
            x = x.contiguous(memory_format=memory_format) if x.dim() == 4 else x
        self.x, self.memory_format = x, memory_format
        self.y = None if dataset.y is None else dataset.y.to(device)
        self.batch_size, self.generator, self.shard = batch_size, generator, shard
        # (x, idx, u) -> x: a random change of each real sample (music's --transpose), or None
        self.augment = getattr(dataset, "batch_augment", None)
        self.perm = self._shuffle()
        self.pos = 0

    def next(self) -> tuple[Tensor, Tensor | None]:
        if self.pos + self.batch_size > len(self.perm):  # drop the ragged end of an epoch
            self.perm = self._shuffle()
            self.pos = 0
        idx = self.shard(self.perm[self.pos:self.pos + self.batch_size])
        self.pos += self.batch_size
        x = self.x[idx]  # (B, ...); indexing keeps channels_last (index_select would not)
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)  # (a no-op unless the CPU's data differ)
        if self.augment is not None:  # u for the global batch, so N processes draw as one does
            x = self.augment(x, idx, self.shard(torch.rand(self.batch_size, generator=self.generator)))
        x = to_model_range(x)
        return x, (None if self.y is None else self.y.index_select(0, idx))

    def _shuffle(self) -> Tensor:
        # the data generator lives on the CPU, so the order is the same on every device
        return torch.randperm(len(self.x), generator=self.generator).to(self.x.device)

    def state_dict(self) -> dict:
        return {"perm": self.perm.cpu(), "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.perm, self.pos = state["perm"].to(self.x.device), int(state["pos"])


class DistributionBatches:
    def __init__(self, distribution, batch_size: int, device: torch.device, generator: torch.Generator,
                 shard: Callable[[Tensor], Tensor] = _whole):
        self.distribution, self.batch_size = distribution, batch_size
        self.device, self.generator, self.shard = device, generator, shard

    def next(self) -> tuple[Tensor, None]:
        # toys sample on the CPU generator's stream, so runs match across devices (and ranks)
        return self.shard(self.distribution.sample(self.batch_size, self.generator)).to(self.device), None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def make_batches(data, batch_size: int, device: torch.device, generator: torch.Generator,
                 memory_format: torch.memory_format = torch.contiguous_format,
                 shard: Callable[[Tensor], Tensor] = _whole):
    """Batches of `batch_size` (the global batch; `shard` takes this process's slice)."""
    if hasattr(data, "sample"):
        return DistributionBatches(data, batch_size, device, generator, shard)
    return DatasetBatches(data, batch_size, device, generator, memory_format, shard)

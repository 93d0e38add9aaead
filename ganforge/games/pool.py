"""CycleGAN's image history pool (Shrivastava et al. 2017): D sees a mix of the newest fakes
and older ones, so G cannot win by oscillating between modes D has forgotten.

Each image of a batch: while the pool is filling, it goes in and is returned; after, with
probability 1/2 a random pooled image is returned in its place (and it takes that slot),
else it is returned itself. Under torchrun the pool holds the global batch's images on every
rank (gathered), with draws from the shared noise generator: N processes see what one does.
"""

from __future__ import annotations

import torch
from torch import Tensor


class HistoryPool:
    def __init__(self, size: int, noise: torch.Generator, dist):
        self.size, self.noise, self.dist = size, noise, dist
        self.images: Tensor | None = None  # (size, C, H, W) once the first batch arrives
        self.count = 0                     # slots filled

    @torch.no_grad()
    def query(self, fake: Tensor) -> Tensor:
        """This rank's (B, C, H, W) fakes -> the same number to show D (detached)."""
        if self.size == 0:
            return fake.detach()
        batch = self._gather(fake.detach())                      # (world * B, C, H, W)
        n = len(batch)
        # drawn every step, whether used or not: the stream does not depend on the fill level
        coins = torch.rand(n, device=batch.device, generator=self.noise)
        slots = torch.randint(self.size, (n,), device=batch.device, generator=self.noise)
        if self.images is None:
            self.images = torch.empty((self.size, *batch.shape[1:]), dtype=batch.dtype, device=batch.device)
        coins, slots = coins.tolist(), slots.tolist()  # (one host transfer each, not one per image)
        out = batch.clone()
        for i in range(n):  # in order: an image may take a slot an earlier one of the batch filled
            if self.count < self.size:
                self.images[self.count] = batch[i]
                self.count += 1
            elif coins[i] > 0.5:
                j = slots[i]
                out[i] = self.images[j]
                self.images[j] = batch[i]
        return self.dist.shard(out).contiguous(memory_format=_format(fake))

    def _gather(self, x: Tensor) -> Tensor:
        if not self.dist.enabled:
            return x
        parts = self.dist.all_gather(x.cpu())
        return torch.cat(parts).to(x.device)

    def state_dict(self) -> dict:
        return {"images": None if self.images is None else self.images.cpu(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        images = state["images"]
        self.images = None if images is None else images.to(self.noise.device)
        self.count = int(state["count"])


def _format(x: Tensor) -> torch.memory_format:
    return torch.channels_last if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) \
        and not x.is_contiguous() else torch.contiguous_format

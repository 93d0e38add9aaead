"""Real samples held out from training, for calibrating D and starting MH chains.

Azadi et al. (DRS) and Turner et al. (MH-GAN) calibrate the discriminator on real data it
was not trained on. Where that exists it is used: fresh draws of a 2-D toy mixture (the
trainer sampled its batches afresh too, so these are new points), the test split of
Fashion-MNIST or of an MNIST-format folder. Other data (digits, an image folder, an array)
has no held-out part: the training data stands in, and the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.training.batches import to_model_range


@dataclass
class RealSet:
    x: torch.Tensor              # (N, ...) in the model's range ([-1, 1] images, points as they are)
    labels: torch.Tensor | None  # (N,) int64, or None
    note: str                    # where it came from, e.g. "fashion-mnist test split (held out)"


def _test_split(source: str) -> bool:
    from ganforge.data.idx import find_idx_images
    if source == "fashion-mnist":
        return True
    path = Path(source).expanduser()
    return path.is_dir() and find_idx_images(path, "test") is not None


def held_out(G: nn.Module, n: int, seed: int = 0) -> RealSet:
    """Up to n real samples of the data G learned (its `data_info`), held out where possible."""
    from ganforge.data import load_data
    from ganforge.data.toy2d import TOYS

    source = (getattr(G, "data_info", None) or {}).get("source")
    if not source:
        raise GanforgeError("DRS / MH sampling calibrate D on real data, and this model does not record "
                            "its training data")
    gen = torch.Generator().manual_seed(seed + 101)  # apart from the samples' own stream
    if source in TOYS:
        return RealSet(TOYS[source]().sample(n, gen), None, f"{n} fresh draws of {source} (held out)")
    split = "test" if _test_split(source) else "train"
    data = load_data(source, G.resolution or None, G.channels if G.resolution else None, split=split)
    take = torch.randperm(len(data.x), generator=gen)[:n]
    labels = data.y[take] if data.y is not None and getattr(G, "c_dim", 0) else None
    note = (f"{len(take)} images of {source}'s test split (held out)" if split == "test"
            else f"{len(take)} training images of {source} (it has no held-out split)")
    return RealSet(to_model_range(data.x[take]), labels, note)

"""Sampling from a trained generator: batched, seeded, as tensors, arrays or files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganforge import modeling
from ganforge.errors import GanforgeError
from ganforge.viz.grid import save_samples, to_uint8


class GeneratePipeline:
    """`pipe(n, seed=0)` -> n samples: points (n, D) or images (n, C, H, W) in [-1, 1]."""

    def __init__(self, generator: nn.Module, device: str | torch.device = "cpu"):
        self.G = generator.to(device).eval()
        self.device = torch.device(device)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu") -> GeneratePipeline:
        return cls(modeling.load(path), device)

    @property
    def is_points(self) -> bool:
        return self.G.resolution == 0

    @torch.no_grad()
    def __call__(self, n: int, *, seed: int = 0, batch_size: int = 256, classes: torch.Tensor | None = None,
                 output_type: str = "pt"):
        """n samples from z ~ N(0, I) drawn with `seed`; `classes` (n,) for conditional models
        (default: cycling through the classes). output_type "pt" (float tensor in [-1, 1]) or
        "np" (float32 (n, D) points / uint8 (n, H, W, C) images)."""
        if output_type not in ("pt", "np"):
            raise GanforgeError(f"output_type must be 'pt' or 'np', got {output_type!r}")
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.G.z_dim, generator=g)  # drawn on the CPU: same samples on any device
        if self.G.c_dim and classes is None:
            classes = torch.arange(n) % self.G.c_dim
        out = [self.G(z[i:i + batch_size].to(self.device),
                      None if classes is None else classes[i:i + batch_size].to(self.device)).float().cpu()
               for i in range(0, n, max(1, batch_size))]
        samples = torch.cat(out)
        return samples if output_type == "pt" else self.to_numpy(samples)

    def to_numpy(self, samples: torch.Tensor) -> np.ndarray:
        return samples.numpy().astype(np.float32) if self.is_points else to_uint8(samples)

    def save(self, samples: torch.Tensor, path: str | Path) -> Path:
        """.npy: the raw samples (see output_type "np"); .png: a grid or a scatter plot."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix.lower() == ".npy":
                np.save(path, self.to_numpy(samples))
                return path
            return save_samples(samples, path)
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror}") from None

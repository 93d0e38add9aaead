"""Images (uint8 (N, C, H, W) in memory, [-1, 1] in the models): sample grids, FID and the
other image metrics during training (--eval-every)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge.training.batches import to_model_range
from ganforge.viz.grid import save_samples


class ImagesDomain:
    kind = "images"
    images = True           # NCHW tensors: channels_last pays on CPU and CUDA
    picture_count = 64      # images in an unconditional sample grid
    probe_count = 64        # fixed-z samples the collapse alarm compares with real ones

    def __init__(self, data):
        self.data = data

    def real_sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n real images (n, C, H, W) in [-1, 1], a seeded random subset (of paired or
        unpaired data: the targets' side, their `x`)."""
        x = self.data.x
        return to_model_range(x[torch.randperm(len(x), generator=generator)[:n]])

    def scale(self) -> float:
        return 1.0

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """Write the grid; return what it shows (for TensorBoard)."""
        save_samples(samples, path, nrow=nrow)
        return samples

    def info(self) -> dict:
        return {}

    def evaluation(self, cfg, run_dir: Path | None = None):
        """The --eval-metrics of generated images every --eval-every steps (none when 0)."""
        t = cfg.train
        if t.eval_every <= 0:
            return None
        from ganforge.training.evaluation import ImageEvaluation  # (loads the metrics stack)
        return ImageEvaluation(run_dir, cfg.data.source, t.eval_metrics, t.eval_samples, t.seed, t.eval_every)

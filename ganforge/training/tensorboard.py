"""TensorBoard as a Stats sink: scalars each log interval, sample grids, histograms of D's outputs.

TensorBoard is an optional extra (`pip install tensorboard`); it is imported only when a
sink is made, so that ganforge works without it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.viz.grid import image_grid, scatter

INSTALL_HINT = "TensorBoard is not installed: pip install tensorboard"


def require_tensorboard() -> type:
    """torch's SummaryWriter class, or the one-line install hint as a GanforgeError. Call it
    while checking options, before a run directory is touched."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise GanforgeError(INSTALL_HINT) from None
    return SummaryWriter


class TensorBoardSink:
    """`TensorBoardSink(RUN_DIR / "tensorboard")` is a Stats sink (`sink(step, row)` writes
    the row's finite values as scalars), with `add_images` and `add_histogram` beside it.
    View with `tensorboard --logdir RUN_DIR/tensorboard`."""

    def __init__(self, log_dir: str | Path, flush_secs: int = 30):
        writer_class = require_tensorboard()
        self.log_dir = Path(log_dir)
        try:
            self.writer = writer_class(log_dir=str(self.log_dir), flush_secs=flush_secs)
        except OSError as e:
            raise GanforgeError(f"cannot write TensorBoard logs to {self.log_dir}: {e.strerror or e}") from None

    def __call__(self, step: int, row: dict[str, float]) -> None:
        for name, value in row.items():
            if value is not None and math.isfinite(value):  # no NaN in any file of a run
                self.writer.add_scalar(name, value, step)

    def add_images(self, step: int, tag: str, images: torch.Tensor, nrow: int | None = None) -> None:
        """(N, C, H, W) images in [-1, 1] as one grid picture; (N, 2) points as a scatter."""
        picture = scatter(images) if images.dim() == 2 else image_grid(images, nrow)
        arr = np.asarray(picture.convert("RGB"))  # (H, W, 3) uint8
        self.writer.add_image(tag, arr, step, dataformats="HWC")

    def add_histogram(self, step: int, tag: str, values: torch.Tensor) -> None:
        """The distribution of e.g. D's logits on real or generated samples (finite values only)."""
        v = values.detach().float().cpu().reshape(-1)
        v = v[torch.isfinite(v)]
        if len(v):
            self.writer.add_histogram(tag, v.numpy(), step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()

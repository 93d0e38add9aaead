"""scikit-learn's bundled 8x8 handwritten digits (1797 images, offline)."""

from __future__ import annotations

import numpy as np
import torch

from ganforge.data.dataset import Dataset


def load_digits() -> Dataset:
    """The UCI digits as uint8 images ``(1797, 1, 8, 8)`` in 0..255, labels 0..9."""
    from sklearn.datasets import load_digits as sk_load_digits  # sklearn is slow to import

    bunch = sk_load_digits()
    pixels = np.rint(bunch.images * (255 / 16)).astype(np.uint8)  # (N, 8, 8), 0..16 -> 0..255
    x = torch.from_numpy(pixels).unsqueeze(1).contiguous()        # (N, 1, 8, 8)
    y = torch.from_numpy(bunch.target.astype(np.int64))           # (N,)
    return Dataset("digits", "images", x, y, class_names=[str(i) for i in range(10)])

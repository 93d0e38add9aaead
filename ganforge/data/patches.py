"""Photos as training tiles for the repair game (``--pairs patches``) and for colourisation
(``--data photos --pairs gray``): images at their own size.

Photos are not fitted to one size (a hole must be filled at the scale the photo has): each is
cut into tiles 1.5x the training patch, flat ones left out, among which the trainer crops its
random patches (and draws a hole in each). Whole images are held out, never tiles of a
training photo, as for super-resolution (ganforge.data.superres): ``photos`` holds out
chelsea, rocket, camera and coins, a folder a seeded tenth of its images.

Colourisation keeps only the photos in colour (a grey photo would teach grey -> grey), so of
``photos`` it trains on astronaut, coffee, hubble_deep_field, immunohistochemistry and retina
and holds out chelsea and rocket: the same split as super-resolution's, less its grey photos.
The training photos weigh alike: each one's tiles are repeated up to about the count of the
one with the most (retina's 179 tiles would otherwise be half the set, hubble's a quarter,
and every output a fundus's orange); the held-out tiles are each there once.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from PIL import Image

from ganforge.data.superres import FLAT_STD, _images
from ganforge.errors import GanforgeError
from ganforge.resolution import describe

log = logging.getLogger("ganforge")


def cut(image: np.ndarray, tile: int) -> np.ndarray:
    """uint8 (H, W, C) -> its whole tiles (n, C, tile, tile), flat ones left out (unless all are);
    C is 1, 3, or 4 (RGB and its luminance, for gray)."""
    rows, cols = image.shape[0] // tile, image.shape[1] // tile
    x = image[:rows * tile, :cols * tile].reshape(rows, tile, cols, tile, -1).transpose(0, 2, 4, 1, 3)
    x = x.reshape(rows * cols, -1, tile, tile)
    busy = x[:, :3].reshape(len(x), -1).std(1) >= FLAT_STD  # by the colours (not gray's luminance beside them)
    return x[busy] if busy.any() else x


def load_patches(source: str, patch: tuple[int, int] | None, channels: int | None = None,
                 holdout: int = -1, seed: int = 0):
    """A PairedDataset whose inputs are its targets (the game makes the holes): tiles of the
    photos of `source` ("photos" or a folder), those of the held-out images marked ``held``."""
    from ganforge.data.paired import PairedDataset
    if patch is None:
        raise GanforgeError("pairs 'patches' needs a --resolution (the training patch), got none")
    tile = -(-max(patch) * 3 // 2)  # 1.5x the patch
    images, held = _images(source, channels or 3, holdout, seed)
    parts, marks = [], []
    for i, (name, image) in enumerate(images):
        if min(image.shape[:2]) < tile:
            log.warning("skipped %s: %dx%d is smaller than a training tile of %d px", name, image.shape[1],
                        image.shape[0], tile)
            continue
        parts.append(cut(image, tile))
        marks.append(np.full(len(parts[-1]), i >= len(images) - held))
    mark = np.concatenate(marks) if marks else np.zeros(0, bool)
    if not mark.any() or mark.all():
        raise GanforgeError(f"{source}: no {'held-out' if not mark.any() else 'training'} image is at least "
                            f"{tile} px on each side (1.5x the --resolution {describe(patch)}): lower the resolution")
    x = torch.from_numpy(np.concatenate(parts))
    return PairedDataset(source, x, x, recipe="patches", held=torch.from_numpy(mark))


def load_gray_patches(source: str, patch: tuple[int, int] | None, holdout: int = -1, seed: int = 0):
    """A PairedDataset for colourisation: ``b`` RGB tiles (n, 3, T, T) of the colour photos of
    `source` ("photos" or a folder), ``a`` their luminance (n, 1, T, T) as Pillow's RGB -> L
    makes it (ITU-R 601), the grey `ganforge translate` makes of a colour photo; tiles of the
    held-out images marked ``held``."""
    from ganforge.data.paired import PairedDataset
    if patch is None:
        raise GanforgeError("pairs 'gray' on photos needs a --resolution (the training patch), got none")
    tile = -(-max(patch) * 3 // 2)  # 1.5x the patch
    images, held = _images(source, 3, holdout, seed)
    colour = [(name, x, i >= len(images) - held) for i, (name, x) in enumerate(images) if not _grey(x)]
    parts, marks = [], []
    for name, image, is_held in colour:
        if min(image.shape[:2]) < tile:
            log.warning("skipped %s: %dx%d is smaller than a training tile of %d px", name, image.shape[1],
                        image.shape[0], tile)
            continue
        grey = np.asarray(Image.fromarray(image).convert("L"))[..., None]
        parts.append(cut(np.concatenate([image, grey], axis=2), tile))  # (n, 4, T, T): RGB + L, cut alike
        marks.append(np.full(len(parts[-1]), is_held))
    most = max((len(x) for x, m in zip(parts, marks) if not m.any()), default=1)
    repeats = [1 if m.any() else max(1, round(most / len(x))) for x, m in zip(parts, marks)]
    parts = [np.concatenate([x] * r) for x, r in zip(parts, repeats)]  # the training photos weigh alike
    marks = [np.concatenate([m] * r) for m, r in zip(marks, repeats)]
    mark = np.concatenate(marks) if marks else np.zeros(0, bool)
    if not mark.any() or mark.all():
        raise GanforgeError(f"{source}: pairs 'gray' needs colour photos of at least {tile} px a side (1.5x the "
                            f"--resolution {describe(patch)}) among both the training and the held-out images, and "
                            f"no {'held-out' if not mark.any() else 'training'} one is (grey photos have no colour "
                            "to learn)")
    x = torch.from_numpy(np.concatenate(parts))
    return PairedDataset(source, x[:, 3:].contiguous(), x[:, :3].contiguous(), recipe="gray",
                         held=torch.from_numpy(mark))


def _grey(image: np.ndarray) -> bool:
    """uint8 (H, W, 3): True when its three channels are equal (a grey photo stored as RGB)."""
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())

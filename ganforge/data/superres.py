"""Super-resolution pairs (the ``sr:N`` recipe): random patches of photos at their own size,
each with its input made N times smaller by antialiased bicubic downscaling.

Unlike the other recipes the images are not fitted to one size: each photo is cropped to a
multiple of N, downscaled whole (Pillow's BICUBIC, which widens its kernel by the factor
when reducing: antialiased, as MATLAB's imresize that the SR papers use), and both the photo
and its small version are cut into aligned tiles, 1.5x the training patch, among which the
game crops its random patches. Whole photos are held out, never tiles of a training photo:
``photos`` (scikit-image's bundled sample photos) holds out HELD_OUT, a folder a seeded
tenth of its images.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ganforge.data.folder import DECODE_ERRORS, _to_mode, list_files
from ganforge.errors import GanforgeError
from ganforge.resolution import describe

log = logging.getLogger("ganforge")

SCALES = (2, 3, 4)
# scikit-image's sample photos (in its wheel: nothing is downloaded). Grey ones become RGB
# by repetition. The held-out four are never cut into training tiles; `cat` is chelsea again.
TRAIN_PHOTOS = ("astronaut", "coffee", "hubble_deep_field", "immunohistochemistry", "retina", "moon", "brick",
                "grass", "gravel", "page", "text")
HELD_OUT = ("chelsea", "rocket", "camera", "coins")
IMAGE_SUFFIXES = frozenset(Image.registered_extensions())
FLAT_STD = 2.0       # tiles whose pixels vary less (0..255) are flat background: nothing to learn


def bicubic_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W, C) -> uint8 (h, w, C) by Pillow's BICUBIC (antialiased when reducing)."""
    im = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    out = np.asarray(im.resize((size[1], size[0]), Image.Resampling.BICUBIC))
    return out.reshape(size[0], size[1], image.shape[-1])


def downscale(image: np.ndarray, scale: int) -> np.ndarray:
    """The low-resolution input of a photo uint8 (H, W, C), cropped to multiples of `scale`."""
    h, w = image.shape[0] // scale, image.shape[1] // scale
    return bicubic_resize(image[:h * scale, :w * scale], (h, w))


def photo(name: str, channels: int = 3) -> np.ndarray:
    """One of scikit-image's bundled photos as uint8 (H, W, channels)."""
    try:
        import skimage.data
    except ImportError:
        raise GanforgeError("--data photos needs scikit-image (its bundled sample photos): "
                            "pip install 'ganforge[superres]' (or pip install scikit-image)") from None
    array = np.asarray(getattr(skimage.data, name)())
    return np.asarray(_to_mode(Image.fromarray(array), channels)).reshape(*array.shape[:2], channels)


def read_image(path: Path, channels: int) -> np.ndarray | None:
    """An image file as uint8 (H, W, channels), or None (with a warning) when it does not decode."""
    try:
        with Image.open(path) as im:
            im.load()
            array = np.asarray(_to_mode(ImageOps.exif_transpose(im), channels), dtype=np.uint8)
    except DECODE_ERRORS as e:
        log.warning("skipped %s: not a decodable image (%s)", path, " ".join(f"{type(e).__name__}: {e}".split()))
        return None
    return array.reshape(*array.shape[:2], channels)


def tiles(image: np.ndarray, scale: int, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """Aligned (low, high) tiles of one photo: uint8 (n, C, tile/s, tile/s), (n, C, tile, tile),
    flat ones left out (unless all are)."""
    small, t = downscale(image, scale), tile // scale
    rows, cols = small.shape[0] // t, small.shape[1] // t
    lo = small[:rows * t, :cols * t].reshape(rows, t, cols, t, -1).transpose(0, 2, 4, 1, 3).reshape(rows * cols, -1, t, t)
    hi = image[:rows * tile, :cols * tile].reshape(rows, tile, cols, tile, -1).transpose(0, 2, 4, 1, 3)
    hi = hi.reshape(rows * cols, -1, tile, tile)
    busy = hi.reshape(len(hi), -1).std(1) >= FLAT_STD
    return (lo[busy], hi[busy]) if busy.any() else (lo, hi)


def _images(source: str, channels: int, holdout: int, seed: int) -> tuple[list[tuple[str, np.ndarray]], int]:
    """(name, image) of every photo, the held-out ones last, and how many are held out."""
    if source == "photos":
        names = TRAIN_PHOTOS + HELD_OUT
        return [(n, photo(n, channels)) for n in names], len(HELD_OUT)
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise GanforgeError(f"{source}: pairs 'sr:N' takes 'photos' (scikit-image's sample photos) or a folder "
                            "of images, and this is neither")
    found = [(f.relative_to(folder).as_posix(), read_image(f, channels)) for f in list_files(folder)
             if f.suffix.lower() in IMAGE_SUFFIXES]
    found = [(n, x) for n, x in found if x is not None]
    if len(found) < 2:
        raise GanforgeError(f"{folder}: pairs 'sr:N' needs at least 2 decodable images (whole images are held "
                            f"out for samples and metrics), found {len(found)}")
    held = max(1, min(len(found) - 1, len(found) // 10)) if holdout < 0 else holdout
    if not 0 < held < len(found):
        raise GanforgeError(f"--holdout {holdout}: hold out 1 to {len(found) - 1} of the {len(found)} images in {folder}")
    order = torch.randperm(len(found), generator=torch.Generator().manual_seed(seed)).tolist()
    return [found[i] for i in sorted(order[held:])] + [found[i] for i in sorted(order[:held])], held


def load_sr_pairs(source: str, scale: int, patch: tuple[int, int], channels: int | None = None,
                  holdout: int = -1, seed: int = 0):
    """A PairedDataset of aligned tiles (``a`` the small inputs, ``b`` the photos), scale
    `scale`, tiles of the held-out images marked ``held``; `patch` (h, w) is the training crop."""
    from ganforge.data.paired import PairedDataset
    if scale not in SCALES:
        raise GanforgeError(f"pairs 'sr:{scale}': the factor must be one of {', '.join(map(str, SCALES))}")
    if patch is None or patch[0] % scale or patch[1] % scale:
        raise GanforgeError(f"pairs 'sr:{scale}' needs a --resolution (the training patch) that is a multiple of "
                            f"{scale}, got {describe(patch) if patch else 'none'}")
    tile = -(-max(patch) * 3 // 2 // scale) * scale  # 1.5x the patch, a multiple of the scale
    images, held = _images(source, channels or 3, holdout, seed)
    lows, highs, marks = [], [], []
    for i, (name, image) in enumerate(images):
        if min(image.shape[:2]) < tile:
            log.warning("skipped %s: %dx%d is smaller than a training tile of %d px", name, image.shape[1],
                        image.shape[0], tile)
            continue
        lo, hi = tiles(image, scale, tile)
        lows.append(lo)
        highs.append(hi)
        marks.append(np.full(len(hi), i >= len(images) - held))
    mark = np.concatenate(marks) if marks else np.zeros(0, bool)
    if not mark.any() or mark.all():
        raise GanforgeError(f"{source}: no {'held-out' if not mark.any() else 'training'} image is at least "
                            f"{tile} px on each side (1.5x the --resolution): lower the resolution")
    return PairedDataset(source, torch.from_numpy(np.concatenate(lows)), torch.from_numpy(np.concatenate(highs)),
                         recipe=f"sr:{scale}", scale=scale, held=torch.from_numpy(mark))

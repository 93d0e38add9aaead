"""A folder of images of any size and mode, decoded once into square uint8 tensors
(and, given a ``cache_dir``, cached there so that later loads skip decoding)."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from PIL import Image, ImageOps
from tqdm import tqdm

from ganforge.data import cache
from ganforge.data.dataset import Dataset
from ganforge.data.transforms import cover
from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution
from ganforge.resolution import size as image_size

log = logging.getLogger("ganforge")

PROGRESS_MIN_FILES = 200  # below this, decoding is quick enough to need no progress bar
DECODE_CHUNK = 256        # images decoded at a time: what decoding a folder holds in memory
# What Pillow raises on files it cannot decode: unknown formats, truncation, bad chunks, bombs.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)
BACKGROUND = 255  # transparent pixels are composited onto white, as viewers show them
# Scaling to cover the size may enlarge an image at most this much in area: a 1 x 60,000 strip
# would otherwise become 64 x 3.8M pixels (730 MB) from a file of a few hundred bytes.
MAX_COVER_AREA = 256
# (opened image, (h, w), channels) -> uint8 (H', W', channels): fit_image, or another layout's
# reader (side-by-side pairs); ValueError for an image it cannot use, reported as undecodable.
Fit = Callable[[Image.Image, tuple[int, int], int], np.ndarray]


def _list_files(root: Path) -> list[Path]:
    # Hidden files and folders (.DS_Store, ._AppleDouble, .git) are never images worth a warning.
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files += [Path(dirpath, f) for f in sorted(filenames) if not f.startswith(".")]
    return files


def _flatten_alpha(im: Image.Image) -> Image.Image:
    """Composite an image with transparency onto the background, as RGB."""
    rgba = im.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (BACKGROUND,) * 3 + (255,))
    return Image.alpha_composite(canvas, rgba).convert("RGB")


def _grey8(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")


def _to_mode(im: Image.Image, channels: int) -> Image.Image:
    """Convert any Pillow mode to ``L`` (channels=1) or ``RGB`` (channels=3)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale (PNG opens as I;16 or I): map 0..65535 onto 0..255.
        im = _grey8(np.asarray(im, dtype=np.float64) / 257)
    elif im.mode == "F":
        values = np.nan_to_num(np.asarray(im, dtype=np.float64))
        im = _grey8(values * 255 if values.size and values.max() <= 1 else values)  # [0,1] or 0..255
    elif im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        im = _flatten_alpha(im)
    return im.convert("L" if channels == 1 else "RGB")  # CMYK, YCbCr, P, 1, ... handled here


def _fit(im: Image.Image, out_h: int, out_w: int) -> Image.Image:
    """Resize to just cover out_h x out_w keeping the aspect ratio (Lanczos), then centre-crop."""
    h, w = cover(im.height, im.width, out_h, out_w)
    if h * w > MAX_COVER_AREA * max(out_h * out_w, im.height * im.width):
        raise ValueError(f"its aspect ratio {im.width}x{im.height} is too far from {out_w}x{out_h}'s "
                         f"to scale it to cover that size")
    if (w, h) != im.size:
        im = im.resize((w, h), Image.Resampling.LANCZOS)
    left, top = (w - out_w) // 2, (h - out_h) // 2
    return im.crop((left, top, left + out_w, top + out_h))


def fit_image(im: Image.Image, resolution: Resolution, channels: int) -> np.ndarray:
    """Any Pillow image -> uint8 (H, W, channels) for a resolution (a side or (h, w)): EXIF
    rotation applied, mode converted (see _to_mode), resized to cover, centre cropped."""
    out_h, out_w = image_size(resolution)
    im = ImageOps.exif_transpose(im)  # phone photos store their rotation in EXIF
    array = np.asarray(_fit(_to_mode(im, channels), out_h, out_w), dtype=np.uint8)
    return array.reshape(out_h, out_w, channels)


def _decode(path: Path, resolution: tuple[int, int], channels: int, fit: Fit = fit_image) -> np.ndarray | str:
    """One image as uint8 (H, W, C), or the one-line reason it could not be decoded."""
    try:
        with Image.open(path) as im:
            if im.width * im.height > Image.MAX_IMAGE_PIXELS:  # Pillow only warns up to twice its limit
                raise Image.DecompressionBombError(f"{im.width}x{im.height} pixels is over Pillow's limit of "
                                                   f"{Image.MAX_IMAGE_PIXELS} pixels (a decompression bomb?)")
            im.load()  # decode now, so that truncation raises here rather than later
            return fit(im, resolution, channels)
    except DECODE_ERRORS as e:
        return " ".join(f"{type(e).__name__}: {e}".split())  # one line, whatever Pillow says


def read_image(path: str | Path, resolution: Resolution, channels: int) -> np.ndarray:
    """One image file as uint8 (H, W, channels) at a resolution (a side or (h, w)); a GanforgeError naming
    the file when it is missing or cannot be decoded."""
    path = Path(path)
    if not path.is_file():
        raise GanforgeError(f"{path}: no such image file")
    result = _decode(path, resolution, channels)
    if isinstance(result, str):
        raise GanforgeError(f"{path}: not a decodable image ({result})")
    return result


def _labels(rel_paths: list[Path]) -> tuple[torch.Tensor | None, list[str] | None]:
    """Class labels from first-level sub-folder names, when every image sits in one."""
    if any(len(p.parts) < 2 for p in rel_paths):
        return None, None
    names = sorted({p.parts[0] for p in rel_paths})
    if len(names) < 2:
        return None, None  # a single sub-folder is just where the images live, not a class
    index = {name: i for i, name in enumerate(names)}
    return torch.tensor([index[p.parts[0]] for p in rel_paths], dtype=torch.int64), names


def _decoded(files: list[Path], resolution: tuple[int, int], channels: int, root: Path,
             fit: Fit = fit_image) -> Iterator[cache.Row]:
    """(relative path, pixels or reason) per file, in order. Decoded a chunk at a time on
    threads (Pillow releases the GIL while decoding and resizing, so threads use every core),
    so that a caller streaming the rows to disk holds one chunk, not the folder."""
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool, \
            tqdm(total=len(files), desc=f"decoding {root.name or root}", unit="img",
                 disable=len(files) <= PROGRESS_MIN_FILES) as bar:
        for start in range(0, len(files), DECODE_CHUNK):
            chunk = files[start:start + DECODE_CHUNK]
            for file, result in zip(chunk, pool.map(lambda p: _decode(p, resolution, channels, fit), chunk)):
                bar.update()
                yield file.relative_to(root).as_posix(), result


def _decode_folder(root: Path, files: list[Path], resolution: tuple[int, int], channels: int,
                   fit: Fit = fit_image) -> cache.Decoded:
    """Decode into memory."""
    arrays, kept, skipped = [], [], []
    for rel, result in _decoded(files, resolution, channels, root, fit):
        if isinstance(result, str):
            skipped.append([rel, result])
        else:
            arrays.append(result)
            kept.append(rel)
    x = np.stack(arrays) if arrays else np.zeros((0, *resolution, channels), dtype=np.uint8)  # (N, H, W, C)
    return cache.Decoded(x.transpose(0, 3, 1, 2), kept, skipped)  # (N, C, H, W) view, as the cache's


def _decode_cached(root: Path, files: list[Path], resolution: tuple[int, int], channels: int,
                   cache_dir: Path | None, fit: Fit = fit_image) -> cache.Decoded:
    """Read the decode cached in cache_dir while the folder is unchanged; else decode the
    folder straight into the cache and map it (in memory when there is no cache_dir, or
    it cannot be written)."""
    if cache_dir is None:
        return _decode_folder(root, files, resolution, channels, fit)
    try:
        fp = cache.fingerprint(root, files, resolution, channels)
    except OSError:  # a file vanished while listing: decode, and cache nothing
        return _decode_folder(root, files, resolution, channels, fit)
    if (decoded := cache.read(cache_dir, root, resolution, channels, fp)) is not None:
        return decoded
    written = cache.write(cache_dir, root, resolution, channels, fp, _decoded(files, resolution, channels, root, fit))
    if written is not None and not written[0]:  # no decodable image: nothing was cached
        return cache.Decoded(np.zeros((0, channels, *resolution), dtype=np.uint8), [], written[1])
    decoded = None if written is None else cache.read(cache_dir, root, resolution, channels, fp)
    return decoded if decoded is not None else _decode_folder(root, files, resolution, channels, fit)


def list_files(root: str | Path) -> list[Path]:
    """Every file under ``root`` (recursively, sorted), hidden files and folders left out."""
    return _list_files(Path(root))


def decode_files(root: str | Path, files: list[Path], resolution: Resolution, channels: int,
                 cache_dir: str | Path | None = None, fit: Fit = fit_image) -> cache.Decoded:
    """Decode ``files`` (under ``root``) with ``fit`` on threads, cached in ``cache_dir`` as
    load_image_folder caches (give a different ``fit`` its own cache_dir). Undecodable files
    come back in ``.skipped`` with their reasons, for the caller to report."""
    root = Path(root)
    return _decode_cached(root, files, image_size(resolution), channels,
                          None if cache_dir is None else Path(cache_dir), fit)


def load_image_folder(path: str | Path, resolution: Resolution | None, channels: int = 3,
                      cache_dir: str | Path | None = None) -> Dataset:
    """Decode every image under ``path`` (recursively) to uint8 ``(N, channels, H, W)`` at a
    resolution (a side, "WxH" or (h, w)): resized to cover it, centre-cropped.

    Undecodable files are skipped with one warning each on the ``ganforge`` logger. When all
    images sit in sub-folders (``root/<class>/*.png``), the sorted folder names are the classes.
    With ``cache_dir``, the decoded images are kept there (see ganforge.data.cache) and later
    loads of the unchanged folder read them back without decoding any image.
    """
    root = Path(path)
    if resolution is None:
        raise GanforgeError(f"image folder {root}: a resolution is required because its images "
                            "can have any size (e.g. --resolution 64, or 64x48 for width x height)")
    resolution = image_size(resolution)  # (h, w) from here on, also in the cache key
    if channels not in (1, 3):
        raise GanforgeError(f"image folder {root}: channels must be 1 or 3, got {channels}")
    files = _list_files(root)
    decoded = _decode_cached(root, files, resolution, channels, None if cache_dir is None else Path(cache_dir))
    for rel, reason in decoded.skipped:
        log.warning("skipped %s: not a decodable image (%s)", root / rel, reason)
    if not decoded.kept:
        raise GanforgeError(f"image folder {root}: no decodable images among {len(files)} files "
                            "(expected PNG, JPEG, BMP, GIF, TIFF or WebP files)")
    x = torch.from_numpy(decoded.x)  # (N, C, H, W), channels-last strides; memory-mapped when cached
    y, class_names = _labels([Path(p) for p in decoded.kept])
    return Dataset(str(root), "images", x, y, class_names)

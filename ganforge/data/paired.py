"""Paired images for pix2pix: an input ``a`` and its target ``b`` per example.

Three sources (see ``load_paired``): a folder with ``A/`` and ``B/`` sub-folders whose files
pair by name, a folder of side-by-side ``A|B`` images (the pix2pix datasets' format, e.g.
facades), or a recipe (ganforge.data.recipes) that makes inputs from any image dataset.
Both sides are stored as uint8 at ``load_size``; the trainer crops them to the resolution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from ganforge.data import DATASETS
from ganforge.data.classes import load_images
from ganforge.data.dataset import count_classes
from ganforge.data.folder import DECODE_ERRORS, decode_files, fit_image, list_files
from ganforge.data.recipes import is_grey, make_inputs, parse_recipe, recipe_syntax
from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution, describe
from ganforge.resolution import size as image_size

log = logging.getLogger("ganforge")

SPLITS = ("train", "test", "val")  # pytorch-CycleGAN-and-pix2pix's split folders
IMAGE_SUFFIXES = frozenset(Image.registered_extensions())  # ".png", ".jpg", ... as Pillow knows them


@dataclass(eq=False)  # eq=False: comparing tensors field by field is meaningless
class PairedDataset:
    """Aligned pairs in memory: ``a[i]`` is the input whose target is ``b[i]``."""

    name: str                              # the source it came from
    a: Tensor                              # (N, Ca, H, W) uint8 inputs
    b: Tensor                              # (N, Cb, H, W) uint8 targets
    y: Tensor | None = None                # (N,) int64 class labels of the underlying data
    class_names: list[str] | None = None
    recipe: str | None = None              # the recipe that made the inputs ("edges", ...), None for files
    scale: int = 1                         # targets are this many times the inputs' height and width (sr:N)
    held: Tensor | None = None             # (N,) bool: pairs fixed as held out by their source (sr:N's photos)

    kind: ClassVar[str] = "pairs"

    def __post_init__(self):
        h, w = self.a.shape[-2:]
        if self.a.shape[0] != self.b.shape[0] or self.b.shape[-2:] != (h * self.scale, w * self.scale):
            size = "height x width" if self.scale == 1 else f"height x width times {self.scale}"
            raise GanforgeError(f"{self.name}: inputs {tuple(self.a.shape)} and targets {tuple(self.b.shape)} "
                                f"must have the same count and {size}")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one target, ``(Cb, H, W)``."""
        return tuple(self.b.shape[1:])

    @property
    def a_shape(self) -> tuple[int, ...]:
        """Shape of one input, ``(Ca, H, W)``."""
        return tuple(self.a.shape[1:])

    @property
    def x(self) -> Tensor:
        """The targets: the images a translator makes (what the images domain samples)."""
        return self.b

    @property
    def num_classes(self) -> int:
        """Number of classes; 0 for unlabelled pairs."""
        return count_classes(self.y, self.class_names)

    def __len__(self) -> int:
        return self.b.shape[0]

    def subset(self, index: Tensor) -> PairedDataset:
        y = None if self.y is None else self.y[index]
        held = None if self.held is None else self.held[index]
        return PairedDataset(self.name, self.a[index], self.b[index], y, self.class_names, self.recipe, self.scale, held)

    def split(self, holdout: int, seed: int = 0) -> tuple[PairedDataset, PairedDataset]:
        """(train, held): ``holdout`` pairs drawn at random (seeded) are held out, in order; where
        the source fixed the held-out pairs (``held``), those."""
        if self.held is not None:
            return self.subset(torch.nonzero(~self.held)[:, 0]), self.subset(torch.nonzero(self.held)[:, 0])
        train, held = split_indices(len(self), holdout, seed, self.name)
        return self.subset(train), self.subset(held)


def split_indices(n: int, holdout: int, seed: int, what: str) -> tuple[Tensor, Tensor]:
    """(kept, held) sorted indices of a seeded random choice of ``holdout`` of ``n``."""
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 <= holdout < n:
        raise GanforgeError(f"{what}: cannot hold out {holdout!r} of its {n} examples "
                            f"(expected an integer from 0 to {n - 1})")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[holdout:].sort().values, order[:holdout].sort().values


def center_crop(x: Tensor, size: Resolution) -> Tensor:
    """The centre ``size`` (a side, "WxH" or (h, w)) of images ``(..., H, W)`` stored bigger, at
    load_size: what evaluation and sample grids show of data the trainer crops at random."""
    h, w = image_size(size)
    height, width = x.shape[-2:]
    if h > height or w > width:
        raise GanforgeError(f"cannot crop {describe((height, width))} images to {describe((h, w))}: "
                            "the crop must fit inside the stored size (load_size >= resolution)")
    top, left = (height - h) // 2, (width - w) // 2
    return x[..., top:top + h, left:left + w]


def stored_size(resolution: Resolution | None, load_size: Resolution | None) -> tuple[int, int] | None:
    """(h, w) the images are stored at: load_size, else the resolution (None: the data's own size)."""
    hw, stored = image_size(resolution), image_size(load_size)
    if stored is None:
        return hw
    if hw is None:
        raise GanforgeError("load_size needs a resolution too (the images are stored at load_size and "
                            "cropped to the resolution)")
    if stored[0] < hw[0] or stored[1] < hw[1]:
        raise GanforgeError(f"load_size {describe(stored)} is smaller than the resolution {describe(hw)} "
                            "(expected load_size >= resolution: images are stored at load_size and "
                            "cropped to the resolution)")
    return stored


def load_paired(source: str, resolution: Resolution | None, channels: int | None = None, pairs: str = "",
                split: str = "train", cache_dir: str | Path | None = None,
                load_size: Resolution | None = None, holdout: int = -1, seed: int = 0) -> PairedDataset:
    """Load pairs, stored at ``load_size`` (default: the resolution; a side, "WxH" or (h, w)).

    ``pairs=""`` reads a folder: ``source/A`` and ``source/B`` whose files pair by name without
    extension (also ``source/<split>/A``, as pytorch-CycleGAN-and-pix2pix lays them out), else
    side-by-side images, A on the left (also under ``source/<split>``); ``pairs="swap"`` makes
    B the input. A recipe (see ganforge.data.recipes.RECIPES: edges, gray, downscale:N, mask)
    makes inputs from any image source ganforge.data.load_data loads, or one class of it
    (``fashion-mnist:sneaker``), keeping its labels. ``channels`` (1 or 3) is that of the
    targets (and, except for edges and gray, of the inputs); folders default to 3. ``sr:N``
    (ganforge.data.superres) keeps photos at their own size, inputs N times smaller, and
    holds out whole images (``holdout`` of a folder's, drawn with ``seed``). ``gray`` on
    ``photos`` does the same for colourisation (ganforge.data.patches.load_gray_patches).
    """
    stored = stored_size(resolution, load_size)
    if channels not in (None, 1, 3):
        raise GanforgeError(f"channels must be 1 or 3, got {channels!r}")
    pairs = (pairs or "").strip()
    if pairs in ("", "swap"):
        return _load_folder(str(source), stored, channels or 3, pairs == "swap", split, cache_dir)
    name, arg = parse_recipe(pairs)
    if name == "sr":
        from ganforge.data.superres import load_sr_pairs
        return load_sr_pairs(str(source), arg, image_size(resolution), channels, holdout, seed)
    if name == "gray" and str(source) == "photos":
        return _gray_photos(resolution, channels, load_size, holdout, seed)
    return _load_recipe(str(source), stored, channels, pairs, split, cache_dir)


# ------------------------------------------------------------------ recipes
def _gray_photos(resolution: Resolution | None, channels: int | None, load_size: Resolution | None,
                 holdout: int, seed: int) -> PairedDataset:
    """scikit-image's colour photos as random patches at their own size (not fitted to one size:
    colours belong to the scale the photo has), grey -> RGB (ganforge.data.patches)."""
    from ganforge.data.patches import load_gray_patches
    if channels == 1:
        raise GanforgeError("pairs 'gray' makes colour targets from grey inputs: channels must be 3 (or left out)")
    if load_size is not None:
        raise GanforgeError("--data photos --pairs gray crops random patches of the photos already: drop --jitter")
    return load_gray_patches("photos", image_size(resolution), holdout, seed)


def _load_recipe(source: str, stored: tuple[int, int] | None, channels: int | None, pairs: str,
                 split: str, cache_dir: str | Path | None) -> PairedDataset:
    name, arg = parse_recipe(pairs)
    if name == "gray" and channels == 1:
        raise GanforgeError("pairs 'gray' makes colour targets from grey inputs: channels must be 3 (or left out)")
    data = load_images(source, stored, None if name == "gray" else channels, split, cache_dir)
    if name == "gray" and is_grey(data.x):
        raise GanforgeError(f"{source}: pairs 'gray' needs colour images, but these are already grey, so "
                            "grey -> colour would be an identity task (use a colour source, or another "
                            f"recipe: {recipe_syntax()})")
    b = data.x  # (N, Cb, H, W) targets; inputs (N, Ca, H, W) made from them
    return PairedDataset(source, make_inputs(name, arg, b), b, data.y, data.class_names, pairs)


# ------------------------------------------------------------------ folders
def _split_dir(folder: Path, split: str) -> Path:
    """``folder/split`` where the folder is divided into split folders, else the folder."""
    if (folder / split).is_dir():
        return folder / split
    found = [f"{s}/" for s in SPLITS if (folder / s).is_dir()]
    if found:
        raise GanforgeError(f"{folder}: no {split}/ folder for split {split!r} (found {', '.join(found)})")
    return folder


def _load_folder(source: str, stored: tuple[int, int] | None, channels: int, swap: bool, split: str,
                 cache_dir: str | Path | None) -> PairedDataset:
    root = Path(source).expanduser()
    if not root.is_dir():
        hint = (f"; for {source} pick a pairs recipe: {recipe_syntax()}"
                if source in DATASETS or root.is_file() or ":" in source else "")
        raise GanforgeError(f"{source}: not a folder of pairs (expected a folder with A/ and B/ "
                            f"sub-folders, or of side-by-side A|B images){hint}")
    if stored is None:
        raise GanforgeError(f"paired folder {root}: a resolution is required because its images can have "
                            "any size (e.g. --resolution 256, or 512x256 for width x height)")
    base = _split_dir(root, split)
    if (base / "A").is_dir() or (base / "B").is_dir():
        for side in ("A", "B"):
            if not (base / side).is_dir():
                raise GanforgeError(f"{base}: found {'B' if side == 'A' else 'A'}/ but no {side}/ folder "
                                    "(expected A/ inputs and B/ targets whose files pair by name)")
        a, b = _load_ab(_split_dir(base / "A", split), _split_dir(base / "B", split), stored, channels, cache_dir)
    else:
        a, b = _load_side_by_side(base, stored, channels, cache_dir)
    return PairedDataset(str(root), *((b, a) if swap else (a, b)))


def _images_by_stem(folder: Path) -> dict[str, Path]:
    """Image files under ``folder`` by relative path without extension ("0001", "sub/0002")."""
    files = list_files(folder)
    images = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
    if len(images) < len(files):
        other = next(f for f in files if f.suffix.lower() not in IMAGE_SUFFIXES)
        log.warning("%s: ignoring %d files that are not images by their extension (e.g. %s)",
                    folder, len(files) - len(images), other.name)
    by_stem: dict[str, Path] = {}
    for f in images:
        stem = f.relative_to(folder).with_suffix("").as_posix()
        if stem in by_stem:
            raise GanforgeError(f"{by_stem[stem]} and {f} have the same name {stem!r}: pairs match by file "
                                f"name without extension, so each must be unique in {folder}")
        by_stem[stem] = f
    return by_stem


def _check_partners(have: dict[str, Path], other: dict[str, Path], other_folder: Path) -> None:
    missing = [stem for stem in have if stem not in other]
    if missing:
        more = f" (and {len(missing) - 1} more without a partner)" if len(missing) > 1 else ""
        raise GanforgeError(f"{have[missing[0]]}: no image named {missing[0]}.* in {other_folder} to pair "
                            f"it with{more}; A/ and B/ files pair by name without extension")


def _header_size(path: Path) -> tuple[int, int] | str:
    """(width, height) from the file's header, or the one-line reason it cannot be opened."""
    try:
        with Image.open(path) as im:
            return im.size
    except DECODE_ERRORS as e:
        return " ".join(f"{type(e).__name__}: {e}".split())


def _matched(files_a: list[Path], files_b: list[Path]) -> list[int]:
    """Indices of the pairs whose headers open, each pair's two sizes equal (else an error)."""
    kept = []
    for i, (fa, fb) in enumerate(zip(files_a, files_b)):
        sa, sb = _header_size(fa), _header_size(fb)
        if isinstance(sa, str) or isinstance(sb, str):
            bad, reason = (fa, sa) if isinstance(sa, str) else (fb, sb)
            log.warning("skipped the pair %s | %s: %s is not a decodable image (%s)", fa.name, fb.name, bad, reason)
        elif sa != sb:
            raise GanforgeError(f"{fa} is {sa[0]}x{sa[1]} but its pair {fb} is {sb[0]}x{sb[1]} (width x height): "
                                "the two images of a pair must be the same size")
        else:
            kept.append(i)
    return kept


def _load_ab(folder_a: Path, folder_b: Path, stored: tuple[int, int], channels: int,
             cache_dir: str | Path | None) -> tuple[Tensor, Tensor]:
    images_a, images_b = _images_by_stem(folder_a), _images_by_stem(folder_b)
    _check_partners(images_a, images_b, folder_b)
    _check_partners(images_b, images_a, folder_a)
    stems = sorted(images_a)
    files_a, files_b = [images_a[s] for s in stems], [images_b[s] for s in stems]
    kept = _matched(files_a, files_b)
    files_a, files_b = [files_a[i] for i in kept], [files_b[i] for i in kept]
    sides = [decode_files(folder, files, stored, channels, cache_dir)
             for folder, files in ((folder_a, files_a), (folder_b, files_b))]
    rows = [{rel: row for row, rel in enumerate(d.kept)} for d in sides]
    reasons = [dict(map(tuple, d.skipped)) for d in sides]
    take_a, take_b = [], []
    for fa, fb in zip(files_a, files_b):
        ra, rb = fa.relative_to(folder_a).as_posix(), fb.relative_to(folder_b).as_posix()
        if ra in rows[0] and rb in rows[1]:
            take_a.append(rows[0][ra])
            take_b.append(rows[1][rb])
        else:
            bad, reason = (fa, reasons[0][ra]) if ra in reasons[0] else (fb, reasons[1][rb])
            log.warning("skipped the pair %s | %s: %s is not a decodable image (%s)", fa.name, fb.name, bad, reason)
    if not take_a:
        raise GanforgeError(f"{folder_a.parent}: no decodable pairs in {folder_a.name}/ and {folder_b.name}/ "
                            "(expected PNG, JPEG, BMP, GIF, TIFF or WebP files with the same names)")
    a = torch.from_numpy(sides[0].x[take_a])  # (N, C, H, W)
    b = torch.from_numpy(sides[1].x[take_b])
    return a, b


def _halves(im: Image.Image, resolution: tuple[int, int], channels: int) -> np.ndarray:
    """A side-by-side pair -> uint8 (h, 2w, C): the left half fitted | the right half fitted."""
    im = ImageOps.exif_transpose(im)  # before halving, so the halves carry no rotation
    if im.width % 2:
        raise ValueError(f"its width {im.width} is odd, so it cannot be split into A|B halves")
    half = im.width // 2
    left = fit_image(im.crop((0, 0, half, im.height)), resolution, channels)
    right = fit_image(im.crop((half, 0, im.width, im.height)), resolution, channels)
    return np.concatenate([left, right], axis=1)


def _load_side_by_side(folder: Path, stored: tuple[int, int], channels: int,
                       cache_dir: str | Path | None) -> tuple[Tensor, Tensor]:
    files = list_files(folder)
    # halves are decoded differently from whole images, so they keep a cache of their own
    cache = None if cache_dir is None else Path(cache_dir) / "side-by-side"
    decoded = decode_files(folder, files, stored, channels, cache, fit=_halves)
    for rel, reason in decoded.skipped:
        log.warning("skipped %s: not a side-by-side A|B image (%s)", folder / rel, reason)
    if not decoded.kept:
        raise GanforgeError(f"{folder}: no side-by-side A|B images among {len(files)} files (expected images "
                            "of even width, A on the left and B on the right; or A/ and B/ sub-folders)")
    x = torch.from_numpy(decoded.x)  # (N, C, h, 2w)
    w = stored[1]
    return x[..., :w].contiguous(), x[..., w:].contiguous()

"""Repair (inpainting) with a trained repair-game model: holes filled, every other pixel kept.

`RepairPipeline.from_pretrained(run)(image, mask)`: a uint8 (H, W, C) image and a bool (H, W)
mask (True: fill) in, the repaired uint8 image out. Only the hole changes: the known pixels
of the result are the input's, bitwise (the network's output is pasted into the hole only).

Any image size. One the size the model was trained on (up to twice it) is filled in one
pass. A larger one is not run whole: its hole's bounding box is cut into cells of the
training size, and only the cells that hold part of the hole are filled, each seeing its
cell plus half a cell of context on every side (the scale the model learnt); the cells are
filled in reading order and each one's result is known context for the next, so a hole
larger than a cell is continued, not filled twice. Memory stays that of one window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError
from ganforge.models.inpainter import holed_input
from ganforge.pipelines.base import Pipeline
from ganforge.pipelines.translate import _write, read_uint8
from ganforge.resolution import describe
from ganforge.viz.grid import to_uint8

MASK_THRESHOLD = 128  # mask pixels at least this bright (0..255 grey) are filled: white = fill


class RepairPipeline(Pipeline):
    """`pipe(image, mask)` -> the image with its hole filled; `repair_file` for image files."""

    kind = "inpainter"

    @property
    def trained_size(self) -> tuple[int, int]:
        return tuple(self.G.image_size)

    @property
    def min_side(self) -> int:
        """Images smaller than half the training size hold less context than any hole it learnt."""
        return max(2 * self.G.multiple, min(self.trained_size) // 2)

    @torch.no_grad()
    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """`image` uint8 (H, W, C) (or (H, W) for a grey model), C the model's channels;
        `mask` bool (H, W), True where to fill (any array: nonzero is True). Returns uint8
        (H, W, C) ((H, W) for an (H, W) image): the input where mask is False, bitwise, the
        model's filling where True. Raises a one-line GanforgeError for a mask of another
        size, an empty mask, or an image smaller than `min_side`."""
        grey_2d = np.ndim(image) == 2
        image, mask = self._check(image, mask)
        work = torch.tensor(image).permute(2, 0, 1).float() / 127.5 - 1     # (C, H, W) in [-1, 1]
        hole = torch.tensor(mask)                                           # (H, W) bool, still to fill (a copy)
        for cell, window in self.windows(mask):
            filled = self._fill(work[:, window[0], window[1]], hole[window[0], window[1]])
            (r, c), (wr, wc) = cell, window
            inner = (slice(r.start - wr.start, r.stop - wr.start), slice(c.start - wc.start, c.stop - wc.start))
            here = hole[r, c]
            work[:, r, c] = torch.where(here, filled[:, inner[0], inner[1]], work[:, r, c])
            hole[r, c] = False
        out = image.copy()
        out[mask] = to_uint8(work[None])[0][mask]  # only the hole's pixels are written
        return out[..., 0] if grey_2d else out

    def _check(self, image, mask) -> tuple[np.ndarray, np.ndarray]:
        image, mask = np.asarray(image), np.asarray(mask)
        if image.ndim == 2:
            image = image[..., None]
        c = self.G.channels
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != c:
            raise GanforgeError(f"image must be uint8 (H, W, {c}) for this model, got {image.dtype} {image.shape}")
        h, w = image.shape[:2]
        if mask.shape != (h, w):
            raise GanforgeError(f"the mask is {_wxh(mask.shape) if mask.ndim == 2 else mask.shape} but the image is "
                                f"{_wxh((h, w))} (width x height): they must be the same size")
        self._check_size(h, w)
        mask = mask.astype(bool)
        if not mask.any():
            raise GanforgeError("the mask is empty (no white pixels): nothing to fill")
        return np.ascontiguousarray(image), mask

    def _check_size(self, h: int, w: int, what: str = "the image") -> None:
        if min(h, w) < self.min_side:
            raise GanforgeError(f"{what} is {_wxh((h, w))} px: this model repairs images of at least "
                                f"{self.min_side} px on each side (it was trained on {describe(self.trained_size)})")

    def windows(self, mask: np.ndarray) -> list[tuple[tuple[slice, slice], tuple[slice, slice]]]:
        """(cell, window) slices, in reading order, that together cover the hole: the whole
        image once when it is at most twice the training size, else training-size cells."""
        h, w = mask.shape
        th, tw = self.trained_size
        if h <= 2 * th and w <= 2 * tw:
            whole = (slice(0, h), slice(0, w))
            return [(whole, whole)]
        ys, xs = np.nonzero(mask)
        out = []
        for r0 in range(ys.min(), ys.max() + 1, th):
            for c0 in range(xs.min(), xs.max() + 1, tw):
                r1, c1 = min(r0 + th, h), min(c0 + tw, w)
                if mask[r0:r1, c0:c1].any():
                    window = (slice(max(0, r0 - th // 2), min(h, r1 + th // 2)),
                              slice(max(0, c0 - tw // 2), min(w, c1 + tw // 2)))
                    out.append(((slice(r0, r1), slice(c0, c1)), window))
        return out

    def _fill(self, x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """G's output for one window (C, h, w) with its hole (h, w): padded (edges repeated,
        pad pixels known) to the model's multiple of 4, cropped back: (C, h, w) in [-1, 1]."""
        h, w = hole.shape
        m = self.G.multiple
        ph, pw = -h % m, -w % m
        xm = x[None].to(self.device)                                   # (1, C, h, w)
        mm = hole[None, None].to(self.device, torch.float32)           # (1, 1, h, w)
        if ph or pw:
            xm = F.pad(xm, (0, pw, 0, ph), mode="replicate")
            mm = F.pad(mm, (0, pw, 0, ph))
        y = self.G(holed_input(xm, mm))
        return y[0, :, :h, :w].float().clamp(-1, 1).cpu()

    def repair_file(self, image_path: str | Path, mask_path: str | Path, out: str | Path) -> Path:
        """Repair an image file where its mask file is white; write a PNG with provenance in its
        text chunks. Nothing is overwritten, an input least of all."""
        image_path, mask_path, out = Path(image_path), Path(mask_path), Path(out)
        for given, what in ((image_path, "image"), (mask_path, "mask")):
            if out.resolve() == given.resolve():
                raise GanforgeError(f"--out {out} is the {what} given: choose a new file (inputs are never overwritten)")
        if out.suffix.lower() != ".png":
            raise GanforgeError(f"--out {out}: the repaired image is written as PNG; give a .png name")
        if out.exists():
            raise GanforgeError(f"{out} exists: choose a new --out file (nothing is overwritten)")
        image = read(image_path, self.G.channels, "image")
        self._check_size(*image.shape[:2], what=str(image_path))
        mask = read(mask_path, 1, "mask")[..., 0] >= MASK_THRESHOLD
        if mask.shape != image.shape[:2]:
            raise GanforgeError(f"{mask_path} is {_wxh(mask.shape)} but {image_path} is {_wxh(image.shape[:2])} "
                                "(width x height): the mask must be the image's size")
        if not mask.any():
            raise GanforgeError(f"{mask_path}: the mask is empty (no white pixels): nothing to fill; paint the "
                                "parts to repair white on black")
        repaired = self(image, mask)
        record = self.provenance("repair", input=image_path.name, mask=mask_path.name, hole=f"{mask.mean():.1%}")
        return _write(repaired, out, record)


def _wxh(hw) -> str:
    return f"{hw[1]}x{hw[0]}"


def read(path: Path, channels: int, what: str) -> np.ndarray:
    """An image file as uint8 (H, W, channels), or a one-line error naming it."""
    if not path.is_file():
        raise GanforgeError(f"{path}: no such {what} file")
    return read_uint8(path, channels)

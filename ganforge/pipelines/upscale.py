"""Super-resolution with a trained superres model: any image size in bounded memory.

A large image is upscaled in overlapping tiles (as Real-ESRGAN's --tile, whose users run out
of memory without it). Each tile is cut with `pad` extra input pixels on every inner side
(the network's context: with pad >= the model's receptive field the tile's core is exactly
what the whole image would give) and its output's core is blended into the result with
linear ramps over the `overlap`: the two tiles' weights in an overlap sum to 1, so where a
deep network's context outreaches `pad` the tiles still meet without a seam. Tile rows are
finished one after another: the only float buffer beyond one tile's is one band of rows,
the rest of the result is written straight into the uint8 output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ganforge.data.folder import DECODE_ERRORS
from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.pipelines.translate import _jobs, _write
from ganforge.pipelines.translate import _read as read_image
from ganforge.viz.grid import to_uint8

DEFAULT_TILE = 256    # input pixels a side: a x4 tile is 1024 px out, ~1 GB at its peak at width 32
DEFAULT_OVERLAP = 8   # input pixels two neighbouring tiles share, blended by linear ramps
MIN_SIDE = 4          # the smallest input side a model is given (fewer pixels hold nothing to enlarge)
PROGRESS_MIN = 4      # tiles from which a progress bar is shown


def spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) of the tiles along one side: steps of tile - overlap, the last one shorter,
    so that no point lies in more than two tiles (overlap <= tile / 2)."""
    if tile <= 0 or length <= tile:
        return [(0, length)]
    step = tile - overlap
    n = -(-(length - tile) // step) + 1
    return [(i * step, min(i * step + tile, length)) for i in range(n)]


def ramp(spans_: list[tuple[int, int]], i: int, scale: int) -> torch.Tensor:
    """Tile i's weights along its output side (length scale * (end - start)): 0 -> 1 over the
    overlap with the tile before, 1 -> 0 over the one after; neighbours' weights sum to 1."""
    start, end = spans_[i]
    w = torch.ones(scale * (end - start))
    if i > 0:
        n = scale * (spans_[i - 1][1] - start)
        w[:n] = (torch.arange(n) + 0.5) / n
    if i + 1 < len(spans_):
        n = scale * (end - spans_[i + 1][0])
        w[len(w) - n:] = 1 - (torch.arange(n) + 0.5) / n
    return w


class UpscalePipeline(Pipeline):
    """`pipe(image)` -> the image `scale` times bigger; `upscale_files` for image files."""

    kind = "upscaler"

    @property
    def scale(self) -> int:
        return self.G.scale

    @torch.no_grad()
    def __call__(self, image: torch.Tensor, *, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP,
                 pad: int | None = None, output_type: str = "pt", progress: bool = False):
        """`image` float (C, H, W) in [-1, 1] -> float (C, sH, sW) in [-1, 1] ("pt") or uint8
        (sH, sW, C) ("np", which never holds the whole result in float). `tile` input pixels a
        side (0: the whole image at once), `pad` context pixels around each tile (default the
        model's receptive field: tiled equals untiled)."""
        if output_type not in ("pt", "np"):
            raise GanforgeError(f"output_type must be 'pt' or 'np', got {output_type!r}")
        if image.dim() != 3 or image.shape[0] != self.G.in_channels:
            raise GanforgeError(f"image must be ({self.G.in_channels}, H, W) for this model, got {tuple(image.shape)}")
        if tile < 0 or not 0 <= overlap <= (tile // 2 if tile else overlap):
            raise GanforgeError(f"--tile {tile} and overlap {overlap}: expected tile >= 0 and 0 <= overlap <= tile / 2")
        c, h, w = image.shape
        s = self.scale
        if output_type == "pt":
            out = torch.empty(c, h * s, w * s)
            store = lambda r0, band: out[:, r0:r0 + band.shape[1]].copy_(band)  # noqa: E731
        else:
            out = np.empty((h * s, w * s, c), np.uint8)
            store = lambda r0, band: out.__setitem__(slice(r0, r0 + band.shape[1]), to_uint8(band[None])[0])  # noqa: E731
        self._tiles(image, tile, overlap, self.G.context if pad is None else pad, store, progress)
        return out

    def _tiles(self, x: torch.Tensor, tile: int, overlap: int, pad: int, store: Callable, progress: bool) -> None:
        """Upscale x (C, H, W) tile by tile; `store(first_row, band)` receives finished rows."""
        (c, h, w), s = x.shape, self.scale
        rows, cols = spans(h, tile, overlap), spans(w, tile, overlap)
        bar = tqdm(total=len(rows) * len(cols), desc="upscale", unit="tile",
                   disable=not progress or len(rows) * len(cols) < PROGRESS_MIN)
        carry = torch.zeros(c, 0, w * s)  # rows of the last band that the next band overlaps
        for i, (r0, r1) in enumerate(rows):
            band = torch.zeros(c, s * (r1 - r0), w * s)
            wy = ramp(rows, i, s)[:, None]
            for j, (c0, c1) in enumerate(cols):
                band[:, :, s * c0:s * c1] += self._tile(x, (r0, r1), (c0, c1), pad) * wy * ramp(cols, j, s)
                bar.update()
            band[:, :carry.shape[1]] += carry
            done = s * (rows[i + 1][0] - r0) if i + 1 < len(rows) else band.shape[1]
            store(s * r0, band[:, :done].clamp_(-1, 1))
            carry = band[:, done:]
        bar.close()

    def _tile(self, x: torch.Tensor, rows: tuple[int, int], cols: tuple[int, int], pad: int) -> torch.Tensor:
        """The upscaled core of one tile (C, s*rows, s*cols), computed with `pad` context pixels."""
        (r0, r1), (c0, c1), s = rows, cols, self.scale
        a0, a1 = max(0, r0 - pad), min(x.shape[1], r1 + pad)
        b0, b1 = max(0, c0 - pad), min(x.shape[2], c1 + pad)
        y = self.G(x[None, :, a0:a1, b0:b1].to(self.device))[0].float().cpu()
        return y[:, s * (r0 - a0):s * (r1 - a0), s * (c0 - b0):s * (c1 - b0)]

    def upscale_files(self, inputs: Sequence[str | Path], out_dir: str | Path, *, tile: int = DEFAULT_TILE,
                      progress: bool = True) -> list[Path]:
        """Upscale image files and folders into out_dir (PNG, the input's name, provenance in
        its text chunks). Every input is checked before anything is written; nothing is
        overwritten, an input least of all."""
        out_dir = Path(out_dir)
        if any(out_dir.resolve() == Path(i).resolve() for i in inputs):
            raise GanforgeError(f"--out {out_dir} is one of the inputs: choose a new folder (inputs are never overwritten)")
        jobs = _jobs(inputs, out_dir)
        sources = {src.resolve() for src, _ in jobs}
        for src, out in jobs:
            if out.resolve() in sources:
                raise GanforgeError(f"{out} would overwrite the input {src}: choose another --out folder")
            if out.exists():
                raise GanforgeError(f"{out} exists: choose a new --out folder (nothing is overwritten)")
            self._check(src)
        written = []
        for src, out in jobs:
            y = self(_read(src, self.G.in_channels), tile=tile, output_type="np", progress=progress)
            record = self.provenance("upscale", input=src.name, scale=f"x{self.scale}", tile=str(tile))
            written.append(_write(y, out, record))
        return written

    def _check(self, path: Path) -> None:
        """A one-line error unless `path` opens as an image the model can take."""
        try:
            with Image.open(path) as im:
                w, h = im.size
        except DECODE_ERRORS as e:
            raise GanforgeError(f"{path}: not a decodable image ({' '.join(f'{type(e).__name__}: {e}'.split())})") from None
        if min(w, h) < MIN_SIDE:
            raise GanforgeError(f"{path} is {w}x{h} px: the model enlarges images of at least {MIN_SIDE} px on each "
                                f"side (x{self.scale} makes them {MIN_SIDE * self.scale} px)")



def _read(path: Path, channels: int) -> torch.Tensor:
    """An image file as float (C, H, W) in [-1, 1] (translate's reader; here one that does not
    decode is an error, not a note)."""
    notes: list[str] = []
    x = read_image(path, channels, notes)
    if x is None:
        raise GanforgeError(notes[0].removeprefix("warning: skipped "))
    return x

"""Image-to-image translation with a trained pix2pix or CycleGAN model (x -> y).

Any image size the model allows: the translators are fully convolutional, so each image is
padded (reflected) to the next multiple of the model's `multiple`, translated, and cropped
back to its own size; the notes say when that happened.

`tile` translates an image larger than that many pixels a side in overlapping tile x tile
windows instead, blended by pyramid weights (each pixel's weight grows with its distance from
its window's edge; the weights are normalised by their sum, so a pixel-wise model gives
exactly its whole-image output). A U-Net trained on 64 px patches has a 1x1 bottleneck
there: on a whole 512 px photo its innermost layers see an 8x8 map, inputs they never saw in
training; windows of the training size keep every forward pass as it was trained
(benchmarks/colorize.py measures both).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from ganforge import atomic, modeling
from ganforge.data.folder import DECODE_ERRORS, _to_mode, list_files
from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.provenance import png_info
from ganforge.resolution import describe
from ganforge.viz.grid import to_uint8

IMAGE_SUFFIXES = frozenset(Image.registered_extensions())
PROGRESS_MIN = 20  # inputs from which a progress bar is worth showing
TILE_BATCH = 16    # windows a forward pass when tiling


class TranslatePipeline(Pipeline):
    """`pipe(images, direction=None)` -> translated images, each the size of its input."""

    kind = "translator"

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu") -> TranslatePipeline:
        pipe = cls(modeling.load(path), device)
        pipe.path = Path(path)  # whose weights the outputs' provenance names
        return pipe

    @property
    def two_way(self) -> bool:
        return hasattr(self.G, "directions")

    def direction_name(self, direction: str | None) -> str:
        info = getattr(self.G, "data_info", {}) or {}
        a, b = info.get("source", "A"), info.get("source_b", "B")
        return f"{a} -> {b}" if (direction or "a2b") == "a2b" else f"{b} -> {a}"

    def _net(self, direction: str | None) -> torch.nn.Module:
        if not self.two_way:
            if direction is not None:
                raise GanforgeError("this model translates one way only (pix2pix): drop --direction")
            return self.G
        if direction not in (None, "a2b", "b2a"):
            raise GanforgeError(f"unknown direction {direction!r} (expected a2b or b2a)")
        return self.G.a2b if direction in (None, "a2b") else self.G.b2a

    def default_tile(self, direction: str | None = None) -> int:
        """The window side `translate` uses: a U-Net's training size (its bottleneck is 1x1
        there, so it has seen no more context; 0 for a model trained without one), else 0 (the
        whole image: a ResNet translator's receptive field is local)."""
        net = self._net(direction)
        trained = getattr(net, "image_size", None)
        if trained is None or getattr(net, "multiple", 0) < max(trained):
            return 0
        return max(trained)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor | Sequence[torch.Tensor], *, direction: str | None = None,
                 batch_size: int = 16, output_type: str = "pt", tile: int = 0):
        """`images` float (N, C, H, W) in [-1, 1] (one size), or a list of (C, H, W) of any
        sizes. Returns the same form: a tensor, or a list; output_type "np" gives uint8
        (N, H, W, C) / a list of (H, W, C). `tile` > 0: images with a side over `tile` px go
        in overlapping windows of that side (a multiple of the model's `multiple`; 0: whole)."""
        if output_type not in ("pt", "np"):
            raise GanforgeError(f"output_type must be 'pt' or 'np', got {output_type!r}")
        net = self._net(direction)
        _check_tile(net, tile)
        if isinstance(images, torch.Tensor):
            if images.dim() != 4 or images.shape[1] != net.in_channels:
                raise GanforgeError(f"images must be (N, {net.in_channels}, H, W) for this model, got {tuple(images.shape)}")
            windowed = tile and max(images.shape[-2:]) > tile
            chunks = [images[i:i + batch_size] for i in range(0, len(images), batch_size)]
            out = torch.cat([self._tiled(net, x, tile) if windowed else self._translate(net, x) for x in chunks])
            return out if output_type == "pt" else to_uint8(out)
        outs = [self(x[None], direction=direction, output_type="pt", tile=tile)[0] for x in images]
        return outs if output_type == "pt" else [to_uint8(o[None])[0] for o in outs]

    def _tiled(self, net: torch.nn.Module, x: torch.Tensor, tile: int) -> torch.Tensor:
        """(B, C, H, W) -> (B, C', H, W) in windows of `tile` px a side overlapping by half,
        the last ones moved in to end at the image's edge; blended by pyramid weights."""
        (h, w), windows = x.shape[-2:], [(r, c) for r in starts(x.shape[-2], tile) for c in starts(x.shape[-1], tile)]
        th, tw = min(tile, h), min(tile, w)
        weight = pyramid(th)[:, None] * pyramid(tw)[None, :]                    # (th, tw)
        total, out = torch.zeros(h, w), None
        for i in range(0, len(windows), max(1, TILE_BATCH // len(x))):
            chunk = windows[i:i + max(1, TILE_BATCH // len(x))]
            y = self._translate(net, torch.cat([x[..., r:r + th, c:c + tw] for r, c in chunk]))  # (k B, C', th, tw)
            if out is None:
                out = torch.zeros(len(x), y.shape[1], h, w)
            for k, (r, c) in enumerate(chunk):
                out[..., r:r + th, c:c + tw] += y[k * len(x):(k + 1) * len(x)] * weight
                total[r:r + th, c:c + tw] += weight
        return (out / total).clamp(-1, 1)

    def _translate(self, net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C', H, W): padded to the model's multiple, cropped back."""
        h, w = x.shape[-2:]
        ph, pw = _padding(net, h, w)
        x = x.float().to(self.device)
        if ph or pw:  # reflect where the image is big enough for it, else repeat the edge
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode=mode)
        y = net(x)
        return y[..., ph // 2:ph // 2 + h, pw // 2:pw // 2 + w].clamp(-1, 1).cpu()

    def translate_files(self, inputs: Sequence[str | Path], out: str | Path, *, direction: str | None = None,
                        progress: bool = True, tile: int | None = None) -> tuple[list[Path], list[str]]:
        """Translate image files and folders of images into the folder `out` (PNG, the input's
        name; a folder's sub-folders kept), or one image into the file `out` when it ends in
        .png. Never overwrites: an existing output is an error. `tile`: see __call__ (None:
        default_tile). A grey model given a colour image translates its luminance (Pillow's
        RGB -> L, as the gray recipe makes its inputs). Returns the files written and notes
        (padding, tiling, colour made grey, undecodable inputs skipped). One image at a time:
        files come in any sizes, and one at a time bounds the memory."""
        net = self._net(direction)
        tile = self.default_tile(direction) if tile is None else tile
        _check_tile(net, tile)
        jobs = _jobs_for(inputs, Path(out))
        taken = [str(out) for _, out in jobs if out.exists()]
        if taken:
            raise GanforgeError(f"{taken[0]} exists{f' (and {len(taken) - 1} more)' if len(taken) > 1 else ''}: "
                                "choose a new --out (nothing is overwritten)")
        notes, written, padded, tiled, greyed = [], [], 0, 0, 0
        trained = getattr(net, "image_size", None)
        for src, out in tqdm(jobs, desc="translate", unit="image", disable=not progress or len(jobs) < PROGRESS_MIN):
            x, colour = _read_for(src, net.in_channels, notes)
            if x is None:
                continue
            h, w = x.shape[-2:]
            windowed = bool(tile) and max(h, w) > tile
            padded += any(_padding(net, min(h, tile), min(w, tile)) if windowed else _padding(net, h, w))
            tiled, greyed = tiled + windowed, greyed + colour
            if (trained is not None and not windowed
                    and (max(h / trained[0], w / trained[1]) > 2 or min(h / trained[0], w / trained[1]) < 0.5)):
                notes.append(f"note: {src} is {describe((h, w))}; the model was trained on {describe(tuple(trained))} "
                             "images (it translates any size, best near that one)")
            y = self(x[None], direction=direction, tile=tile)
            record = self.provenance("translate", direction=direction if self.two_way else None, input=src.name,
                                     **({"tile": str(tile)} if windowed else {}))
            written.append(_write(to_uint8(y)[0], out, record))
        if greyed:
            notes.append(f"note: {greyed} colour image(s) made grey (their luminance, ITU-R 601) for this model, "
                         "which takes grey inputs")
        if tiled:
            why = "the model's training size; " if tile == self.default_tile(direction) else ""
            notes.append(f"note: {tiled} image(s) translated in overlapping {tile} px windows ({why}--tile 0: the "
                         "whole image at once)")
        if padded:
            notes.append(f"note: {padded} image(s) padded to multiples of {net.multiple} px for the model and cropped back")
        if not written:
            raise GanforgeError("no input could be translated" + (f": {notes[0]}" if notes else ""))
        return written, notes


def _check_tile(net: torch.nn.Module, tile: int) -> None:
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 0 or tile % net.multiple:
        raise GanforgeError(f"--tile {tile}: expected a multiple of this model's {net.multiple} px "
                            "(or 0 for the whole image at once)")


def starts(length: int, tile: int) -> list[int]:
    """First pixels of the windows along one side: every tile / 2, the last one ending at the
    edge (so every window is whole); [0] when one window (or the side itself) covers it."""
    if length <= tile:
        return [0]
    return sorted({*range(0, length - tile, max(1, tile // 2)), length - tile})


def pyramid(n: int) -> torch.Tensor:
    """(n,) weights of a window's pixels along one side: 0.5, 1.5, ... up to the middle and back
    down, so neighbours fade into each other and no weight is 0."""
    i = torch.arange(n, dtype=torch.float32)
    return torch.minimum(i + 0.5, n - i - 0.5)


def _padding(net: torch.nn.Module, h: int, w: int) -> tuple[int, int]:
    """Rows and columns to add: up to the next multiple of the model's `multiple`, and to its
    `min_size` (a ResNet translator's 8 px) where the image is smaller."""
    m, least = net.multiple, getattr(net, "min_size", net.multiple)
    return max(-h % m, least - h), max(-w % m, least - w)


def _jobs_for(inputs: Sequence[str | Path], out: Path) -> list[tuple[Path, Path]]:
    """`_jobs` into the folder `out`, or the one input into the file `out` (a .png not a folder)."""
    if out.suffix.lower() != ".png" or out.is_dir():
        if out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir():  # not a folder named like a picture
            raise GanforgeError(f"--out {out}: translate writes PNG only; give a .png file (one input image) "
                                "or a folder")
        return _jobs(inputs, out)
    if len(inputs) != 1 or Path(inputs[0]).is_dir():
        raise GanforgeError(f"--out {out} names one .png file: give one input image (or a folder for --out)")
    [(src, _)] = _jobs(inputs, out.parent)  # (a missing input: _jobs says so)
    return [(src, out)]


def _jobs(inputs: Sequence[str | Path], out_dir: Path) -> list[tuple[Path, Path]]:
    """(source, output) pairs: files as given, folders' images recursively (relative paths kept)."""
    jobs: list[tuple[Path, Path]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files = [f for f in list_files(item) if f.suffix.lower() in IMAGE_SUFFIXES]
            if not files:
                raise GanforgeError(f"{item}: no image files in this folder")
            jobs += [(f, out_dir / f.relative_to(item).with_suffix(".png")) for f in files]
        elif item.is_file():
            jobs.append((item, out_dir / f"{item.stem}.png"))
        else:
            raise GanforgeError(f"{item}: no such image file or folder")
    outs = [out for _, out in jobs]
    if len(set(outs)) != len(outs):
        twice = next(o for o in outs if outs.count(o) > 1)
        raise GanforgeError(f"two inputs would both be written to {twice}: give them different names")
    return jobs


def open_image(source: Path | BinaryIO, what: str | Path | None = None) -> Image.Image:
    """An image file (or bytes in a file object) decoded, turned upright by its EXIF
    orientation, or a one-line GanforgeError naming `what` (default: the path)."""
    try:
        with Image.open(source) as im:
            im.load()
            return ImageOps.exif_transpose(im)
    except DECODE_ERRORS as e:
        raise GanforgeError(f"{what or source}: not a decodable image "
                            f"({' '.join(f'{type(e).__name__}: {e}'.split())[:160]})") from None


def as_uint8(picture: Image.Image, channels: int) -> np.ndarray:
    """A picture -> uint8 (H, W, channels), a writable copy (torch reads it)."""
    array = np.array(_to_mode(picture, channels), dtype=np.uint8)
    return array.reshape(*array.shape[:2], channels)


def read_uint8(source: Path | BinaryIO, channels: int, what: str | None = None) -> np.ndarray:
    """An image file as uint8 (H, W, channels), or a one-line GanforgeError naming it."""
    return as_uint8(open_image(source, what), channels)


def _read(path: Path, channels: int, notes: list[str]) -> torch.Tensor | None:
    """An image file as float (C, H, W) in [-1, 1], or None (a note says why)."""
    try:
        array = read_uint8(path, channels)
    except GanforgeError as e:
        notes.append(f"warning: skipped {e}")
        return None
    return torch.from_numpy(array).permute(2, 0, 1).float() / 127.5 - 1


def _read_for(path: Path, channels: int, notes: list[str]) -> tuple[torch.Tensor | None, bool]:
    """`_read` for a model of `channels`, and whether a colour image was made grey for it."""
    if channels != 1:
        return _read(path, channels, notes), False
    rgb = _read(path, 3, notes)  # (3, H, W) in [-1, 1], or None
    if rgb is None:
        return None, False
    colour = not (torch.equal(rgb[0], rgb[1]) and torch.equal(rgb[1], rgb[2]))
    rgb8 = ((rgb + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    grey = np.asarray(Image.fromarray(rgb8).convert("L"))  # the luminance, as the gray recipe makes it
    return torch.from_numpy(grey.copy())[None].float() / 127.5 - 1, colour


def _write(image: np.ndarray, out: Path, record: dict | None = None) -> Path:
    """uint8 (H, W, C) -> a PNG, written whole or not at all, `record` in its text chunks."""
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    return atomic.write(out, lambda f: picture.save(f, format="PNG", pnginfo=png_info(record)))

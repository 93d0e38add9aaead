"""Image-to-image translation with a trained pix2pix or CycleGAN model (x -> y).

Any image size the model allows: the translators are fully convolutional, so each image is
padded (reflected) to the next multiple of the model's `multiple`, translated, and cropped
back to its own size; the notes say when that happened.
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

    @torch.no_grad()
    def __call__(self, images: torch.Tensor | Sequence[torch.Tensor], *, direction: str | None = None,
                 batch_size: int = 16, output_type: str = "pt"):
        """`images` float (N, C, H, W) in [-1, 1] (one size), or a list of (C, H, W) of any
        sizes. Returns the same form: a tensor, or a list; output_type "np" gives uint8
        (N, H, W, C) / a list of (H, W, C)."""
        if output_type not in ("pt", "np"):
            raise GanforgeError(f"output_type must be 'pt' or 'np', got {output_type!r}")
        net = self._net(direction)
        if isinstance(images, torch.Tensor):
            if images.dim() != 4 or images.shape[1] != net.in_channels:
                raise GanforgeError(f"images must be (N, {net.in_channels}, H, W) for this model, got {tuple(images.shape)}")
            out = torch.cat([self._translate(net, images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
            return out if output_type == "pt" else to_uint8(out)
        outs = [self(x[None], direction=direction, output_type="pt")[0] for x in images]
        return outs if output_type == "pt" else [to_uint8(o[None])[0] for o in outs]

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

    def translate_files(self, inputs: Sequence[str | Path], out_dir: str | Path, *, direction: str | None = None,
                        progress: bool = True) -> tuple[list[Path], list[str]]:
        """Translate image files and folders of images into out_dir (PNG, the input's name;
        a folder's sub-folders kept). Never overwrites: an existing output is an error.
        Returns the files written and notes (padding, undecodable inputs skipped). One image
        a forward pass: files come in any sizes, and one at a time bounds the memory."""
        net = self._net(direction)
        jobs = _jobs(inputs, Path(out_dir))
        taken = [str(out) for _, out in jobs if out.exists()]
        if taken:
            raise GanforgeError(f"{taken[0]} exists{f' (and {len(taken) - 1} more)' if len(taken) > 1 else ''}: "
                                "choose a new --out folder (nothing is overwritten)")
        notes, written, padded = [], [], 0
        trained = getattr(net, "image_size", None)
        for src, out in tqdm(jobs, desc="translate", unit="image", disable=not progress or len(jobs) < PROGRESS_MIN):
            x = _read(src, net.in_channels, notes)
            if x is None:
                continue
            h, w = x.shape[-2:]
            padded += any(_padding(net, h, w))
            if trained is not None and (max(h / trained[0], w / trained[1]) > 2 or min(h / trained[0], w / trained[1]) < 0.5):
                notes.append(f"note: {src} is {describe((h, w))}; the model was trained on {describe(tuple(trained))} "
                             "images (it translates any size, best near that one)")
            y = self._translate(net, x[None])
            record = self.provenance("translate", direction=direction if self.two_way else None, input=src.name)
            written.append(_write(to_uint8(y)[0], out, record))
        if padded:
            notes.append(f"note: {padded} image(s) padded to multiples of {net.multiple} px for the model and cropped back")
        if not written:
            raise GanforgeError("no input could be translated" + (f": {notes[0]}" if notes else ""))
        return written, notes


def _padding(net: torch.nn.Module, h: int, w: int) -> tuple[int, int]:
    """Rows and columns to add: up to the next multiple of the model's `multiple`, and to its
    `min_size` (a ResNet translator's 8 px) where the image is smaller."""
    m, least = net.multiple, getattr(net, "min_size", net.multiple)
    return max(-h % m, least - h), max(-w % m, least - w)


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


def _write(image: np.ndarray, out: Path, record: dict | None = None) -> Path:
    """uint8 (H, W, C) -> a PNG, written whole or not at all, `record` in its text chunks."""
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    return atomic.write(out, lambda f: picture.save(f, format="PNG", pnginfo=png_info(record)))

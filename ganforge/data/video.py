"""Short clips: moving sprites made from real images (the Moving-MNIST recipe, Srivastava et al.
2015: items drifting and bouncing on a canvas), or a folder of the user's clips (animated GIFs,
or one sub-folder of frame images a clip).

  x uint8 (N, C, T, H, W)   T frames of H x W, C channels (1 or 3)
  y int64 (N,)              the (first) item's class, or None for a folder

Moving sprites are made at load, each clip from (seed, index) alone, so clip i is the same on
every machine and in every run: one or two Fashion-MNIST items (Debian's dataset-fashion-mnist)
or scikit-learn digits, scaled to 7/16 of the canvas (28 px on 64, as Moving MNIST), each
starting at a random place with a random velocity and reflected at the canvas's edges.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageSequence

from ganforge.data.dataset import Dataset
from ganforge.data.folder import DECODE_ERRORS, fit_image, list_files
from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution, describe
from ganforge.resolution import size as image_size

FRAMES = 16                  # Moving MNIST's (and MoCoGAN's) clip length
CANVAS = 64                  # Moving MNIST's canvas
CLIPS = 5000                 # moving sprites made by default
SPRITE_SHARE = 7 / 16        # a sprite's side over the canvas's (28 px on 64)
FPS = 8.0                    # how fast the GIFs play
VIDEO_SOURCES = {
    "moving-fashion": "Fashion-MNIST items drifting and bouncing on a 64x64 canvas (the Moving-MNIST recipe), "
                      "16 frames, 10 classes (Debian dataset-fashion-mnist; --sprites 2 for two items)",
    "moving-digits": "scikit-learn's 8x8 digits drifting and bouncing on a 64x64 canvas, 16 frames, 10 classes",
}
GIF_SUFFIXES = (".gif",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")  # a sub-folder's frames
MEMORY_SHARE = 0.5           # clips may fill at most this share of the free memory


@dataclass(eq=False)
class VideoDataset(Dataset):
    """Clips: x uint8 (N, C, T, H, W); see the module's docstring."""
    fps: float = FPS
    items: torch.Tensor | None = None                 # moving sprites: (N, sprites) every item's class
    paths: torch.Tensor | None = None                 # moving sprites: (N, sprites, T, 2) int16 top-left corners
    names: list[str] = field(default_factory=list)    # a folder: where each clip came from

    @property
    def frames(self) -> int:
        return self.x.shape[2]


def load_video(source: str, resolution: Resolution | None = None, channels: int | None = None, frames: int = 0,
               sprites: int = 1, clips: int = CLIPS, seed: int = 0) -> VideoDataset:
    """A registered source (VIDEO_SOURCES) or a folder of clips. `frames` 0: 16 for moving
    sprites, a folder's own length (its clips must agree); else every clip resampled to it."""
    if not isinstance(frames, int) or not 0 <= frames <= 4096:
        raise GanforgeError(f"option data.frames must be an integer in 0..4096 (0: auto), got {frames!r}")
    if source in VIDEO_SOURCES:
        return moving_sprites(source, resolution, channels or 1, frames or FRAMES, sprites, clips, seed)
    from ganforge.data import DATASETS  # (it lists these sources too)
    if source.split(":")[0] in DATASETS:
        raise GanforgeError(f"{source} is not clips (expected {', '.join(VIDEO_SOURCES)} or a folder of GIF clips "
                            "or of sub-folders of frame images)")
    return load_clip_folder(source, resolution, channels or 3, frames)


def has_gifs(source: str) -> bool:
    """Is `source` a folder holding GIF files (so read as clips, not as images)?"""
    path = Path(source).expanduser()
    return path.is_dir() and any(p.suffix.lower() in GIF_SUFFIXES for p in path.iterdir())


def check_memory(nbytes: int, what: str, hint: str) -> None:
    """One line when `nbytes` would not fit in memory (well within what is free now)."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform: nothing to check against
        return
    if nbytes > MEMORY_SHARE * free:
        raise GanforgeError(f"{what} would take {nbytes / 2**30:.1f} GiB, more than this machine's memory allows "
                            f"({free / 2**30:.1f} GiB free): {hint}")


# ------------------------------------------------------------------ moving sprites
def trajectory(rng: np.random.Generator, room: tuple[int, int], frames: int, canvas: int) -> np.ndarray:
    """Top-left corners (frames, 2) of a sprite with `room` (h, w) to move in (canvas - sprite):
    a random start and direction, 1/32..1/16 of the canvas a frame, reflected at the edges."""
    pos = rng.uniform(0, 1, 2) * np.array(room, dtype=np.float64)
    angle = rng.uniform(0, 2 * np.pi)
    velocity = rng.uniform(canvas / 32, canvas / 16) * np.array([np.sin(angle), np.cos(angle)])
    out = np.empty((frames, 2))
    for t in range(frames):
        out[t] = pos
        pos = pos + velocity
        for k in range(2):  # a bounce: mirrored back inside, heading the other way
            if pos[k] < 0:
                pos[k], velocity[k] = -pos[k], -velocity[k]
            elif pos[k] > room[k]:
                pos[k], velocity[k] = 2 * room[k] - pos[k], -velocity[k]
    return np.rint(out).astype(np.int64)


def moving_clip(index: int, sprites: np.ndarray, hw: tuple[int, int], frames: int, count: int,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip `index`: (uint8 (T, H, W), the items' indices (count,), their paths (count, T, 2)).
    Everything is drawn from (seed, index): the same clip on every machine."""
    rng = np.random.default_rng([seed, index])
    items = rng.integers(len(sprites), size=count)
    s = sprites.shape[1:]
    room = (hw[0] - s[0], hw[1] - s[1])
    paths = np.stack([trajectory(rng, room, frames, min(hw)) for _ in range(count)])
    clip = np.zeros((frames, *hw), dtype=np.uint8)
    for item, path in zip(items, paths):
        for t, (top, left) in enumerate(path):
            window = clip[t, top:top + s[0], left:left + s[1]]
            np.maximum(window, sprites[item], out=window)  # overlapping items: the brighter wins (Moving MNIST)
    return clip, items, paths


@functools.lru_cache(maxsize=4)  # read and scaled once a process (60,000 items: seconds); never written to
def sprite_images(source: str, side: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The items moving sprites are made of: uint8 (M, side, side), labels (M,), class names."""
    if source == "moving-fashion":
        from ganforge.data.idx import load_fashion_mnist
        data = load_fashion_mnist("train")
    else:
        from ganforge.data.digits import load_digits
        data = load_digits()
    x = data.x.float()                                                    # (M, 1, h, w)
    if x.shape[-1] != side:
        x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=x.shape[-1] > side, align_corners=False)
    return x[:, 0].round().clamp(0, 255).to(torch.uint8).numpy(), data.y.numpy(), list(data.class_names)


def moving_sprites(source: str, resolution: Resolution | None, channels: int, frames: int, count: int = 1,
                   clips: int = CLIPS, seed: int = 0) -> VideoDataset:
    """`clips` clips of `count` items moving on a canvas of `resolution` (default 64)."""
    if count not in (1, 2, 3):
        raise GanforgeError(f"option data.sprites must be 1, 2 or 3 items a clip, got {count!r}")
    if not isinstance(clips, int) or not 1 <= clips <= 1_000_000:
        raise GanforgeError(f"option data.clips must be an integer in 1..1000000, got {clips!r}")
    hw = image_size(resolution) or (CANVAS, CANVAS)
    side = round(min(hw) * SPRITE_SHARE)
    if side < 4:
        raise GanforgeError(f"{source}: a {describe(hw)} canvas is too small for its items (expected at least 10 px)")
    check_memory(clips * frames * channels * hw[0] * hw[1], f"{source}: {clips} clips of {frames} frames at "
                 f"{describe(hw)}", "set --clips, --frames or --resolution lower")
    sprites, labels, class_names = sprite_images(source, side)
    made = [moving_clip(i, sprites, hw, frames, count, seed) for i in range(clips)]
    x = torch.from_numpy(np.stack([m[0] for m in made]))[:, None]       # (N, 1, T, H, W)
    items = torch.from_numpy(np.stack([labels[m[1]] for m in made]).astype(np.int64))  # (N, count)
    if channels == 3:
        x = x.expand(-1, 3, -1, -1, -1)
    paths = torch.from_numpy(np.stack([m[2] for m in made]).astype(np.int16))       # (N, count, T, 2)
    return VideoDataset(source, "video", x.contiguous(), items[:, 0].clone(), class_names, items=items, paths=paths)


# ------------------------------------------------------------------ a folder of clips
def _natural(path: Path) -> list:
    """frame2.png before frame10.png."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def list_clips(root: Path) -> list[tuple[str, list[Path] | Path]]:
    """(name, GIF file or sorted frame files) of each clip in a folder: its GIFs and its
    sub-folders of images."""
    found: list[tuple[str, list[Path] | Path]] = []
    for entry in sorted(root.iterdir(), key=_natural):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in GIF_SUFFIXES:
            found.append((entry.name, entry))
        elif entry.is_dir():
            frames = sorted((f for f in list_files(entry) if f.suffix.lower() in IMAGE_SUFFIXES), key=_natural)
            if frames:
                found.append((entry.name + "/", frames))
    return found


def _read_frames(where: list[Path] | Path, resolution: tuple[int, int] | None, channels: int) -> list[np.ndarray]:
    """A clip's frames as uint8 (H, W, C): at `resolution` (scaled to cover, centre-cropped), or as they are."""
    def fit(im: Image.Image) -> np.ndarray:
        return fit_image(im, resolution or (im.height, im.width), channels)
    if isinstance(where, Path):
        with Image.open(where) as im:
            return [fit(frame.copy()) for frame in ImageSequence.Iterator(im)]
    out = []
    for f in where:
        with Image.open(f) as im:
            out.append(fit(im))
    return out


def resample(frames: list[np.ndarray], n: int) -> list[np.ndarray]:
    """n frames evenly spaced through a clip (a short clip repeats frames, a long one skips them)."""
    return [frames[i] for i in np.linspace(0, len(frames) - 1, n).round().astype(int)]


def load_clip_folder(source: str, resolution: Resolution | None, channels: int = 3, frames: int = 0) -> VideoDataset:
    root = Path(source).expanduser()
    if not root.is_dir():
        known = ", ".join(VIDEO_SOURCES)
        raise GanforgeError(f"{source}: no such folder (expected a folder of GIF clips or of sub-folders of frame "
                            f"images, or one of: {known})")
    listed = list_clips(root)
    if not listed:
        raise GanforgeError(f"{source}: no clips in this folder (expected animated .gif files, or one sub-folder "
                            "of frame images a clip)")
    hw = image_size(resolution)
    clips, names = [], []
    for name, where in listed:
        try:
            clip = _read_frames(where, hw, channels)
        except DECODE_ERRORS as e:
            raise GanforgeError(f"{root / name}: cannot read this clip ({' '.join(str(e).split())})") from None
        sizes = {f.shape[:2] for f in clip}
        if len(sizes) > 1:
            raise GanforgeError(f"{root / name}: its frames differ in size ({', '.join(describe(s) for s in sizes)}): "
                                "pass --resolution to resample them")
        clips.append(resample(clip, frames) if frames else clip)
        names.append(name)
    _check_alike(root, clips, names)
    T, (h, w, c) = len(clips[0]), clips[0][0].shape
    check_memory(len(clips) * T * h * w * c, f"{source}: {len(clips)} clips of {T} frames at {describe((h, w))}",
                 "set --frames or --resolution lower")
    x = torch.from_numpy(np.stack([np.stack(c) for c in clips])).permute(0, 4, 1, 2, 3)  # (N, C, T, H, W)
    return VideoDataset(str(source), "video", x.contiguous(), None, None, names=names)


def _check_alike(root: Path, clips: list[list[np.ndarray]], names: list[str]) -> None:
    """Clips of one length and one size, or one line naming two that differ and what to pass."""
    for i, clip in enumerate(clips[1:], 1):
        if len(clip) != len(clips[0]):
            raise GanforgeError(f"{root}: clips of different lengths ({names[0]}: {len(clips[0])} frames, "
                                f"{names[i]}: {len(clip)}): pass --frames N to resample each to N frames")
        if clip[0].shape != clips[0][0].shape:
            raise GanforgeError(f"{root}: clips of different sizes ({names[0]}: {describe(clips[0][0].shape[:2])}, "
                                f"{names[i]}: {describe(clip[0].shape[:2])}): pass --resolution to resample them")

"""A timelapse GIF of a run's sample pictures (`samples/step-*.png`) across training."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ganforge import atomic
from ganforge.errors import GanforgeError

STEP_FILE = re.compile(r"step-(\d+)\.png$")
MIN_SIDE, MAX_SIDE = 256, 512  # frames are scaled into this range: readable text, bounded file size
BANNER = 22                    # pixels of the strip under each frame that shows the step


def sample_frames(folder: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every `step-N.png` in `folder`, in step order."""
    found = []
    for p in Path(folder).glob("step-*.png"):
        m = STEP_FILE.search(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def pick_evenly(n: int, k: int) -> list[int]:
    """At most k indices of range(n), evenly spread, always the first and the last."""
    if n <= k:
        return list(range(n))
    if k <= 1:
        return [n - 1]
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _scale(img: Image.Image, target: tuple[int, int] | None) -> Image.Image:
    """Small grids grow by whole factors (sharp pixels), large ones shrink; later frames take
    the first frame's size."""
    if target is not None:
        return img if img.size == target else img.resize(target, Image.Resampling.NEAREST)
    side = max(img.size)
    if side < MIN_SIDE:
        f = -(-MIN_SIDE // side)
        return img.resize((img.width * f, img.height * f), Image.Resampling.NEAREST)
    if side > MAX_SIDE:
        f = MAX_SIDE / side
        return img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.Resampling.LANCZOS)
    return img


def frame(img: Image.Image, step: int, target: tuple[int, int] | None = None) -> Image.Image:
    """The picture with a strip underneath reading `step 1,200`."""
    img = _scale(img.convert("RGB"), target)
    out = Image.new("RGB", (img.width, img.height + BANNER), "white")
    out.paste(img, (0, 0))
    ImageDraw.Draw(out).text((6, img.height + 3), f"step {step:,}", fill=(20, 20, 20), font=_font(15))
    return out


def build_timelapse(run_dir: str | Path, out: str | Path | None = None, *, folder: str = "samples",
                    max_frames: int = 100, frame_ms: int = 120, hold_ms: int = 1500) -> Path:
    """Write `RUN_DIR/timelapse.gif` (or `out`) from RUN_DIR/<folder>/step-*.png: frames in
    step order, at most `max_frames` (picked evenly, first and last kept), the step drawn
    under each, the last frame held for `hold_ms`. Written atomically; returns the path."""
    run_dir = Path(run_dir)
    found = sample_frames(run_dir / folder)
    if not found:
        raise GanforgeError(f"no sample pictures (step-*.png) in {run_dir / folder} to make a timelapse of")
    if max_frames < 1:
        raise GanforgeError(f"max_frames must be at least 1, got {max_frames}")
    chosen = [found[i] for i in pick_evenly(len(found), max_frames)]
    frames: list[Image.Image] = []
    steps: list[int] = []
    for step, path in chosen:
        try:
            with Image.open(path) as img:
                img.load()
                target = None if not frames else (frames[0].width, frames[0].height - BANNER)
                frames.append(frame(img, step, target))
                steps.append(step)
        except OSError:
            continue  # a picture that cannot be read (being replaced): leave it out
    if not frames:
        raise GanforgeError(f"none of the sample pictures in {run_dir / folder} could be read")
    out = Path(out) if out is not None else run_dir / "timelapse.gif"
    durations = [frame_ms] * (len(frames) - 1) + [hold_ms]
    return atomic.write(out, lambda f: frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:],
                                                      duration=durations, loop=0, optimize=False, disposal=1))


def frame_count(gif: str | Path) -> int:
    """The number of frames in a GIF (for checks)."""
    with Image.open(gif) as img:
        return getattr(img, "n_frames", 1)


__all__ = ["build_timelapse", "frame", "frame_count", "pick_evenly", "sample_frames"]

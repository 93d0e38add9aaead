"""Walks through latent space: frames between seeds, as tensors, an animated GIF or a strip.

``InterpolatePipeline.from_pretrained(run)(seeds=(3, 17), steps=24)`` returns 24 images
whose first and last are exactly ``GeneratePipeline(...)(1, seed=3)`` and ``(1, seed=17)``
(same z, same class), with spherical (default) or linear interpolation between them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from ganforge import atomic
from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.provenance import gif_comment, png_info, write_sidecar
from ganforge.viz.grid import image_grid, to_uint8

METHODS = ("slerp", "lerp")
SEED_RANGE = (-2**63, 2**64 - 1)  # what torch.Generator.manual_seed accepts
PARALLEL = 0.9995  # |cos(angle)| above this (within ~1.8 degrees): slerp is ill-conditioned, use lerp


def _weights(t: float | Sequence[float] | torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """t as a (T, 1, ..., 1) tensor broadcasting against `like`, and whether t was a scalar."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    scalar = t.dim() == 0
    return t.reshape(-1, *([1] * like.dim())), scalar


def lerp(a: torch.Tensor, b: torch.Tensor, t: float | Sequence[float] | torch.Tensor) -> torch.Tensor:
    """(1 - t) a + t b. a, b (..., D); t a number (-> a's shape) or (T,) (-> (T, ..., D))."""
    w, scalar = _weights(t, a)
    out = a + w * (b - a)
    return out[0] if scalar else out


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation along the great circle from a to b (over the last dim):
    sin((1-t) w)/sin w * a + sin(t w)/sin w * b, w the angle between them. Unit vectors stay
    unit; Gaussian z keep a typical norm instead of shrinking towards 0 as lerp's do
    midway. (Anti)parallel vectors, where the circle is undefined, fall back to lerp."""
    w_t, scalar = _weights(t, a)
    cos = (nn.functional.normalize(a, dim=-1) * nn.functional.normalize(b, dim=-1)).sum(-1, keepdim=True)
    safe = cos.abs() < PARALLEL
    omega = torch.arccos(torch.where(safe, cos, torch.zeros_like(cos)))  # (..., 1)
    sin = torch.sin(omega)  # >= 0.03 where safe; 1 elsewhere (unused there)
    spherical = (torch.sin((1 - w_t) * omega) * a + torch.sin(w_t * omega) * b) / sin
    out = torch.where(safe, spherical, a + w_t * (b - a))
    return out[0] if scalar else out


def seed_latent(seed: int, z_dim: int) -> torch.Tensor:
    """(z_dim,) z for `seed`, drawn exactly as GeneratePipeline draws sample 0 of that seed."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, z_dim, generator=g)[0]


def parse_seeds(text: str) -> list[int]:
    """"3,17" (or "3,17,42" for a longer walk) -> [3, 17]; a GanforgeError otherwise."""
    try:
        seeds = [int(s) for s in str(text).split(",")]
    except ValueError:
        seeds = []
    if len(seeds) < 2:
        raise GanforgeError(f"--interpolate expects two or more comma-separated integer seeds "
                            f"(e.g. 3,17), got {text!r}")
    return seeds


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if len(seeds) < 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise GanforgeError(f"interpolation needs two or more integer seeds, got {seeds!r}")
    for s in seeds:
        if not SEED_RANGE[0] <= s <= SEED_RANGE[1]:
            raise GanforgeError(f"seed {s} is out of range (expected {SEED_RANGE[0]} to {SEED_RANGE[1]})")
    for a, b in itertools.pairwise(seeds):
        if a == b:
            raise GanforgeError(f"consecutive seeds must differ, got {a},{b} (nothing to interpolate)")
    return [int(s) for s in seeds]


class InterpolatePipeline(Pipeline):
    """`pipe(seeds=(3, 17), steps=16)` -> frames (T, C, H, W) in [-1, 1] from seed 3 to 17."""

    last_record: dict | None = None  # the last walk's provenance (model, seeds, method)

    def latents(self, seeds: Sequence[int], steps: int = 16, method: str = "slerp") -> torch.Tensor:
        """(T, z_dim) z along the walk; T = (len(seeds) - 1) * (steps - 1) + 1, each seed's z
        at its keyframe, `steps` frames per segment counting both ends."""
        seeds = _check_seeds(seeds)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise GanforgeError(f"steps must be an integer >= 2 (frames per segment, ends included), got {steps!r}")
        if method not in METHODS:
            raise GanforgeError(f"unknown interpolation {method!r} (expected one of: {', '.join(METHODS)})")
        keys = [seed_latent(s, self.G.z_dim) for s in seeds]
        t = torch.linspace(0, 1, steps)
        mix = slerp if method == "slerp" else lerp
        path = [mix(a, b, t)[:-1] for a, b in itertools.pairwise(keys)] + [keys[-1][None]]
        z = torch.cat(path)
        z[0::steps - 1] = torch.stack(keys)  # keyframes bit-exact, whatever the rounding of t
        return z

    def _label(self, label: int | None) -> int | None:
        c_dim = self.G.c_dim
        if label is None:
            return 0 if c_dim else None  # GeneratePipeline's class for sample 0
        if not c_dim:
            raise GanforgeError(f"label {label} given, but the model is not conditional")
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < c_dim:
            raise GanforgeError(f"label must be an integer from 0 to {c_dim - 1}, got {label!r}")
        return int(label)

    @torch.no_grad()
    def __call__(self, seeds: Sequence[int] = (0, 1), steps: int = 16, *, method: str = "slerp",
                 label: int | None = None, batch_size: int = 256, output_type: str = "pt"):
        """Frames walking from seeds[0] through each following seed. Conditional models keep
        one class, `label` (default 0, as `generate` uses for a single sample). output_type
        "pt" (float (T, C, H, W) in [-1, 1]), "np" (uint8 (T, H, W, C)) or "pil" (images)."""
        if output_type not in ("pt", "np", "pil"):
            raise GanforgeError(f"output_type must be 'pt', 'np' or 'pil', got {output_type!r}")
        if self.G.resolution == 0:
            raise GanforgeError("interpolation makes image frames, and this model generates points "
                                "(use 'generate' for a scatter plot)")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise GanforgeError(f"batch_size must be a positive integer, got {batch_size!r}")
        label = self._label(label)
        z = self.latents(seeds, steps, method)
        self.last_record = self.provenance("interpolate", seed=",".join(map(str, seeds)), sampler=method,
                                           classes=label)
        frames = []
        for i in range(0, len(z), batch_size):
            zb = z[i:i + batch_size].to(self.device)
            c = None if label is None else torch.full((len(zb),), label, dtype=torch.long, device=self.device)
            frames.append(self.G(zb, c).float().cpu())
        frames = torch.cat(frames)  # (T, C, H, W)
        if output_type == "pt":
            return frames
        return to_uint8(frames) if output_type == "np" else to_pil(frames)

    def save(self, frames: torch.Tensor, path: str | Path, record: dict | None = None, **gif_options) -> Path:
        """.gif: an animation (see save_gif for options); .png: a strip, frames left to right;
        .npy: uint8 (T, H, W, C). Each carries `record` (default: the last walk's provenance)
        in its comment, text chunk or x.npy.json sidecar."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".gif", ".png", ".npy"):
            raise GanforgeError(f"{path}: unsupported output (expected .gif, .png or .npy)")
        record = record or self.last_record or self.provenance("interpolate", seed="unknown")
        if suffix == ".gif":
            return save_gif(frames, path, record=record, **gif_options)
        if suffix == ".png":
            strip = image_grid(frames, nrow=len(frames))
            return atomic.write(path, lambda f: strip.save(f, format="PNG", pnginfo=png_info(record)))
        written = atomic.write(path, lambda f: np.save(f, to_uint8(frames)))
        write_sidecar(written, record)
        return written


def to_pil(frames: torch.Tensor, scale: int = 1) -> list[Image.Image]:
    """(T, C, H, W) in [-1, 1] -> T Pillow images (L or RGB), enlarged `scale` times (nearest)."""
    x = to_uint8(frames)  # (T, H, W, C)
    images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in x]
    if scale != 1:
        images = [im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST) for im in images]
    return images


def save_gif(frames: torch.Tensor, path: str | Path, fps: float = 12.0, pingpong: bool = False,
             loop: bool = True, scale: int = 1, record: dict | None = None) -> Path:
    """An animated GIF of (T, C, H, W) frames in [-1, 1]. `pingpong` plays forwards then
    backwards (without repeating the turning frames); `loop` repeats forever; `scale`
    enlarges small images (nearest neighbour) so that 28 px frames are visible. Pillow
    stores consecutive identical frames once, with their durations added. `record` (a
    provenance record) is written as the GIF comment."""
    if frames.dim() != 4 or len(frames) < 1:
        raise GanforgeError(f"a GIF needs image frames (T, C, H, W), got shape {tuple(frames.shape)}")
    if not fps > 0 or isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise GanforgeError(f"fps must be > 0 and scale a positive integer, got fps={fps!r}, scale={scale!r}")
    images = to_pil(frames, scale)
    if pingpong and len(images) > 2:
        images = images + images[-2:0:-1]
    return write_gif(images, path, fps, loop, record)


def write_gif(images: list[Image.Image], path: str | Path, fps: float = 12.0, loop: bool = True,
              record: dict | None = None) -> Path:
    """Pillow frames -> an animated GIF (atomically), `record` as its comment."""
    duration = max(20, round(1000 / fps))  # ms per frame; browsers clamp shorter delays
    options = {"save_all": True, "append_images": images[1:], "duration": duration,
               "disposal": 1, "optimize": False, **gif_comment(record)}
    if loop:
        options["loop"] = 0  # forever; without the key the GIF plays once
    return atomic.write(Path(path), lambda f: images[0].save(f, format="GIF", **options))

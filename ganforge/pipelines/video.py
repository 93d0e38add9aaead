"""Making clips with a trained MoCoGAN: n seeded clips of any length (the motion GRU runs on
past the frames it was trained on), the same content with new motions or the same motion with
new contents (`keep`), out as one GIF of the clips side by side, a folder of GIFs (one a clip),
a PNG of frame strips, raw frames, or an MP4 when an encoder is installed; every file with its
provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganforge.data.video import check_memory
from ganforge.errors import GanforgeError
from ganforge.pipelines.generate import GeneratePipeline, _classes_text
from ganforge.provenance import write_sidecar
from ganforge.viz.grid import to_uint8
from ganforge.viz.video import frame_strips, save_clips_gif, save_strips

OUTPUTS = ("a folder (one .gif a clip)", ".gif (the clips side by side)", ".png (a row of frames a clip)",
           ".npy (uint8 (n, T, H, W, C))", ".mp4 (with imageio-ffmpeg)")
KEEPS = ("content", "motion")
MAX_FRAMES = 4096
ACTIVATION_BYTES = 24  # about what G holds a frame, per pixel and unit of width, while making it
MOTION_SEED = 1_000_003  # the innovations' own stream: a longer clip continues the shorter one


class VideoPipeline(GeneratePipeline):
    """`pipe(n, seed=0, frames=None, keep=None)` -> clips float32 (n, C, T, H, W) in [-1, 1]."""

    kind = "video"
    labels: torch.Tensor | None = None  # the last call's class labels (they name a folder's files)

    def __init__(self, generator, device="cpu"):
        super().__init__(generator, device)
        info = getattr(self.G, "data_info", None) or {}
        self.fps = float(info.get("fps", 8.0))
        self.class_names = info.get("class_names") or None

    def latents(self, n: int, seed: int, frames: int, keep: str | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(z (n, z_dim), innovations (n, frames, motion_dim)) from `seed`, on the CPU. keep
        "content": every clip has clip 0's content; "motion": every clip has clip 0's motion."""
        G = self.G
        g = torch.Generator().manual_seed(seed)
        content, h0 = torch.randn(n, G.content_dim, generator=g), torch.randn(n, G.motion_dim, generator=g)
        g.manual_seed(seed + MOTION_SEED)
        noise = torch.randn(frames, n, G.motion_dim, generator=g).transpose(0, 1)  # frame t is the same for any length
        if keep == "content":
            content = content[:1].expand(n, -1)
        elif keep == "motion":
            h0, noise = h0[:1].expand(n, -1), noise[:1].expand(n, -1, -1)
        return torch.cat([content, h0], 1), noise.contiguous()

    @torch.no_grad()
    def __call__(self, n: int, *, seed: int = 0, frames: int | None = None, batch_size: int = 16,
                 classes: int | torch.Tensor | None = None, keep: str | None = None, **_) -> torch.Tensor:
        """n clips of `frames` frames (default: as trained); a conditional model's `classes` is
        one class for all or (n,) labels (default: cycling through the classes)."""
        frames = self.G.frames if frames is None else frames
        if n < 1 or batch_size < 1:
            raise GanforgeError(f"n and batch_size must be at least 1, got {n} and {batch_size}")
        if not 1 <= frames <= MAX_FRAMES:
            raise GanforgeError(f"--frames must be in 1..{MAX_FRAMES}, got {frames}")
        if keep not in (None, *KEEPS):
            raise GanforgeError(f"--keep must be {' or '.join(KEEPS)}, got {keep!r}")
        self._check_memory(n, frames, batch_size)
        self.labels = self._labels(n, classes)
        z, noise = self.latents(n, seed, frames, keep)
        clips = []
        for i in range(0, n, batch_size):
            c = None if self.labels is None else self.labels[i:i + batch_size].to(self.device)
            clips.append(self.G(z[i:i + batch_size].to(self.device), c, frames=frames,
                                noise=noise[i:i + batch_size].to(self.device)).float().cpu())
        self.last_record = self.provenance("generate", seed=seed, frames=frames, keep=keep,
                                           classes=None if self.labels is None else _classes_text(self.labels))
        return torch.cat(clips)

    def _check_memory(self, n: int, frames: int, batch_size: int) -> None:
        G = self.G
        h, w = G.image_size
        pixels = frames * h * w
        need = n * pixels * G.channels * 4 + min(n, batch_size) * pixels * G.hparams["width"] * ACTIVATION_BYTES
        check_memory(need, f"{n} clips of {frames} frames at {w}x{h}", "ask for fewer --frames or --n, or a "
                     "smaller --batch-size")

    def save(self, clips: torch.Tensor, path: str | Path, record: dict | None = None) -> Path:
        """No suffix: a folder of GIFs, one a clip (000.gif, or 000-dress.gif for a conditional
        model); .gif: the clips side by side; .png: a row of frames a clip; .npy: uint8
        (n, T, H, W, C) and x.npy.json; .mp4: the clips side by side (needs imageio-ffmpeg)."""
        path = Path(path)
        suffix = path.suffix.lower()
        record = record or self.last_record or self.provenance("generate", seed="unknown")
        if suffix not in ("", ".gif", ".png", ".npy", ".mp4"):
            raise GanforgeError(f"--out {path}: clips are written as {', '.join(OUTPUTS)}")
        try:
            if suffix == "":
                return self._save_folder(clips, path, record)
            if suffix == ".gif":
                return save_clips_gif(clips, path, self.fps, nrow=min(len(clips), 4), record=record)
            if suffix == ".png":
                return save_strips(clips, path, record)
            if suffix == ".mp4":
                return self._save_mp4(clips, path, record)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, to_uint8(frame_strips(clips)).reshape(len(clips), clips.shape[2], *clips.shape[3:], -1))
            write_sidecar(path, record)
            return path
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror or e}") from None

    def _save_folder(self, clips: torch.Tensor, folder: Path, record: dict) -> Path:
        if folder.exists() and not folder.is_dir():
            raise GanforgeError(f"--out {folder}: exists and is not a folder (a file name needs .gif, .png or .npy)")
        named = self.labels is not None and self.class_names and len(self.labels) == len(clips)
        for i in range(len(clips)):
            name = f"{i:03d}-{self.class_names[int(self.labels[i])]}" if named else f"{i:03d}"
            save_clips_gif(clips[i:i + 1], folder / f"{name}.gif", self.fps,
                           record={**record, "clip": f"{i + 1} of {len(clips)}"})
        return folder

    def _save_mp4(self, clips: torch.Tensor, path: Path, record: dict) -> Path:
        """An MP4 through imageio's ffmpeg plugin, its provenance in x.mp4.json beside it."""
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401  (the encoder imageio drives)
        except ImportError:
            raise GanforgeError(f"--out {path}: .mp4 needs an encoder: pip install imageio imageio-ffmpeg "
                                "(or write a .gif)") from None
        from ganforge.viz.video import grid_frames
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = [np.asarray(p.convert("RGB")) for p in grid_frames(clips, min(len(clips), 4), scale=None)]
        imageio.mimwrite(path, frames, fps=self.fps, macro_block_size=16)
        write_sidecar(path, record)
        return path


"""Video: clips uint8 (N, C, T, H, W) in memory (ganforge/data/video.py), [-1, 1] in the models,
trained by the video game (ganforge/games/video.py: MoCoGAN's two discriminators). Sample
pictures are frame strips (a row of frames a fixed z: step-N.png) with the same clips playing
side by side in step-N.gif and samples/latest.gif (with provenance), which report.html shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge import provenance
from ganforge.domains.images import ImagesDomain
from ganforge.viz.video import frame_strips, save_clips_gif, save_strips


class VideoDomain:
    kind = "video"
    game = "video"          # the game that trains it (two discriminators: frames and clips)
    images = False          # (B, C, T, H, W): no NHWC layout
    picture_count = 8       # fixed-z clips in a sample picture (a conditional model: cycling through the classes)
    probe_count = 8         # fixed-z samples the collapse alarm compares with real ones

    def __init__(self, data):
        self.data = data
        self.seed: int | None = None  # the run's seed, for the GIFs' provenance

    # n real clips (n, C, T, H, W) in [-1, 1], a seeded random subset; points' spread: none
    real_sample, scale = ImagesDomain.real_sample, ImagesDomain.scale

    def info(self) -> dict:
        """Kept in the exported model's config.json: how long its clips were, how fast they play (and
        moving sprites: how they were made, so that `ganforge evaluate` remakes them)."""
        items = self.data.items
        made = {"sprites": items.shape[1], "clips": len(items)} if items is not None else {}
        return {"frames": self.data.frames, "fps": self.data.fps, **made}

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """step-N.png (a row of frames a clip), step-N.gif and latest.gif (the clips playing);
        returns the frames (for TensorBoard)."""
        samples = samples.detach().float().cpu()
        step = path.stem.removeprefix("step-").lstrip("0") or "0"
        record = provenance.record(f"training run {path.parent.parent.name}, step {step}", "training sample",
                                   created=False, seed=self.seed)
        save_strips(samples, path, record)
        gif = save_clips_gif(samples, path.with_suffix(".gif"), self.data.fps, nrow=4, record=record)
        shutil.copyfile(gif, path.parent / "latest.gif")
        return frame_strips(samples)

    def evaluation(self, cfg, run_dir: Path | None = None):
        """FVD-style and per-frame Fréchet distances and content consistency every --eval-every steps."""
        t = cfg.train
        self.seed = t.seed
        if t.eval_every <= 0:
            return None
        from ganforge.metrics.video import VideoEvaluation  # (loads the classifiers)
        return VideoEvaluation(self, t.eval_every, t.eval_samples, t.seed)

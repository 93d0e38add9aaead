"""2-D (and other low-dimensional) points: scatter pictures over D's decision surface,
mode coverage of mixtures (the PacGAN/VEEGAN protocol) as the measure."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge.domains.evaluation import SampledEvaluation
from ganforge.metrics import MODE_SAMPLES, mode_coverage
from ganforge.viz.decision import auto_extent, save_decision_surface
from ganforge.viz.grid import save_samples


class PointsDomain:
    kind = "points"
    images = False          # no NCHW layout to make channels_last
    picture_count = 1000    # points in a sample picture
    probe_count = 256       # fixed-z samples the collapse alarm compares with real ones

    def __init__(self, data):
        self.data = data
        # real points drawn under the generated ones in every picture
        self.reference = self.real_sample(1000, torch.Generator().manual_seed(0), first=True)

    def real_sample(self, n: int, generator: torch.Generator, first: bool = False) -> Tensor:
        """n real points (n, D): drawn afresh from a toy distribution, or a random subset of a
        finite set (`first`: its first n, as the pictures always showed)."""
        if hasattr(self.data, "sample"):
            return self.data.sample(n, generator)
        x = self.data.x
        return x[:n] if first else x[torch.randperm(len(x), generator=generator)[:n]]

    def scale(self) -> float:
        """The points' std over all coordinates, from a fixed sample: the toy models learn in
        unit-scale coordinates."""
        x = self.real_sample(10_000, torch.Generator().manual_seed(0)) if hasattr(self.data, "sample") else self.data.x
        return float(x.float().std().clamp(min=1e-6))

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """2-D samples over D's decision surface (one frame for the whole run, so the
        timelapse's frames compare); other points as a scatter beside the real ones.
        Returns the points (for TensorBoard)."""
        if critic is not None and samples.shape[1] == 2:
            with torch.no_grad():
                save_decision_surface(critic, self.reference, samples, path,
                                      extent=auto_extent(self.reference, self.reference, margin=0.25))
        else:
            save_samples(samples, path, self.reference, nrow=nrow)
        return samples

    def info(self) -> dict:
        return {}

    def evaluation(self, cfg, run_dir: Path | None = None) -> ModeEvaluation | None:
        """Mixtures are scored every --eval-every steps and at the end; other points never."""
        modes = getattr(self.data, "modes", None)
        return ModeEvaluation(modes, self.data.std, cfg.train.eval_every, cfg.train.seed) if modes is not None else None


class ModeEvaluation(SampledEvaluation):
    """Mode coverage of MODE_SAMPLES samples of the EMA generator (seeded z)."""

    def __init__(self, modes: Tensor, std: float, every: int, seed: int):
        self.modes, self.std, self.every, self.seed = modes, std, every, seed

    @torch.no_grad()
    def _measure(self, G: nn.Module) -> dict[str, float]:
        device = next(G.parameters()).device
        g = torch.Generator(device).manual_seed(self.seed + 4)
        z = torch.randn(MODE_SAMPLES, G.z_dim, device=device, generator=g)
        return mode_coverage(G(z, None), self.modes, self.std)

    def alarms(self, health, step: int, result: dict[str, float]) -> list:
        return health.check_modes(step, result["modes"], len(self.modes))

"""What the 2-D lab shows, computed from a `Lab` with no UI code: one frame as a JSON dict.

The renderer draws from its own copies of G and D: `snapshot()` (on the training thread,
~0.1 ms) copies the weights and counters, and `frame()` can then run on another thread
while training goes on.

Coordinates and values are sent as integers (milli-units) so that a frame stays small and
its encoding cheap; the page divides by 1000. Fixed inputs (the real sample, the shown z,
the z-grid, the heat-map grid) are drawn once per lab, so points move smoothly between
frames instead of flickering with fresh noise.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor

from ganforge.metrics import mode_coverage
from ganforge.playground.lab import Z_DIM, Lab

SHOWN_POINTS = 400     # real and generated points drawn
ARROWS = 100           # generated points that carry a gradient arrow
HEAT = 32              # the decision surface is HEAT x HEAT cells
Z_GRID = 15            # the manifold is G over a Z_GRID x Z_GRID grid of z in [-2, 2]^2
METRIC_SAMPLES = 2500  # the mode-coverage protocol's sample count
PROBABILITY_LOSSES = ("minimax", "non-saturating")  # D(x) = sigmoid(logit) is a probability


def _milli(t: Tensor) -> list:
    # a diverged model gives NaN/inf, which JSON cannot carry: clamp to a far-off value
    t = torch.nan_to_num(t.detach(), nan=0.0, posinf=1e6, neginf=-1e6).clamp(-1e6, 1e6)
    return (t * 1000).round().to(torch.int32).flatten().tolist()


class Renderer:
    """`frame()` -> the dict the page draws; `extent` is the half-width of the view square."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.G = copy.deepcopy(lab.G).requires_grad_(False)
        self.D = copy.deepcopy(lab.D).requires_grad_(False)
        self._pairs = [*zip(self.G.parameters(), lab.G.parameters()), *zip(self.D.parameters(), lab.D.parameters())]
        self.state: dict = {"step": 0, "d_updates": 0, "losses": {"D": None, "G": None}}
        g = torch.Generator().manual_seed(lab.settings.seed + 10)
        self.real = lab.dist.sample(SHOWN_POINTS, g)                       # (P, 2)
        self.z = torch.randn(SHOWN_POINTS, Z_DIM, generator=g)             # (P, Z)
        self.metric_z = torch.randn(METRIC_SAMPLES, Z_DIM, generator=g)    # (M, Z)
        self.extent = self._extent(lab.dist.sample(5000, g))
        ticks = torch.linspace(-2, 2, Z_GRID)
        self.z_grid = torch.cartesian_prod(ticks, ticks)                   # (Z_GRID^2, 2), row-major
        self.z_both = torch.cat([self.z, self.z_grid])
        self.frames, self.heat, self.arrows = 0, None, None
        centres = (torch.arange(HEAT) + 0.5) / HEAT * 2 - 1                 # cell centres in [-1, 1]
        ys, xs = torch.meshgrid(-centres, centres, indexing="ij")          # top row = largest y
        self.heat_xy = torch.stack([xs, ys], dim=-1).reshape(-1, 2) * self.extent  # (HEAT^2, 2)
        self.has_modes = lab.dist.modes is not None and lab.dist.name != "drawn"

    @staticmethod
    def _extent(sample: Tensor) -> float:
        # a square view a little larger than the data, whatever its spread
        return float(sample.abs().quantile(0.995)) * 1.35 + 0.05

    def data(self) -> dict:
        """The fixed real sample and the view, sent once per lab (not in every frame)."""
        return {"type": "data", "distribution": self.lab.dist.name, "extent": round(self.extent, 4),
                "real": _milli(self.real)}

    @torch.no_grad()
    def snapshot(self) -> None:
        """Copy the lab's weights and counters for the next frame (call on the training thread)."""
        for mine, theirs in self._pairs:
            mine.copy_(theirs)
        lab = self.lab
        self.state = {"step": lab.step, "d_updates": lab.d_updates, "losses": lab.take_losses()}

    def frame(self, steps_per_s: float, playing: bool, metrics: bool = True) -> dict:
        """The frame of the last snapshot. While playing, the heat map and the arrows (a
        frame's two largest costs) are refreshed on alternate frames; a paused frame
        refreshes everything."""
        state = self.state
        with torch.no_grad():
            out = self.G(self.z_both)                                      # one G call for both
            fake, manifold = out[:SHOWN_POINTS], out[SHOWN_POINTS:]        # (P, 2), (Z_GRID^2, 2)
            if not playing or self.frames % 2 == 0 or self.heat is None:
                self.heat = self._heat()
        if not playing or self.frames % 2 == 1 or self.arrows is None:
            self.arrows = _milli(self._arrows(fake[:ARROWS]))
        heat, heat_range = self.heat
        self.frames += 1
        return {
            "type": "frame", "step": state["step"], "d_updates": state["d_updates"],
            "diverged": not bool(torch.isfinite(fake).all()),
            "steps_per_s": round(steps_per_s, 1), "playing": playing, "extent": round(self.extent, 4),
            "fake": _milli(fake), "arrows": self.arrows, "manifold": _milli(manifold), "z_grid": Z_GRID,
            "heat": heat, "heat_size": HEAT, "heat_range": heat_range,
            "losses": {k: (v if v is not None and math.isfinite(v) else None)
                       for k, v in state["losses"].items()},
            "metrics": self.metrics() if metrics and self.has_modes else None,
        }

    def _heat(self) -> tuple[list, list[float]]:
        """D over the view as 0..255, probabilities for minimax/NS, otherwise min-max scaled scores."""
        logits = torch.nan_to_num(self.D(self.heat_xy))                   # (HEAT^2,)
        if self.lab.settings.loss in PROBABILITY_LOSSES:
            values, lo, hi = torch.sigmoid(logits), 0.0, 1.0
        else:
            lo, hi = float(logits.min()), float(logits.max())
            values = (logits - lo) / max(hi - lo, 1e-6)
        return (values.clamp(0, 1) * 255).round().to(torch.uint8).tolist(), [round(lo, 4), round(hi, 4)]

    def _arrows(self, fake: Tensor) -> Tensor:
        """-dL_G/dx on each shown fake point: where G's loss pushes it, scaled to the view."""
        x = fake.detach().requires_grad_(True)
        loss = self.lab.objective.g(self.D(x)) * len(x)                    # per-sample gradients
        (grad,) = torch.autograd.grad(loss, x)
        step = torch.nan_to_num(-grad)
        longest = step.norm(dim=1).max().clamp(min=1e-12)
        return step / longest * (0.12 * self.extent)                       # (A, 2), longest = 12% of view

    def metrics(self) -> dict:
        """Modes captured and high-quality % of 2,500 samples (ring8, grid25)."""
        with torch.no_grad():
            samples = self.G(self.metric_z)
        if not torch.isfinite(samples).all():
            return {"modes": 0, "total_modes": len(self.lab.dist.modes), "hq_percent": 0.0}
        result = mode_coverage(samples, self.lab.dist.modes, self.lab.dist.std)
        return {"modes": int(result["modes"]), "total_modes": len(self.lab.dist.modes),
                "hq_percent": round(result["hq_percent"], 2)}

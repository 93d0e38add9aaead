"""2-D toy distributions (ring8, grid25, spiral, moons) and CSV files of 2-D points."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ganforge.data.dataset import Dataset, ToyDistribution
from ganforge.errors import GanforgeError

SPIRAL_NOISE = 0.02  # std in output units; the arms sit ~0.44 apart
MOONS_NOISE = 0.03   # std in output units; the moons sit ~0.33 apart at their closest


def ring8() -> ToyDistribution:
    """8 Gaussians (std 0.01) on the unit circle at angles 2*pi*i/8."""
    # arange(8)/8, not linspace(0, 2pi, 8): the latter puts modes 0 and 7 on the same spot.
    angles = 2 * math.pi * torch.arange(8, dtype=torch.float64) / 8
    modes = torch.stack([angles.cos(), angles.sin()], dim=1).float()  # (8, 2)
    return ToyDistribution("ring8", modes=modes, std=0.01)


def grid25() -> ToyDistribution:
    """25 Gaussians (std 0.05) at {-4, -2, 0, 2, 4}^2."""
    ticks = torch.arange(-4.0, 5.0, 2.0)
    modes = torch.cartesian_prod(ticks, ticks)  # (25, 2)
    return ToyDistribution("grid25", modes=modes, std=0.05)


def _sample_spiral(n: int, generator: torch.Generator) -> torch.Tensor:
    # The Swiss roll's 2-D section (t in [1.5pi, 4.5pi]), divided by 4.5pi to fit the unit disc.
    device = generator.device
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator, device=device))
    points = torch.stack([t * t.cos(), t * t.sin()], dim=1) / (4.5 * math.pi)  # (n, 2)
    return points + SPIRAL_NOISE * torch.randn(n, 2, generator=generator, device=device)


def _sample_moons(n: int, generator: torch.Generator) -> torch.Tensor:
    # sklearn's make_moons geometry, centred and divided by 1.5 to fit [-1, 1] x [-0.5, 0.5].
    device = generator.device
    theta = math.pi * torch.rand(n, generator=generator, device=device)
    inner = torch.rand(n, generator=generator, device=device) < 0.5
    outer_pts = torch.stack([theta.cos(), theta.sin()], dim=1)             # (n, 2)
    inner_pts = torch.stack([1 - theta.cos(), 0.5 - theta.sin()], dim=1)   # (n, 2)
    points = torch.where(inner[:, None], inner_pts, outer_pts)
    points = (points - torch.tensor([0.5, 0.25], device=device)) / 1.5
    return points + MOONS_NOISE * torch.randn(n, 2, generator=generator, device=device)


def spiral() -> ToyDistribution:
    """A noisy 2-D spiral (Swiss-roll section) inside the unit disc."""
    return ToyDistribution("spiral", modes=None, std=None, sampler=_sample_spiral)


def moons() -> ToyDistribution:
    """Two interleaving noisy half circles inside [-1, 1] x [-0.5, 0.5]."""
    return ToyDistribution("moons", modes=None, std=None, sampler=_sample_moons)


TOYS = {"ring8": ring8, "grid25": grid25, "spiral": spiral, "moons": moons}


def _parse_row(line: str) -> list[float] | None:
    """Numbers on one CSV line, or None when a field is not a number."""
    fields = line.split(",") if "," in line else line.split()
    try:
        return [float(f) for f in fields]
    except ValueError:
        return None


def load_points_csv(path: str | Path) -> Dataset:
    """Read 2-D points: one ``x,y`` (or ``x y``) per line, an optional header row first."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise GanforgeError(f"{path}: cannot read as a text CSV of points ({e})") from None
    rows, seen_data = [], False
    for lineno, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = _parse_row(line)
        if row is None and not seen_data:
            seen_data = True  # the first non-blank line may be a header
            continue
        seen_data = True
        if row is None or len(row) != 2 or not all(math.isfinite(v) for v in row):
            raise GanforgeError(f"{path} line {lineno}: expected 2 finite numbers (x,y), "
                                f"got {line.strip()!r}")
        rows.append(row)
    if not rows:
        raise GanforgeError(f"{path}: no points found (expected lines of 'x,y' or 'x y')")
    return Dataset(name=str(path), kind="points", x=torch.tensor(rows, dtype=torch.float32))

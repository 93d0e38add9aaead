"""Loss and metric curves as PNG, from the rows of a run's `metrics.jsonl`.

matplotlib draws on a `Figure` with an Agg canvas of its own: no pyplot, so no display is
opened and the user's global backend is left as it is.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ganforge import atomic

# (panel title, stat-name prefix): a stat goes to the first panel whose prefix matches
GROUPS = (
    ("Discriminator loss", "Loss/D"),
    ("Generator loss", "Loss/G"),
    ("Discriminator logits", "D/"),   # (only the D/*logit* stats: their scale differs)
    ("Discriminator outputs", "D/"),
    ("Gradient norms", "Grad/"),
    ("Metrics", "Metric/"),
    ("Throughput", "Speed/"),
    ("Learning rates", "LR/"),
)
SKIPPED = ("Health/",)  # alarms are listed in the report, not drawn
FEW = 20                 # up to this many points: markers, no smoothing


def read_rows(path: str | Path) -> list[dict]:
    """The JSON rows of a metrics.jsonl; a line being written (cut short) is skipped."""
    rows = []
    for line in Path(path).read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def group_of(name: str) -> str | None:
    if name.startswith(SKIPPED):
        return None
    if name.startswith("D/") and "logit" not in name:
        return "Discriminator outputs"
    for title, prefix in GROUPS:
        if name == prefix.rstrip("/") or name.startswith(prefix if prefix.endswith("/") else prefix + "/"):
            return title
    return "Other"


def series(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{stat: (steps, values)} over the training rows (those with a step), in step order;
    nulls and non-numbers become NaN, which breaks the line instead of bending it."""
    raw: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        step = row.get("step")
        if not isinstance(step, (int, float)) or isinstance(step, bool):
            continue  # `ganforge evaluate` records: they go to the report's table
        for key, value in row.items():
            if key == "step" or not isinstance(key, str):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                raw.setdefault(key, []).append((float(step), float(value)))
            elif value is None:
                raw.setdefault(key, []).append((float(step), math.nan))
    out = {}
    for key, points in raw.items():
        arr = np.array(sorted(points, key=lambda p: p[0]), dtype=np.float64).reshape(-1, 2)
        out[key] = (arr[:, 0], arr[:, 1])
    return out


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """Debiased exponential moving average (TensorBoard's slider); NaNs stay NaN and are skipped."""
    if weight <= 0 or np.isfinite(values).sum() <= FEW:  # a handful of points: shown as they are
        return values.copy()
    out = np.full_like(values, np.nan)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(values):
        if not math.isfinite(v):
            continue
        acc, norm = weight * acc + (1 - weight) * v, weight * norm + (1 - weight)
        out[i] = acc / norm
    return out


def curves_figure(rows: list[dict], smoothing: float = 0.6, width: float = 11.0) -> Figure:
    """One panel per stat group (two columns); raw values faint, smoothed on top."""
    data = series(rows)
    panels: dict[str, list[str]] = {}
    if "Speed/images_per_s" in data:  # steps/s is the same curve, on another scale
        data.pop("Speed/steps_per_s", None)
    for name in data:
        title = group_of(name)
        if title is not None:
            panels.setdefault(title, []).append(name)
    order = [t for t, _ in GROUPS] + ["Other"]
    titles = [t for t in order if t in panels]
    cols = 2 if len(titles) > 1 else 1
    nrows = max(1, math.ceil(len(titles) / cols))
    height = 3.0 * nrows
    fig = Figure(figsize=(width, height), dpi=100)
    # fixed margins in inches: matplotlib's constrained layout cost 40 % of the drawing time
    fig.subplots_adjust(left=0.07, right=0.98, top=1 - 0.35 / height, bottom=0.5 / height,
                        wspace=0.2, hspace=0.85 / 3.0)
    FigureCanvasAgg(fig)
    if not titles:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no stats logged yet", ha="center", va="center", fontsize=14, color="grey")
        ax.set_axis_off()
        return fig
    for i, title in enumerate(titles):
        _panel(fig.add_subplot(nrows, cols, i + 1), title, panels[title], data, smoothing)
    return fig


def _panel(ax, title: str, names: list[str], data: dict, smoothing: float) -> None:
    for j, name in enumerate(names):
        steps, values = data[name]
        colour = f"C{j % 10}"
        few = np.isfinite(values).sum() <= FEW
        smoothed = smooth(values, smoothing)
        if not np.array_equal(smoothed, values, equal_nan=True):
            ax.plot(steps, values, color=colour, alpha=0.25, linewidth=1)
        ax.plot(steps, smoothed, color=colour, linewidth=1.6, label=name,
                marker="o" if few else None, markersize=3)
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel("step", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if title == "Learning rates" and all(np.nanmin(data[n][1], initial=np.inf) > 0 for n in names):
        ax.set_yscale("log")
    ax.legend(fontsize=8, loc="best", frameon=False)


def curves_png(rows: list[dict], smoothing: float = 0.6) -> bytes:
    """The curves as PNG bytes (for embedding)."""
    fig = curves_figure(rows, smoothing)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def plot_curves(rows: list[dict] | str | Path, path: str | Path, smoothing: float = 0.6) -> Path:
    """Write the curves of `rows` (or of a metrics.jsonl path) to a PNG at `path`, atomically."""
    if not isinstance(rows, list):
        rows = read_rows(rows)
    return atomic.write_bytes(path, curves_png(rows, smoothing))

"""Warnings before a GAN fails: divergence, mode collapse, a discriminator that wins.

The trainer hands the monitor what it already has at each log interval (the averaged stats
row, a batch of samples from the fixed z); the monitor decides, prints each kind of alarm
once with a likely cure, appends it to RUN_DIR/alarms.jsonl (the report lists them) and
reports `Health/<alarm>` = 1 as a stat while it holds. Divergence itself (non-finite
losses or weights) is handled by the trainer: it rolls back and halves the learning rates.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

CURES = {
    "non_finite": "if it recurs, try a lower --lr, "
                  "--loss wgan-gp or --r1-gamma 1",
    "mode_collapse": "try --loss wgan-gp, --r1-gamma 1, --diffaugment, a smaller --lr-g or a larger batch",
    "modes_dropped": "try --r1-gamma 0.1, a faster D (--lr-d 2x --lr-g) or a longer EMA half-life",
    "d_overfitting": "try --diffaugment, --r1-gamma 1, a lower --lr-d or more data",
}


@dataclass
class Alarm:
    step: int
    alarm: str        # one of CURES
    message: str      # what was seen, with the numbers
    cure: str         # what to try


@dataclass
class Thresholds:
    collapse_ratio: float = 0.15   # fixed-z sample diversity / real diversity below this: collapse
    sign_real: float = 0.9         # r_t = E[sign D(x_real)] above this (stylegan2-ada's overfitting signal)
    fake_prob: float = 0.1         # and mean D(G(z)) below this: D wins
    patience: int = 3              # consecutive log intervals a condition must hold
    warmup: float = 0.05           # fraction of training before collapse/overfitting checks start,
    warmup_cap: int = 1000         # but no more steps than this (a --minutes run has huge --steps)
    modes_drop: int = 2            # captured modes this far under the best so far


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean L2 distance over all pairs of samples (N, ...) -> float (diversity)."""
    flat = x.detach().float().flatten(1)
    return float(torch.pdist(flat).mean()) if len(flat) > 1 else 0.0


class HealthMonitor:
    def __init__(self, log_path: Path, total_steps: int, thresholds: Thresholds | None = None):
        self.log_path, self.total_steps = log_path, total_steps
        self.t = thresholds or Thresholds()
        self.fired: list[Alarm] = []
        self._streaks: dict[str, int] = {}
        self.best_modes = 0.0

    # ----------------------------------------------------------------- checks
    def check_row(self, step: int, row: dict[str, float]) -> list[Alarm]:
        """The D-winning condition from one log interval's stats."""
        r_t, fake_prob = row.get("D/sign_real"), row.get("D/D(G(z))")
        if r_t is None or fake_prob is None or not self._warm(step):
            return []
        held = r_t > self.t.sign_real and fake_prob < self.t.fake_prob
        if not self._streak("d_overfitting", held):
            return []
        grad = row.get("Grad/G/norm")
        grad_text = f", |grad G| {grad:.3g}" if grad is not None and math.isfinite(grad) else ""
        return self._fire(step, "d_overfitting",
                          f"the discriminator is winning: E[sign D(x_real)] = {r_t:.2f}, mean D(G(z)) = "
                          f"{fake_prob:.3f}{grad_text} for {self.t.patience} log intervals")

    def check_diversity(self, step: int, fake: torch.Tensor, real_diversity: float) -> list[Alarm]:
        """Mode collapse: the fixed-z samples' spread against the real data's."""
        if not self._warm(step) or real_diversity <= 0:
            return []
        ratio = mean_pairwise_distance(fake) / real_diversity
        if not self._streak("mode_collapse", ratio < self.t.collapse_ratio):
            return []
        return self._fire(step, "mode_collapse",
                          f"mode collapse: the samples of {len(fake)} different fixed inputs differ {ratio:.2f}x as much as "
                          f"real data does (alarm below {self.t.collapse_ratio})")

    def check_modes(self, step: int, modes: float, total: int) -> list[Alarm]:
        """2-D mixtures: captured modes falling well under the best so far, once the run had
        found at least half of the `total` (early counts swing while modes are being found)."""
        self.best_modes = max(self.best_modes, modes)
        if self.best_modes < total / 2 or modes > self.best_modes - self.t.modes_drop:
            return []
        return self._fire(step, "modes_dropped",
                          f"modes captured dropped to {modes:.0f} from {self.best_modes:.0f}")

    def non_finite(self, step: int, what: str, rollback_to: int, lr_g: float, lr_d: float) -> list[Alarm]:
        return self._fire(step, "non_finite",
                          f"{what} is not finite at step {step}: rolled back to step {rollback_to}, "
                          f"learning rates halved to G {lr_g:.3g}, D {lr_d:.3g}", once=False)

    # ----------------------------------------------------------------- plumbing
    def _warm(self, step: int) -> bool:
        return step >= min(self.t.warmup * self.total_steps, self.t.warmup_cap)

    def _streak(self, name: str, held: bool) -> bool:
        self._streaks[name] = self._streaks.get(name, 0) + 1 if held else 0
        return self._streaks[name] >= self.t.patience

    def _fire(self, step: int, name: str, message: str, once: bool = True) -> list[Alarm]:
        alarm = Alarm(step, name, message, CURES[name])
        if once and any(a.alarm == name for a in self.fired):
            return [alarm]  # still holds: a stat, but no new line
        self.fired.append(alarm)
        print(f"warning: step {step}: {message}; {alarm.cure}", file=sys.stderr)
        try:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(asdict(alarm)) + "\n")
        except OSError:
            pass  # the warning was printed; the run directory's own checks report write errors
        return [alarm]

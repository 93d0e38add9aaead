"""D's logit, calibrated so that it estimates log p_data(x) / p_G(x).

A GAN's discriminator is optimal only in theory: trained against a moving G (under hinge,
WGAN or R1 losses, and against G rather than the exported EMA copy) its logits are off in
scale and offset. DRS and MH-GAN both need the density ratio, so both papers calibrate D
on held-out real data and fresh samples. Here by logistic (Platt) scaling: a and b fitted
so that sigmoid(a * D(x) + b) predicts "real" on a balanced set of held-out real samples and
samples of the generator being sampled; a * D(x) + b is then the log density ratio's estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.sampling.real import RealSet

RIDGE = 1e-4  # keeps Newton's steps finite when D separates the two sets perfectly


@torch.no_grad()
def scores(D: nn.Module, x: torch.Tensor, labels: torch.Tensor | None, batch_size: int = 256) -> torch.Tensor:
    """D's raw logits (N,) of x, in batches on D's device, returned on the CPU in float64."""
    device = next(D.parameters()).device
    out = [D(x[i:i + batch_size].to(device), None if labels is None else labels[i:i + batch_size].to(device))
           for i in range(0, len(x), batch_size)]
    return torch.cat(out).reshape(-1).double().cpu()


def fit_logistic(real: torch.Tensor, fake: torch.Tensor, iterations: int = 50) -> tuple[float, float]:
    """(a, b) maximising the likelihood of sigmoid(a * s + b) = P(real | s): Newton's method
    on two parameters, float64, with a small ridge on a and b."""
    s = torch.cat([real, fake]).double()
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).double()
    X = torch.stack([s, torch.ones_like(s)], dim=1)                           # (N, 2)
    w = torch.tensor([1.0, 0.0], dtype=torch.float64)                           # start: D as it is
    for _ in range(iterations):
        p = torch.sigmoid(X @ w)
        grad = X.T @ (p - y) / len(s) + RIDGE * w
        hess = (X.T * (p * (1 - p))) @ X / len(s) + RIDGE * torch.eye(2, dtype=torch.float64)
        step = torch.linalg.solve(hess, grad)
        w = w - step
        if step.abs().max() < 1e-10:
            break
    return float(w[0]), float(w[1])


@dataclass
class CalibratedCritic:
    """``critic(x, c)`` -> a * D(x, c) + b (N,) float64: the estimated log p_data / p_G."""

    D: nn.Module
    a: float
    b: float
    note: str                  # what calibrated it, e.g. "2000 images of fashion-mnist's test split (held out)"

    def __call__(self, x: torch.Tensor, c: torch.Tensor | None = None, batch_size: int = 256) -> torch.Tensor:
        return self.a * scores(self.D, x, c, batch_size) + self.b

    @property
    def settings(self) -> dict:
        return {"calibration": "logistic", "calibration_a": round(self.a, 6), "calibration_b": round(self.b, 6),
                "calibration_data": self.note}


def calibrate(D: nn.Module, real: RealSet, fake: torch.Tensor, fake_labels: torch.Tensor | None,
              batch_size: int = 256) -> CalibratedCritic:
    """Fit the logistic calibration of D on held-out `real` against generated `fake` samples."""
    if len(real.x) < 2 or len(fake) < 2:
        raise GanforgeError(f"calibrating D needs real and generated samples, got {len(real.x)} and {len(fake)}")
    a, b = fit_logistic(scores(D, real.x, real.labels, batch_size), scores(D, fake, fake_labels, batch_size))
    note = real.note
    if a <= 0:  # D ranks generated samples as the more real ones: it carries no usable signal, so
        a, b = 0.0, 0.0  # every sample gets the same score and DRS / MH reduce to plain sampling
        note += "; D told real from generated no better than chance: slope clamped to 0 (plain sampling)"
    return CalibratedCritic(D, a, b, note)

"""Losses: objectives on logits (objectives.py) composed with penalties (penalties.py)."""

from __future__ import annotations

from ganforge.losses.objectives import (
                                        Objective,
                                        accuracy,
                                        hinge,
                                        least_squares,
                                        minimax,
                                        non_saturating,
                                        wasserstein,
)
from ganforge.losses.penalties import clip_weights, gradient_penalty, r1_penalty

# CLI loss name -> (objective, Lipschitz constraint): "clip", "gp" or None
LOSSES: dict[str, tuple[Objective, str | None]] = {
    "minimax": (minimax, None),
    "non-saturating": (non_saturating, None),
    "wgan": (wasserstein, "clip"),
    "wgan-gp": (wasserstein, "gp"),
    "lsgan": (least_squares, None),
    "hinge": (hinge, None),
}

__all__ = ["LOSSES", "Objective", "accuracy", "clip_weights", "gradient_penalty", "hinge",
           "least_squares", "minimax", "non_saturating", "r1_penalty", "wasserstein"]

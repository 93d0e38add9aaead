"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))).

The samples are cut into `splits` consecutive parts (as the original code does); each part
gets its own marginal p(y) and score, and the mean and standard deviation (ddof = 0) of the
part scores are reported. 1 <= IS <= number of classes: 1 when every prediction is the
same, C when predictions are confident and spread evenly over C classes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.metrics.fid import as_features


def _log_probs(x: Tensor, from_logits: bool | None) -> Tensor:
    """Logits or probabilities (N, C) -> log p(y|x) (N, C); probabilities may hold zeros (-inf)."""
    looks_like_probs = bool((x >= 0).all() and (x <= 1).all()
                            and torch.allclose(x.sum(1), torch.ones(len(x), dtype=x.dtype), atol=1e-4))
    if from_logits is None:
        from_logits = not looks_like_probs
    if from_logits:
        return torch.log_softmax(x, dim=1)
    if not looks_like_probs:
        raise GanforgeError("inception_score: from_logits=False but the rows are not probabilities "
                            "(entries in [0, 1] summing to 1); pass logits with from_logits=True")
    return (x / x.sum(1, keepdim=True)).log()  # renormalise the 1e-4 slack


def inception_score(logits_or_probs: Any, splits: int = 10, from_logits: bool | None = None) -> dict[str, float]:
    """IS of class predictions (N, C), numpy or torch -> {"is_mean", "is_std"} over `splits` parts.

    `from_logits=None` decides from the values: rows of entries in [0, 1] that sum to 1
    are probabilities, anything else is logits.
    """
    x = as_features(logits_or_probs, "predictions", "inception_score")
    if splits < 1 or x.shape[0] < splits:
        raise GanforgeError(f"inception_score: needs 1 <= splits <= number of samples, got splits={splits} "
                            f"for {x.shape[0]} samples")
    if x.shape[1] < 2:
        raise GanforgeError(f"inception_score: predictions need at least 2 classes (N, C), got {tuple(x.shape)}")
    log_p = _log_probs(x, from_logits)
    n = x.shape[0]
    bounds = [i * n // splits for i in range(1, splits)]  # the original's parts: [i N // s, (i+1) N // s)
    scores = torch.stack([_score(part) for part in torch.tensor_split(log_p, bounds)])
    return {"is_mean": float(scores.mean()), "is_std": float(scores.std(correction=0))}


def _score(log_p: Tensor) -> Tensor:
    """exp(mean KL(p(y|x) || p(y))) for one part, log p (n, C)."""
    p = log_p.exp()                                              # (n, C)
    marginal = p.mean(0, keepdim=True)                           # (1, C)
    kl = torch.special.xlogy(p, p) - torch.special.xlogy(p, marginal)  # 0 log 0 = 0
    return kl.sum(1).mean().exp()

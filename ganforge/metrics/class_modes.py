"""Mode counting for labelled data: which classes a generator's samples fall into.

A domain classifier labels each generated sample (argmax of its logits); the histogram of
predicted classes gives

- ``classes_covered``: classes that receive at least ``min_share`` (default 0.1) of the
  share they hold in the real data, i.e. ``p_fake[k] >= min_share * p_real[k]``. With ten
  balanced classes that is 1 % of the samples: a handful of stray misclassified samples
  does not count as covering a class, a class the generator draws rarely but really still
  does;
- ``reverse_kl``: KL(p_fake || p_real) in nats, 0 when the predicted class distribution
  equals the real one, log(K) when every sample lands in one of K balanced classes.
"""

from __future__ import annotations

import math

import torch

from ganforge.errors import GanforgeError

MIN_SHARE = 0.1  # a class is covered at >= 10 % of its real share


def class_counts(predictions: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """Logits ``(N, K)`` (argmax taken) or predicted labels ``(N,)`` -> counts ``(K,)`` float64."""
    if predictions.dim() == 2:
        num_classes = num_classes or predictions.shape[1]
        predictions = predictions.argmax(1)
    elif predictions.dim() != 1 or predictions.is_floating_point():
        raise GanforgeError(f"class counts need logits (N, K) or integer labels (N,), got "
                            f"{predictions.dtype} {tuple(predictions.shape)}")
    if num_classes is None:
        raise GanforgeError("class counts from labels need num_classes")
    if len(predictions) and (predictions.min() < 0 or predictions.max() >= num_classes):
        raise GanforgeError(f"predicted labels must lie in 0..{num_classes - 1}")
    return torch.bincount(predictions.cpu().long(), minlength=num_classes).double()


def _distribution(counts: torch.Tensor, what: str) -> torch.Tensor:
    counts = torch.as_tensor(counts, dtype=torch.float64).flatten()
    if len(counts) == 0 or not torch.isfinite(counts).all() or (counts < 0).any() or counts.sum() <= 0:
        raise GanforgeError(f"{what} must be non-negative, finite and not all zero, got {counts.tolist()}")
    return counts / counts.sum()


def class_modes(counts: torch.Tensor, real: torch.Tensor | None = None,
                min_share: float = MIN_SHARE) -> dict[str, float]:
    """Predicted-class histogram ``counts (K,)`` -> ``{"classes_covered", "num_classes",
    "reverse_kl"}``. ``real`` is the real class histogram or distribution (default uniform)."""
    p_fake = _distribution(counts, "the generated class counts")
    p_real = torch.full_like(p_fake, 1 / len(p_fake)) if real is None else _distribution(real, "the real class counts")
    if len(p_real) != len(p_fake):
        raise GanforgeError(f"class histograms of different lengths: {len(p_fake)} generated vs {len(p_real)} real")
    if not 0 < min_share <= 1:
        raise GanforgeError(f"min_share must be in (0, 1], got {min_share}")
    # relative slack: 10 of 1000 samples is exactly 10 % of a 10 % share, despite rounding
    covered = (p_fake * (1 + 1e-9) >= min_share * p_real) & (p_fake > 0)
    return {"classes_covered": float(covered.sum()), "num_classes": float(len(p_fake)),
            "reverse_kl": reverse_kl(p_fake, p_real)}


def reverse_kl(p_fake: torch.Tensor, p_real: torch.Tensor) -> float:
    """KL(p_fake || p_real) in nats; infinite when the fake puts mass where the real has none."""
    mask = p_fake > 0
    if (p_real[mask] == 0).any():
        return math.inf
    return float((p_fake[mask] * (p_fake[mask] / p_real[mask]).log()).sum())


def class_modes_from_logits(fake_logits: torch.Tensor, real_labels: torch.Tensor | None = None,
                            min_share: float = MIN_SHARE) -> dict[str, float]:
    """Registry form: classifier logits of samples ``(N, K)`` and, optionally, the real
    labels ``(M,)`` giving the real class distribution (uniform when None)."""
    fake_logits = torch.as_tensor(fake_logits)
    if fake_logits.dim() != 2 or len(fake_logits) == 0:
        raise GanforgeError(f"class modes need classifier logits (N, K) of the samples, got shape "
                            f"{tuple(fake_logits.shape)}")
    counts = class_counts(fake_logits)
    real = None if real_labels is None else class_counts(torch.as_tensor(real_labels), len(counts))
    return class_modes(counts, real, min_share)

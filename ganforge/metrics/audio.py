"""The audio domain's measures, WaveGAN's paper's protocol with ganforge's own classifier:
the Inception score of the spoken-digit classifier's predictions (metrics/speech_classifier.py;
1 to 10: confident and evenly spread digits score high) and the Fréchet distance between its
64-d features of generated and of real clips (lower is closer), beside the same of the real
clips. A conditional model also gets `label_accuracy`: how often the classifier hears the
digit that was asked for."""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.metrics.fid import fid
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.speech_classifier import to_classifier_input

EXTRACTOR = "spoken-digits-cnn"
SPLITS = 10  # the Inception score's, as the original code (and WaveGAN's paper) split the samples...
PER_SPLIT = 100  # ...but never into parts of fewer clips than this (a part of n scores at most n)


def splits_for(n: int) -> int:
    return max(1, min(SPLITS, n // PER_SPLIT))


@torch.no_grad()
def clip_features(classifier: torch.nn.Module, clips: Tensor, sample_rate: int,
                  batch_size: int = 250) -> tuple[Tensor, Tensor]:
    """Clips (N, 1, L) at `sample_rate` -> (features (N, 64), logits (N, 10)) on the CPU."""
    device = next(classifier.parameters()).device
    feats, logits = [], []
    for i in range(0, len(clips), batch_size):
        f = classifier.features(to_classifier_input(clips[i:i + batch_size], sample_rate).to(device))
        feats.append(f.cpu())
        logits.append(classifier.logits_from_features(f).cpu())
    return torch.cat(feats), torch.cat(logits)


def audio_metrics(features: Tensor, logits: Tensor, real_features: Tensor,
                  labels: Tensor | None = None) -> dict[str, float]:
    """IS (mean and std over 10 splits; fewer for under 1,000 clips), FID against the real
    features, and with `labels` (the asked-for classes) the classifier's agreement with them."""
    out = inception_score(logits, splits=splits_for(len(logits)))
    out["fid"] = fid(real_features, features) if len(features) > 1 and len(real_features) > 1 else float("nan")
    if labels is not None:
        out["label_accuracy"] = float((logits.argmax(1) == labels.cpu()).float().mean())
    return out


def reference_metrics(real_features: Tensor, real_logits: Tensor) -> dict[str, float]:
    """The real clips' own IS (what a perfect generator of this data would score), as data/...;
    in a seeded random order, as the score's splits need (datasets are stored a class at a time)."""
    order = torch.randperm(len(real_logits), generator=torch.Generator().manual_seed(0))
    return {f"data/{k}": v for k, v in inception_score(real_logits[order], splits=splits_for(len(order))).items()}

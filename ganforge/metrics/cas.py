"""Classification Accuracy Score (Ravuri & Vinyals 2019): train on generated, test on real.

A classifier is trained only on samples of a *conditional* generator, each labelled by the
class it was generated for (uniform classes), then scored on the real test split. Beside it,
the same classifier, recipe and step count trained on as many *real* training images (a
seeded subset): the gap between the two, in points, is what the generator's samples fail to
teach.

The classifier is the downstream check's `SmallCNN` with its `fit` recipe
(ganforge.augmentation.classifier: Adam, cosine decay, batch 64, a fixed number of steps),
not a copy of the shipped domain classifier that measures the asked-for-class rate: CAS is
then not agreement with the reference network. Default 3,000 steps: trained on 10,000 real
Fashion-MNIST training images (seed 0), 2,000 steps give 87.17 % on the test split, 3,000
88.05 % (142 s and 335 s on one shared core).

The real side does not depend on the generator: it is cached under ``$GANFORGE_CACHE/cas``
(else ``~/.cache/ganforge/cas``), keyed by domain, n, steps, seed, the recipe's constants and
the data's fingerprint, written atomically.

Unconditional generators are refused: their samples carry no labels, and labelling them
with the reference classifier would measure agreement with that classifier, not whether
the samples carry the class information a classifier can learn from.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from ganforge import __version__, atomic
from ganforge.augmentation import classifier as small
from ganforge.data.transforms import convert_channels, resize_images
from ganforge.errors import GanforgeError
from ganforge.metrics.classifiers import SPECS
from ganforge.metrics.features import generate_batches
from ganforge.metrics.reference import CACHE_ENV, fingerprint
from ganforge.metrics.train_classifier import load_split

DEFAULT_SAMPLES = {"digits": 1347, "fashion-mnist": 10_000}  # digits: its whole train split
DEFAULT_STEPS = 3000
MAX_SAMPLES = 60_000   # keeps the generated set (uint8) and the run time bounded
MAX_STEPS = 1_000_000
PROGRESS_STEPS = 1000  # a bar from this many classifier steps on (about 45 s at 28 px on a busy core)
CLASSIFIER = "SmallCNN (ganforge.augmentation.classifier)"


def _recipe() -> dict:
    """Everything of `fit` that changes the real accuracy, for the cache key."""
    return {"batch": small.BATCH, "lr": small.LR, "weight_decay": small.WEIGHT_DECAY, "augment": False,
            "classifier": "SmallCNN-16-32-64-128", "version": 1}


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "ganforge") / "cas"


def _generated(G: nn.Module, n: int, seed: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples of G stored as uint8 (N, C, H, W) with their class labels (N,)."""
    images, labels = [], []
    for x, c in generate_batches(G, n, seed, batch_size):
        # uint8 like the real data: a quarter of the memory, and the same input path
        images.append(((x.float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
        labels.append(c.cpu())
    return torch.cat(images), torch.cat(labels)


def require_conditional(G: nn.Module) -> None:
    """Refuse an unconditional generator (the evaluate command asks before any other work)."""
    if not getattr(G, "c_dim", 0):
        raise GanforgeError("CAS needs a class-conditional generator (c_dim > 0): an unconditional "
                            "model's samples have no labels to train a classifier on")


def _check(G: nn.Module, domain: str, n: int, steps: int) -> None:
    if domain not in SPECS:
        raise GanforgeError(f"CAS needs a dataset with a domain classifier (one of: {', '.join(SPECS)}), got {domain!r}")
    require_conditional(G)
    c_dim, classes = G.c_dim, SPECS[domain].num_classes
    if c_dim != classes:
        raise GanforgeError(f"CAS: the generator is conditional on {c_dim} classes but {domain} has {classes}")
    if isinstance(n, bool) or not isinstance(n, int) or not c_dim <= n <= MAX_SAMPLES:
        raise GanforgeError(f"CAS sample count must be an integer in {c_dim}..{MAX_SAMPLES}, got {n!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise GanforgeError(f"CAS classifier steps must be an integer in 1..{MAX_STEPS:,}, got {steps!r}")


def _fit(x: torch.Tensor, y: torch.Tensor, classes: int, seed: int, steps: int, show: bool, desc: str) -> nn.Module:
    """`small.fit` (no augmentation, no synthetic share), with a bar over its steps when asked.
    The caller's global RNG is left alone (fit seeds it): a trainer's --eval-every stays exact."""
    with torch.random.fork_rng(devices=[]), tqdm(total=steps, desc=desc, unit="step", leave=False,
                                                 disable=not show) as bar:
        return small.fit(x, y, classes, seed, steps=steps, on_step=bar.update)


@torch.no_grad()
def _scores(model: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: int) -> tuple[float, list[float]]:
    """Accuracy and per-class recall, fractions in [0, 1]."""
    s = small.scores(model, x, y, classes)
    return s["accuracy"] / 100, [r / 100 for r in s["recall"]]


@functools.lru_cache(maxsize=4)
def _split(domain: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    return load_split(domain, split)  # (read-only here: a CAS reads each split up to three times)


def split_as(domain: str, split: str, resolution: int, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A domain's split at the generator's size and channels, as load_data(..., resolution=R) serves it."""
    x, y = _split(domain, split)
    if tuple(x.shape[-2:]) != (resolution, resolution):
        x = resize_images(x, resolution)
    return convert_channels(x, channels), y


def real_accuracy(domain: str, n: int, steps: int, seed: int, resolution: int, channels: int = 1,
                  progress: bool = False) -> tuple[float, bool, int]:
    """Test accuracy of the SmallCNN trained on n real training images (seeded subset; at most
    the split) at the generator's size, same recipe and steps -> (accuracy, cached, images used)."""
    x, y = split_as(domain, "train", resolution, channels)
    x_test, y_test = split_as(domain, "test", resolution, channels)
    n = min(n, len(x))
    key = json.dumps({"domain": domain, "n": n, "steps": steps, "seed": seed, "resolution": resolution,
                      "channels": channels, "recipe": _recipe(), "train": fingerprint(x, y),
                      "test": fingerprint(x_test, y_test)}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = cache_dir() / f"{domain}-{resolution}px-n{n}-s{steps}-seed{seed}-{digest}.json"
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return float(cached["real_accuracy"]), True, n
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: compute it again
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    model = _fit(x[idx], y[idx], SPECS[domain].num_classes, seed, steps, progress, "CAS real classifier")
    acc, _ = _scores(model, x_test, y_test, SPECS[domain].num_classes)
    try:
        atomic.write_text(path, json.dumps({"key": key, "real_accuracy": acc, "ganforge_version": __version__}))
    except GanforgeError:
        pass  # a cache that cannot be written costs time, not the result
    return acc, False, n


def classification_accuracy_score(G: nn.Module, domain: str, n: int | None = None, steps: int | None = None,
                                  seed: int = 0, batch_size: int = 250, progress: bool | None = None) -> dict:
    """CAS of a conditional generator ``G`` for ``domain`` ("digits" or "fashion-mnist").

    ``n`` generated samples (default 10,000; digits 1,347, its train split), as many real
    training images for the real side; ``steps`` classifier steps (default 3,000). Returns
    ``{"metrics": {"cas", "real_accuracy", "cas_gap", "cas_class_K"...}, "settings": {...}}``;
    accuracies are fractions in [0, 1], ``cas_gap`` is in points (100 * (real - cas)).
    """
    n = DEFAULT_SAMPLES.get(domain, 0) if n is None else n
    steps = DEFAULT_STEPS if steps is None else steps
    _check(G, domain, n, steps)
    start = time.perf_counter()
    classes = SPECS[domain].num_classes
    show = bool(progress) if progress is not None else steps >= PROGRESS_STEPS
    was_training = G.training
    G.eval()
    try:
        x_fake, y_fake = _generated(G, n, seed, batch_size)
    finally:
        G.train(was_training)
    model = _fit(x_fake, y_fake, classes, seed, steps, show, "CAS classifier")
    x_test, y_test = split_as(domain, "test", G.resolution, G.channels)
    cas, per_class = _scores(model, x_test, y_test, classes)
    real, cached, n_real = real_accuracy(domain, n, steps, seed, G.resolution, G.channels, show)
    metrics = {"cas": cas, "real_accuracy": real, "cas_gap": 100 * (real - cas),
               **{f"cas_class_{k}": r for k, r in enumerate(per_class)}}
    settings = {"n_fake": n, "n_real_train": n_real, "n_real_test": len(x_test), "resolution": G.resolution,
                "steps": steps, "seed": seed, "classifier": CLASSIFIER, "labels": "uniform, by condition",
                "real_accuracy_cached": cached, "seconds": round(time.perf_counter() - start, 1),
                "ganforge_version": __version__}
    return {"metrics": metrics, "settings": settings}


def cas_metrics(generator: nn.Module, domain: str, **options) -> dict[str, float]:
    """Registry form of `classification_accuracy_score`: ``{name: float}``, the sample count
    and classifier steps included (``cas_n_fake``, ``cas_steps``) so that the record names its settings."""
    result = classification_accuracy_score(generator, domain, **options)
    settings = result["settings"]
    return {**result["metrics"], "cas_n_fake": float(settings["n_fake"]), "cas_steps": float(settings["steps"]),
            "cas_seed": float(settings["seed"])}

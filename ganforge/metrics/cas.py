"""Classification Accuracy Score (Ravuri & Vinyals 2019): train on generated, test on real.

A fresh copy of the domain classifier (same architecture and recipe as the shipped one) is
trained only on samples of a *conditional* generator, each labelled by the class it was
generated for (uniform classes), then scored on the real test split. It is reported
beside the real-data accuracy of the shipped classifier (from its weights' metadata), and
optionally beside the same architecture trained on as many *real* images with the same
budget (``real_baseline=True``), the fair comparison when ``n`` is smaller than the train
split.

Unconditional generators are refused: their samples carry no labels, and labelling them
with the reference classifier would measure agreement with that classifier, not whether
the samples carry the class information a classifier can learn from.

Kept affordable on a CPU: ``n`` samples (default 10,000; digits 1,347 = its train split) and
the recipe's epochs (Fashion-MNIST 10, digits 40), both returned in the settings.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace

import torch
from torch import nn

from ganforge import __version__
from ganforge.errors import GanforgeError
from ganforge.metrics.classifiers import SPECS, read_metadata, weights_path
from ganforge.metrics.features import generate_batches
from ganforge.metrics.train_classifier import RECIPES, accuracy, fit, load_split

DEFAULT_SAMPLES = {"digits": 1347, "fashion-mnist": 10_000}
MAX_SAMPLES = 60_000  # keeps the generated set (uint8) and the run time bounded


def _generated(G: nn.Module, n: int, seed: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples of G stored as uint8 (N, C, H, W) with their class labels (N,)."""
    images, labels = [], []
    for x, c in generate_batches(G, n, seed, batch_size):
        # uint8 like the real data: a quarter of the memory, and the same input path
        images.append(((x.float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
        labels.append(c)
    return torch.cat(images), torch.cat(labels)


def _check(G: nn.Module, domain: str, n: int) -> None:
    if domain not in SPECS:
        raise GanforgeError(f"CAS needs a dataset with a domain classifier (one of: {', '.join(SPECS)}), got {domain!r}")
    c_dim, classes = getattr(G, "c_dim", 0), SPECS[domain].num_classes
    if not c_dim:
        raise GanforgeError("CAS needs a class-conditional generator (c_dim > 0): an unconditional "
                            "model's samples have no labels to train a classifier on")
    if c_dim != classes:
        raise GanforgeError(f"CAS: the generator is conditional on {c_dim} classes but {domain} has {classes}")
    if isinstance(n, bool) or not isinstance(n, int) or not c_dim <= n <= MAX_SAMPLES:
        raise GanforgeError(f"CAS sample count must be an integer in {c_dim}..{MAX_SAMPLES}, got {n!r}")


def classification_accuracy_score(G: nn.Module, domain: str, n: int | None = None,
                                  epochs: int | None = None, seed: int = 0, batch_size: int = 250,
                                  real_baseline: bool = False, progress: bool | None = None) -> dict:
    """CAS of a conditional generator ``G`` for ``domain`` ("digits" or "fashion-mnist").

    Returns ``{"metrics": {"cas", "real_accuracy", ["real_accuracy_same_budget"],
    "cas_class_K"...}, "settings": {...}}``; accuracies are fractions in [0, 1].
    """
    n = DEFAULT_SAMPLES.get(domain, 0) if n is None else n
    _check(G, domain, n)
    recipe = RECIPES[domain] if epochs is None else replace(RECIPES[domain], epochs=epochs)
    if recipe.epochs < 1:
        raise GanforgeError(f"CAS epochs must be at least 1, got {recipe.epochs}")
    start = time.perf_counter()
    was_training = G.training
    G.eval()
    try:
        x_fake, y_fake = _generated(G, n, seed, batch_size)
    finally:
        G.train(was_training)
    show = bool(progress) if progress is not None else n * recipe.epochs >= 20_000
    model = fit(domain, x_fake, y_fake, recipe, seed=seed, progress=show)
    x_test, y_test = load_split(domain, "test")
    metrics = {"cas": accuracy(model, x_test, y_test)}
    metrics.update(_per_class(model, x_test, y_test))
    meta = read_metadata(weights_path(domain)) if weights_path(domain).is_file() else {}
    metrics["real_accuracy"] = float(meta.get("test_accuracy", float("nan")))
    if real_baseline:
        metrics["real_accuracy_same_budget"] = _same_budget(domain, n, recipe, seed, show, x_test, y_test)
    settings = {"n_fake": n, "n_real_test": len(x_test), "epochs": recipe.epochs, "seed": seed,
                "recipe": asdict(recipe), "classifier": f"{domain}-cnn", "labels": "uniform, by condition",
                "real_accuracy_from": "shipped weights metadata" if meta else "missing weights",
                "seconds": round(time.perf_counter() - start, 1), "ganforge_version": __version__}
    return {"metrics": metrics, "settings": settings}


@torch.no_grad()
def _per_class(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    pred = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return {f"cas_class_{k}": float((pred[y == k] == k).double().mean())
            for k in range(int(y.max()) + 1) if (y == k).any()}


def _same_budget(domain: str, n: int, recipe, seed: int, show: bool,
                 x_test: torch.Tensor, y_test: torch.Tensor) -> float:
    """The same architecture and recipe trained on n real training images (seeded subset)."""
    x, y = load_split(domain, "train")
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return accuracy(fit(domain, x[idx], y[idx], recipe, seed=seed, progress=show), x_test, y_test)


def cas_metrics(generator: nn.Module, domain: str, **options) -> dict[str, float]:
    """Registry form of `classification_accuracy_score`: ``{name: float}``, the sample count
    and epochs included (``cas_n_fake``, ``cas_epochs``) so that the record names its settings."""
    result = classification_accuracy_score(generator, domain, **options)
    settings = result["settings"]
    return {**result["metrics"], "cas_n_fake": float(settings["n_fake"]), "cas_epochs": float(settings["epochs"])}

"""Metrics by name: what each one needs as input, and a call that returns {name: float}.

    >>> metric = get_metric("kid")
    >>> metric.needs                                   # ("real_features", "fake_features")
    >>> metric.compute({"real_features": r, "fake_features": f}, subsets=50)
    {"kid_mean": ..., "kid_std": ..., "kid_subset_size": 1000.0, "kid_subsets": 50.0}

Inputs are named so that a caller (the `evaluate` command, the trainer) computes each one
once and hands every metric what it asks for. The names in use:

- ``real_features``, ``fake_features``: extractor features (N, D) of data and of samples;
- ``fake_logits``: classifier logits (or probabilities) of the samples (N, C).

Other metrics (mode counts, CAS) join with `register(name, fn, needs=...)`, naming inputs
of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ganforge.errors import GanforgeError
from ganforge.metrics.fid import fid
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kid
from ganforge.metrics.prdc import density_coverage, prdc, precision_recall

FEATURES = ("real_features", "fake_features")


@dataclass(frozen=True)
class Metric:
    """A registered metric: fn(*inputs named by `needs`, **options) -> {name: float}."""

    name: str                            # as on the command line: "fid", "kid", ...
    fn: Callable[..., dict[str, float]]
    needs: tuple[str, ...]               # input names, in fn's positional order
    description: str = ""

    def compute(self, inputs: Mapping[str, Any], **options: Any) -> dict[str, float]:
        """Pick this metric's inputs from `inputs` (extra ones are ignored) and run it."""
        missing = [n for n in self.needs if n not in inputs]
        if missing:
            raise GanforgeError(f"metric {self.name!r} needs inputs {list(self.needs)}, missing {missing}")
        result = self.fn(*(inputs[n] for n in self.needs), **options)
        return {k: float(v) for k, v in result.items()}


_REGISTRY: dict[str, Metric] = {}


def register(name: str, fn: Callable[..., dict[str, float]], needs: tuple[str, ...] | list[str] = FEATURES,
             description: str = "", replace: bool = False) -> Metric:
    """Register `fn` under `name`; it takes the inputs named by `needs` positionally, then options."""
    if name in _REGISTRY and not replace:
        raise ValueError(f"metric {name!r} is already registered")  # a programming error, not user input
    metric = Metric(name, fn, tuple(needs), description)
    _REGISTRY[name] = metric
    return metric


def get_metric(name: str) -> Metric:
    """The metric registered as `name`; unknown names raise GanforgeError listing the valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise GanforgeError(f"unknown metric {name!r}; expected one of: {', '.join(available())}") from None


ALIASES = {"prdc": ("pr", "dc")}  # names for several metrics at once


def expand(names: list[str] | tuple[str, ...]) -> list[str]:
    """Metric names with aliases ("prdc" -> "pr", "dc") expanded, duplicates dropped, order kept."""
    out: list[str] = []
    for name in names:
        for n in ALIASES.get(name, (name,)):
            if n not in out:
                out.append(n)
    return out


def available() -> list[str]:
    """Registered metric names, sorted."""
    return sorted(_REGISTRY)


def compute(names: list[str] | tuple[str, ...], inputs: Mapping[str, Any],
            options: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, float]:
    """Run several metrics on shared inputs -> one merged {name: float}; options per metric name."""
    metrics = [get_metric(n) for n in names]  # every name checked before any work starts
    options = options or {}
    out: dict[str, float] = {}
    if _together(metrics, options, inputs):  # pr and dc share distance matrices: one pass, 3 matrices instead of 5
        out.update(prdc(*(inputs[n] for n in FEATURES), k_pr=options.get("pr", {}).get("k", 3),
                        k_dc=options.get("dc", {}).get("k", 5)))
        metrics = [m for m in metrics if m.name not in ("pr", "dc")]
    for metric in metrics:
        out.update(metric.compute(inputs, **options.get(metric.name, {})))
    return out


def _together(metrics: list[Metric], options: Mapping[str, Mapping[str, Any]], inputs: Mapping[str, Any]) -> bool:
    """Both built-in pr and dc requested, with no option but k, and their inputs present?"""
    mine = {m.name: m for m in metrics if m.name in ("pr", "dc")}
    return (len(mine) == 2 and mine["pr"].fn is precision_recall and mine["dc"].fn is density_coverage
            and all(set(options.get(n, {})) <= {"k"} for n in mine) and all(n in inputs for n in FEATURES))


def _is(fake_logits: Any, **options: Any) -> dict[str, float]:
    if fake_logits is None:
        raise GanforgeError("metric 'is' needs the samples' class logits and this feature extractor gives none "
                            "(inception-v3-fid with the NVlabs TorchScript weights ends at the 2,048 pool "
                            "features; pytorch-fid's pt_inception-2015-12-05-6726825d.pth has the logits)")
    return inception_score(fake_logits, **options)


def _fid(real: Any, fake: Any) -> dict[str, float]:
    return {"fid": fid(real, fake)}


register("fid", _fid, FEATURES, "Fréchet distance of Gaussians fitted to real and fake features")
register("kid", kid, FEATURES, "kernel distance: unbiased MMD^2, cubic polynomial kernel, mean/std over subsets")
register("is", _is, ("fake_logits",), "Inception Score of the samples' class predictions")
register("pr", precision_recall, FEATURES, "improved precision and recall (k-NN balls, k=3)")
register("dc", density_coverage, FEATURES, "density and coverage (k-NN balls, k=5)")


def _modes(fake_logits: Any, real_labels: Any = None) -> dict[str, float]:
    from ganforge.metrics.class_modes import class_modes_from_logits
    return class_modes_from_logits(fake_logits, real_labels)


def _cas(generator: Any, domain: str, **options: Any) -> dict[str, float]:
    from ganforge.metrics.cas import cas_metrics
    return cas_metrics(generator, domain, **options)


register("modes", _modes, ("fake_logits", "real_labels"),
         "classes covered and reverse KL of the domain classifier's predicted-class histogram")
register("cas", _cas, ("generator", "domain"),
         "classification accuracy score: a classifier trained on samples only, tested on real data")

"""Image metrics during training (--eval-every): the EMA generator against the training
data, through `ganforge.evaluate`, logged as Metric/*; the trainer keeps the best FID's
checkpoint."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ganforge.errors import GanforgeError
from ganforge.evaluate import NEEDS_CLASSIFIER, evaluate
from ganforge.metrics.features import DOMAIN_OF, Features, default_extractor, extract_from_generator, get_extractor
from ganforge.metrics.registry import get_metric
from ganforge.training.distributed import Distributed


class ImageEvaluation:
    def __init__(self, run_dir: Path, source: str, metrics: str, n: int, seed: int, every: int):
        self.run_dir, self.n, self.seed, self.every = run_dir, n, seed, every
        self.names = [m.strip() for m in metrics.split(",") if m.strip()]
        if not self.names:
            raise GanforgeError("option train.eval_metrics is empty (expected e.g. fid or fid,kid)")
        for name in self.names:
            get_metric(name)
        extractor = default_extractor(source)
        if extractor not in DOMAIN_OF and any(m in NEEDS_CLASSIFIER for m in self.names):
            raise GanforgeError(f"--eval-every: {', '.join(self.names)} need a domain classifier, and '{source}' "
                                f"has none (choose among fid, kid, pr, dc)")
        self.extractor = extractor
        get_extractor(extractor)  # missing Inception weights: say so now, not hours into the run
        if n < 2:
            raise GanforgeError(f"option train.eval_samples must be at least 2, got {n}")

    def due(self, step: int, last: bool) -> bool:
        return last or step % self.every == 0

    def alarms(self, health, step: int, result: dict[str, float]) -> list:
        return []

    def __call__(self, G: nn.Module, data_info: dict, dist: Distributed | None = None) -> dict[str, float]:
        """The metrics, on every rank. Under torchrun every rank generates and extracts
        features of its share of the samples; rank 0 gathers them, computes the metrics and
        tells the others."""
        G.data_info = data_info
        if dist is None or not dist.enabled:
            return self._measure(G, None)
        extractor = get_extractor(self.extractor, device=next(G.parameters()).device)
        part = extract_from_generator(extractor, G, self.n, seed=self.seed, progress=False,
                                      shard=(dist.rank, dist.world_size))
        parts = dist.gather(part)
        return dist.broadcast(self._measure(G, Features.concat(parts)) if dist.is_main else None)

    def _measure(self, G: nn.Module, fake: Features | None) -> dict[str, float]:
        return evaluate(self.run_dir, self.names, n=self.n, seed=self.seed, G=G, record=False,
                        progress=False, fake_features=fake)["metrics"]

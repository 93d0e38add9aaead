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
    def __init__(self, run_dir: Path, source: str, metrics: str, n: int, seed: int):
        self.run_dir, self.n, self.seed = run_dir, n, seed
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

    def __call__(self, G: nn.Module, data_info: dict, dist: Distributed | None = None) -> dict[str, float]:
        """The metrics on rank 0 ({} on the others). Under torchrun every rank generates and
        extracts features of its share of the samples, which rank 0 gathers."""
        G.data_info = data_info
        fake = None
        if dist is not None and dist.enabled:
            extractor = get_extractor(self.extractor, device=next(G.parameters()).device)
            part = extract_from_generator(extractor, G, self.n, seed=self.seed, progress=False,
                                          shard=(dist.rank, dist.world_size))
            parts = dist.gather(part)
            if not dist.is_main:
                return {}
            fake = Features.concat(parts)
        return evaluate(self.run_dir, self.names, n=self.n, seed=self.seed, G=G, record=False,
                        progress=False, fake_features=fake)["metrics"]

"""Sample-quality metrics. Each returns {name: float}; the name says what was measured.

`registry.get_metric(name)` gives a metric by its command-line name (fid, kid, is, pr, dc).
"""

from ganforge.metrics.fid import FeatureStats, feature_statistics, fid, frechet_distance
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kid
from ganforge.metrics.modes import SAMPLES as MODE_SAMPLES
from ganforge.metrics.modes import mode_coverage, reverse_kl
from ganforge.metrics.prdc import density_coverage, prdc, precision_recall
from ganforge.metrics.registry import Metric, available, get_metric, register

__all__ = ["MODE_SAMPLES", "FeatureStats", "Metric", "available", "density_coverage", "feature_statistics",
           "fid", "frechet_distance", "get_metric", "inception_score", "kid", "mode_coverage", "prdc",
           "precision_recall", "register", "reverse_kl"]

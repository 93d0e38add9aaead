"""Sample-quality metrics. Each returns {name: float}; the name says what was measured."""

from ganforge.metrics.fid import FeatureStats, feature_statistics, fid, frechet_distance
from ganforge.metrics.modes import SAMPLES as MODE_SAMPLES
from ganforge.metrics.modes import mode_coverage, reverse_kl

__all__ = ["MODE_SAMPLES", "FeatureStats", "feature_statistics", "fid", "frechet_distance",
           "mode_coverage", "reverse_kl"]

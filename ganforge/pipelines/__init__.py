"""Inference-only pipelines, one per task."""

from ganforge.pipelines.generate import GeneratePipeline
from ganforge.pipelines.interpolate import InterpolatePipeline, lerp, slerp
from ganforge.pipelines.project import Projection, ProjectPipeline

__all__ = ["GeneratePipeline", "InterpolatePipeline", "ProjectPipeline", "Projection", "lerp", "slerp"]

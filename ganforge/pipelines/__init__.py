"""Inference-only pipelines, one per task."""

from ganforge.pipelines.generate import GeneratePipeline
from ganforge.pipelines.interpolate import InterpolatePipeline, lerp, slerp
from ganforge.pipelines.project import Projection, ProjectPipeline
from ganforge.pipelines.translate import TranslatePipeline

__all__ = ["GeneratePipeline", "InterpolatePipeline", "ProjectPipeline", "Projection", "TranslatePipeline",
           "lerp", "slerp"]

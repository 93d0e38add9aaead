"""Inference-only pipelines, one per task."""

from ganforge.pipelines.generate import GeneratePipeline

__all__ = ["GeneratePipeline"]

"""What every pipeline shares: a generator in eval mode on a device, built from an export."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganforge import modeling
from ganforge.errors import GanforgeError


class Pipeline:
    def __init__(self, generator: nn.Module, device: str | torch.device = "cpu"):
        if getattr(generator, "kind", None) == "translator" and type(self).__name__ != "TranslatePipeline":
            raise GanforgeError("this model is a translator (image -> image), not a generator: "
                                "use `ganforge translate` (or TranslatePipeline)")
        if getattr(generator, "kind", None) == "music" and type(self).__name__ != "ComposePipeline":
            raise GanforgeError("this model writes music: use `ganforge generate MODEL --out piece.mid` "
                                "(or ComposePipeline)")
        self.G = generator.to(device).eval()
        self.device = torch.device(device)
        self.path: Path | None = None  # the export it came from (from_pretrained), where its D may be

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu"):
        """The pipeline over an exported model directory or a run directory."""
        pipe = cls(modeling.load(path), device)
        pipe.path = Path(path)
        return pipe

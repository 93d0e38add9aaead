"""What every pipeline shares: a generator in eval mode on a device, built from an export."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganforge import modeling, provenance
from ganforge.errors import GanforgeError


# What a pipeline says when given a model of a kind it does not take: for a kind-specific
# pipeline, what it needs (NEEDS); otherwise where that kind of model is written (USE).
USE = {"translator": "this model is a translator (image -> image), not a generator: "
                     "use `ganforge translate` (or TranslatePipeline)",
       "upscaler": "this model enlarges images (super-resolution): use `ganforge upscale MODEL IMAGE --out DIR` "
                   "(or UpscalePipeline)",
       "inpainter": "this model repairs images (fills holes): use `ganforge repair MODEL IMAGE --mask MASK.png "
                    "--out OUT.png` (or RepairPipeline)",
       "music": "this model writes music: use `ganforge generate MODEL --out piece.mid` (or ComposePipeline)",
       "audio": "this model makes sound: use `ganforge generate MODEL --out clips/` (a folder of "
                "WAV files, or --out x.wav; or AudioPipeline)",
       "molecules": "this model makes molecules: use `ganforge generate MODEL --out mols.smi` "
                    "(or MoleculesPipeline)",
       "text": "this model writes text: use `ganforge generate MODEL --out lines.txt` (or TextPipeline)",
       "video": "this model makes clips: use `ganforge generate MODEL --out clip.gif` (or a folder, .png, "
                ".npy; or VideoPipeline)"}
NEEDS = {"translator": "this model is a generator (noise -> image), not a translator: "
                       "use `ganforge generate` (or GeneratePipeline)",
         "upscaler": "this model does not enlarge images: `ganforge upscale` takes a model of the superres game "
                     "(e.g. train --preset photos-srresnet-x4)",
         "inpainter": "this model does not fill holes: `ganforge repair` takes a model of the repair game "
                      "(e.g. train --preset fashion-repair)",
         "music": "this model does not write music: use `ganforge generate` with a .png or .npy "
                  "(or GeneratePipeline)",
         "audio": "this model does not make sound: use `ganforge generate` with a .png or .npy "
                  "(or GeneratePipeline)",
         "molecules": "this model does not make molecules: use `ganforge generate` with a .png or .npy "
                      "(or GeneratePipeline)",
         "text": "this model does not write text: use `ganforge generate` with a .png or .npy "
                 "(or GeneratePipeline)",
         "video": "this model does not make clips: use `ganforge generate` with a .png or .npy "
                  "(or GeneratePipeline)"}


class Pipeline:
    kind: str | None = None  # the `kind` of model it takes (None: generators of images or points)

    def __init__(self, generator: nn.Module, device: str | torch.device = "cpu"):
        found = getattr(generator, "kind", None)
        if found != self.kind:  # image -> image pipelines say what they need; the others where the model goes
            needs = found is None or (self.kind in ("translator", "upscaler", "inpainter")
                                      and found not in ("upscaler", "inpainter"))
            raise GanforgeError(NEEDS[self.kind] if needs else USE[found])
        self.G = generator.to(device).eval()
        self.device = torch.device(device)
        self.path: Path | None = None  # the export it came from (from_pretrained), where its D may be
        self._model_id: tuple[Path, str] | None = None  # (path, hash of its weights): hashed once

    def provenance(self, task: str, **fields) -> dict[str, str]:
        """The provenance record of an output of this pipeline (see ganforge.provenance): the
        model's weights hashed once per pipeline; a generator built in memory is "unsaved model"."""
        if self.path is None:
            model = provenance.UNSAVED
        else:
            if self._model_id is None or self._model_id[0] != self.path:
                self._model_id = (self.path, provenance.model_id(self.path))
            model = self._model_id[1]
        return provenance.record(model, task, family=modeling.family_of(self.G), **fields)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu"):
        """The pipeline over an exported model directory or a run directory."""
        pipe = cls(modeling.load(path), device)
        pipe.path = Path(path)
        return pipe

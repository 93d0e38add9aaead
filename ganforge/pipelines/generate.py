"""Sampling from a trained generator: batched, seeded, as tensors, arrays or files; plain, or
by a sampler that spends more generated samples for better ones (ganforge.sampling)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.provenance import write_sidecar
from ganforge.sampling import NEEDS_DISCRIMINATOR, check_sampler, draw
from ganforge.sampling.mh import CHAIN
from ganforge.viz.grid import save_samples, to_uint8


class GeneratePipeline(Pipeline):
    """`pipe(n, seed=0)` -> n samples: points (n, D) or images (n, C, H, W) in [-1, 1].
    `pipe(n, sampler="drs")`: the same through a sampler; `pipe.last_stats` says what it cost."""

    discriminator: torch.nn.Module | None = None  # set, or loaded from the export when a sampler needs it
    last_stats: dict | None = None                # the last call's sampler statistics
    last_record: dict | None = None               # the last call's provenance (model, seed, sampler)

    def _discriminator(self) -> torch.nn.Module:
        if self.discriminator is None:
            from ganforge import modeling
            if self.path is None:
                raise GanforgeError("DRS / MH sampling need the discriminator: set pipe.discriminator, or build "
                                    f"the pipeline with from_pretrained from an export that has one ({modeling.D_HINT})")
            self.discriminator = modeling.load_discriminator(self.path, self.device)
        return self.discriminator

    @property
    def is_points(self) -> bool:
        return self.G.resolution == 0

    @torch.no_grad()
    def __call__(self, n: int, *, seed: int = 0, batch_size: int = 256, classes: int | torch.Tensor | None = None,
                 output_type: str = "pt", sampler: str = "plain", truncation: float | None = None,
                 mh_steps: int = CHAIN, drs_percentile: float = 95.0, progress: bool | None = None):
        """n samples from z ~ N(0, I) drawn with `seed` (on the CPU: the same samples on any
        device); for conditional models `classes` is one class index for all, or (n,) labels
        (default: cycling through the classes). output_type "pt" (float tensor in [-1, 1]) or
        "np" (float32 (n, D) points / uint8 (n, H, W, C) images).
        `sampler`: "plain", "truncation" (z truncated at `truncation`, default 0.7), "drs" or
        "mh" (chains of `mh_steps` proposals); the last two use the exported discriminator."""
        if output_type not in ("pt", "np"):
            raise GanforgeError(f"output_type must be 'pt' or 'np', got {output_type!r}")
        sampler = check_sampler(sampler, truncation)
        classes = self._labels(n, classes)
        D = self._discriminator() if sampler in NEEDS_DISCRIMINATOR else None
        drawn = draw(self.G, n, sampler, D=D, seed=seed, labels=classes, batch_size=batch_size,
                     truncation=truncation, mh_steps=mh_steps, drs_percentile=drs_percentile, progress=progress)
        self.last_stats = drawn.stats
        self.last_record = self.provenance("generate", seed=seed,
                                           sampler=_sampler_text(drawn.stats, mh_steps, drs_percentile),
                                           classes=None if classes is None else _classes_text(classes))
        return drawn.samples if output_type == "pt" else self.to_numpy(drawn.samples)

    def _labels(self, n: int, classes: int | torch.Tensor | None) -> torch.Tensor | None:
        c_dim = self.G.c_dim
        if classes is None:
            return torch.arange(n) % c_dim if c_dim else None
        if not c_dim:
            raise GanforgeError("this model is not conditional: it takes no class (drop --class)")
        labels = torch.full((n,), classes) if isinstance(classes, int) else torch.as_tensor(classes).long()
        if labels.shape != (n,):
            raise GanforgeError(f"classes must be one index or {n} labels, got shape {tuple(labels.shape)}")
        bad = labels[(labels < 0) | (labels >= c_dim)]
        if len(bad):
            names = self.G.data_info.get("class_names") if hasattr(self.G, "data_info") else None
            known = f" ({', '.join(f'{i}={c}' for i, c in enumerate(names))})" if names else ""
            raise GanforgeError(f"class {int(bad[0])} is out of range: this model knows classes 0..{c_dim - 1}{known}")
        return labels

    def class_rows(self, per_class: int) -> torch.Tensor:
        """Labels for a grid with one row of `per_class` samples per class: (c_dim * per_class,)."""
        return torch.arange(self.G.c_dim).repeat_interleave(per_class)

    def to_numpy(self, samples: torch.Tensor) -> np.ndarray:
        return samples.numpy().astype(np.float32) if self.is_points else to_uint8(samples)

    def save(self, samples: torch.Tensor, path: str | Path, nrow: int | None = None,
             record: dict | None = None) -> Path:
        """.npy: the raw samples (see output_type "np") and their provenance in x.npy.json;
        .png: a grid or a scatter plot, its provenance in text chunks. `record` defaults to
        the last call's (seed, sampler); samples of unknown origin still name the model."""
        path = Path(path)
        record = record or self.last_record or self.provenance("generate", seed="unknown")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix.lower() == ".npy":
                np.save(path, self.to_numpy(samples))
                write_sidecar(path, record)
                return path
            return save_samples(samples, path, nrow=nrow, record=record)
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror}") from None


def _sampler_text(stats: dict, mh_steps: int, drs_percentile: float) -> str:
    """"plain", "truncation 0.7", "drs 95th percentile", "mh 640 steps": how samples were drawn."""
    sampler = stats["sampler"]
    if sampler == "truncation":
        return f"truncation {stats['truncation']:g}"
    if sampler == "drs":
        return f"drs {drs_percentile:g}th percentile"
    return f"mh {mh_steps} steps" if sampler == "mh" else sampler


def _classes_text(labels: torch.Tensor) -> str:
    """The class labels asked for: "3" when one class, else "0..9" (their range)."""
    low, high = int(labels.min()), int(labels.max())
    return str(low) if low == high else f"{low}..{high}"

"""`ganforge augment` as a pipeline: a seeded small labelled subset, a class-conditional GAN
trained on it (preset augment-cgan), labelled synthetic samples kept by a filter, the
augmented set written, and (evaluate) the four-row downstream check over N seeds.

    from ganforge.pipelines.augment import AugmentPipeline, AugmentSettings
    result = AugmentPipeline(AugmentSettings("fashion-mnist", per_class=60, out="runs/aug60")).run()
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganforge import atomic
from ganforge.augmentation import classifier, evaluate, filters, output
from ganforge.augmentation.subset import Labelled, class_index, load_labelled, subset_counts, take_subset
from ganforge.config import merge, preset_config
from ganforge.errors import GanforgeError
from ganforge.pipelines.generate import GeneratePipeline

MIN_GAN_SIDE = 16  # smaller images (digits' 8x8) are learnt by the GAN at 16 px and scaled back


@dataclass
class AugmentSettings:
    data: str                                  # fashion-mnist, digits, a class-folder, an .npz (x, y)
    out: str | Path = "runs/augment"
    per_class: int | None = None               # labelled images of each class in the subset
    fraction: float | None = None              # or this share of each class
    seed: int = 0                              # subset, GAN and classifier seed (evaluate: the first of --seeds)
    synthetic_per_class: int | None = None     # kept synthetic images of each class (None: as many as real)
    filter: str = "none"                       # none, discriminator, classifier
    keep: float = 0.5                          # the filter keeps this share of what is generated
    steps: int | None = None                   # GAN steps (None: the preset's)
    resolution: int | None = None              # an image folder's side (default 32)
    minority: int | str | None = None          # the class (index or name) cut to minority_share of the others
    minority_share: float = 0.05
    evaluate: bool = False
    seeds: int = 1                             # evaluate: subset seeds seed .. seed + seeds - 1
    classifier_steps: int = classifier.STEPS
    synthetic_share: float | None = classifier.SYNTHETIC_SHARE  # of each classifier batch (None: as they come)
    force: bool = False
    progress: bool = False


@dataclass
class SeedRun:
    """One subset seed: the real subset, the trained GAN, the kept synthetic samples."""
    seed: int
    real: tuple[torch.Tensor, torch.Tensor]
    synthetic: tuple[torch.Tensor, torch.Tensor]
    G: torch.nn.Module
    D: torch.nn.Module
    real_model: torch.nn.Module | None
    gan_seconds: float


class AugmentPipeline:
    def __init__(self, settings: AugmentSettings):
        s = self.settings = settings
        filters.check(s.filter, s.keep)
        if s.seeds < 1:
            raise GanforgeError(f"--seeds must be at least 1, got {s.seeds}")
        if s.synthetic_per_class is not None and s.synthetic_per_class < 0:
            raise GanforgeError(f"--synthetic-per-class must be 0 or more, got {s.synthetic_per_class}")
        if s.classifier_steps < 1:
            raise GanforgeError(f"--classifier-steps must be at least 1, got {s.classifier_steps}")
        if s.steps is not None and s.steps < 1:
            raise GanforgeError(f"--steps must be at least 1, got {s.steps}")
        self.out = Path(s.out)
        output.check_out(self.out, s.data, s.force)
        if s.synthetic_share is not None and not 0 <= s.synthetic_share <= 1:
            raise GanforgeError(f"--synthetic-share must be in [0, 1], got {s.synthetic_share}")
        self.data: Labelled = load_labelled(s.data, s.resolution)
        if s.minority is not None:
            s.minority = class_index(self.data.class_names, s.minority)
        self.counts = subset_counts(self.data.train, s.per_class, s.fraction, s.minority, s.minority_share)
        self.classes = len(self.counts)
        self.flips = classifier.flips_suit(s.data)

    # -- one seed: subset -> GAN -> synthetic samples -> filter
    def subset(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = take_subset(self.data.train, self.counts, seed)
        return self.data.train.x[idx].contiguous(), self.data.train.y[idx]

    def train_gan(self, real: tuple[torch.Tensor, torch.Tensor], seed: int):
        from ganforge.training.trainer import Trainer

        folder = self.out / "gan"
        npz = folder / f"subset-seed{seed}.npz"
        atomic.write(npz, lambda f: np.savez(f, x=real[0].numpy(), y=real[1].numpy()))
        side = max(real[0].shape[2:])
        over = {"data": {"source": str(npz), "resolution": max(side, MIN_GAN_SIDE) if side < MIN_GAN_SIDE else None},
                "train": {"seed": seed}}
        if self.settings.steps is not None:
            over["train"]["steps"] = self.settings.steps
        cfg = merge(preset_config("augment-cgan"), over)
        trainer = Trainer(cfg, folder / f"seed{seed}", force=True, progress=self.settings.progress, owner="augment")
        trainer.fit()
        return trainer.ema.model.eval(), trainer.D.eval()

    def wanted(self) -> list[int]:
        """Synthetic images to keep per class: as asked (default: as many as real) plus, for a
        class with fewer real images, the difference (each class ends up with as many)."""
        base = self.settings.synthetic_per_class
        top = max(self.counts)
        return [(top if base is None else base) + top - n for n in self.counts]

    @torch.no_grad()
    def synthesise(self, G, D, real_model, seed: int, filter: str | None = None,
                   keep: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        filter = self.settings.filter if filter is None else filter
        keep = self.settings.keep if keep is None else keep
        wanted = self.wanted()
        made = wanted if filter == "none" else [math.ceil(n / keep) for n in wanted]
        labels = torch.cat([torch.full((n,), c, dtype=torch.long) for c, n in enumerate(made)])
        if not len(labels):
            empty = torch.zeros((0, *self.data.train.shape), dtype=torch.uint8)
            return empty, labels
        x = GeneratePipeline(G)(len(labels), seed=10_000 + seed, classes=labels, batch_size=500)  # (N, C, h, w)
        images = self._to_uint8(x)
        if filter == "discriminator":
            kept = filters.keep_best(filters.discriminator_scores(D, x, labels), labels, wanted)
        elif filter == "classifier":
            kept = filters.keep_best(filters.classifier_scores(real_model, images, labels), labels, wanted)
        else:
            kept = torch.arange(len(labels))
        return images[kept], labels[kept]

    def _to_uint8(self, x: torch.Tensor) -> torch.Tensor:
        h, w = self.data.train.shape[1:]
        if x.shape[2:] != (h, w):
            x = F.interpolate(x, size=(h, w), mode="area")
        return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)

    def run_seed(self, seed: int, need_real_model: bool) -> SeedRun:
        real = self.subset(seed)
        t = time.perf_counter()
        G, D = self.train_gan(real, seed)
        gan_seconds = time.perf_counter() - t
        real_model = None
        if need_real_model or self.settings.filter == "classifier":
            real_model = classifier.fit(*real, self.classes, seed, flips=self.flips,
                                        steps=self.settings.classifier_steps)
        synthetic = self.synthesise(G, D, real_model, seed)
        return SeedRun(seed, real, synthetic, G, D, real_model, gan_seconds)

    # -- the whole command
    def run(self) -> dict:
        s = self.settings
        start = time.perf_counter()
        output.clear(self.out)
        # marked as augment's from the start: an interrupted run's folder can be replaced with --force
        atomic.write_text(self.out / "manifest.json", json.dumps({"generated_by": output.MARK, "state": "running"}))
        per_seed, first = [], None
        for seed in range(s.seed, s.seed + (s.seeds if s.evaluate else 1)):
            run = self.run_seed(seed, need_real_model=s.evaluate)
            if first is None:
                first = run
            if s.evaluate:
                test = (self.data.test.x, self.data.test.y)
                per_seed.append(evaluate.rows_for_seed(run.real, run.synthetic, test, self.classes, self.flips, seed,
                                                       steps=s.classifier_steps, synthetic_share=s.synthetic_share,
                                                       real_model=run.real_model))
        table = evaluate.summarise(per_seed, s.minority) if per_seed else None
        result = {"settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(s).items()},
                  "data": {"name": self.data.name, "test_split": self.data.test_split, "classes": self.data.class_names,
                           "real_per_class": self.counts, "synthetic_per_class": self.wanted(),
                           "classical_augmentation": "shifts up to 1/14 of the side" + (", horizontal flips"
                                                                                       if self.flips else "")},
                  "gan": {"preset": "augment-cgan", "seconds_first_seed": round(first.gan_seconds, 1)},
                  "evaluation": table, "seconds": None}
        manifest = output.write_set(self.out, first.real, first.synthetic, self.data.class_names,
                                    {k: v for k, v in result.items() if k != "evaluation"})
        result["seconds"] = round(time.perf_counter() - start, 1)
        from ganforge.viz.augment_report import write_report
        result["report"] = str(write_report(self.out, result, first.real, first.synthetic, self.data.class_names))
        atomic.write_text(self.out / "evaluation.json", json.dumps(result, indent=1))
        result["manifest"] = str(manifest)
        return result

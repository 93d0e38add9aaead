"""Projection: find the z whose generated image best matches a real one, by optimisation.

``ProjectPipeline.from_pretrained(run)("photo.png")`` returns a :class:`Projection` with
the latent ``z``, the reconstruction ``G(z)`` and its loss. Several random starts run side
by side as one batch (G is in eval mode, so each start is optimised independently) and the
best one per image is kept. The loss is the pixel MSE plus, optionally, ``feature_weight``
times the MSE between ``features(G(z))`` and ``features(target)`` for any differentiable
module you pass (a perceptual network, a discriminator trunk, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from ganforge.data.folder import fit_image, read_image
from ganforge.errors import GanforgeError
from ganforge.pipelines.base import Pipeline
from ganforge.resolution import size as image_size
from ganforge.viz.grid import to_uint8

ImageInput = str | Path | Image.Image | np.ndarray | torch.Tensor


@dataclass
class Projection:
    """The result for N target images (N = 1 for a single image)."""

    z: torch.Tensor                 # (N, z_dim) the best latent per image
    images: torch.Tensor | np.ndarray  # (N, C, H, W) G(z) in [-1, 1], or uint8 (N, H, W, C) for "np"
    loss: torch.Tensor              # (N,) the final objective per image
    mse: torch.Tensor               # (N,) pixel MSE in [-1, 1] units per image
    labels: torch.Tensor | None     # (N,) class used, for conditional models
    target: torch.Tensor            # (N, C, H, W) the images projected, in [-1, 1]


class ProjectPipeline(Pipeline):
    """`pipe(image)` -> Projection: z, G(z), loss; `image` a path, PIL image, uint8 array
    (H, W, C) or a float tensor (C, H, W) / (N, C, H, W) in [-1, 1]."""

    @property
    def image_shape(self) -> tuple[int, int, int]:
        h, w = image_size(self.G.resolution)  # a side, or [h, w] for non-square models
        return (self.G.channels, h, w)

    def load_target(self, image: ImageInput | Sequence[ImageInput]) -> torch.Tensor:
        """Any accepted input -> float (N, C, H, W) in [-1, 1] at the generator's size.
        Files and Pillow images are converted and resized; arrays and tensors must fit."""
        if self.G.resolution == 0:
            raise GanforgeError("projection needs an image model; this one generates points")
        if isinstance(image, (list, tuple)):
            return torch.cat([self.load_target(im) for im in image])
        c, h, w = self.image_shape
        if isinstance(image, (str, Path)):
            image = read_image(image, (h, w), c)
        elif isinstance(image, Image.Image):
            image = fit_image(image, (h, w), c)
        if isinstance(image, np.ndarray):
            image = self._from_uint8(image)
        if not isinstance(image, torch.Tensor):
            raise GanforgeError(f"cannot project a {type(image).__name__} (expected a path, a PIL "
                                "image, a uint8 array or a tensor)")
        x = image.detach().float().cpu()
        x = x[None] if x.dim() == 3 else x
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape or len(x) == 0:
            raise GanforgeError(f"image tensor has shape {tuple(image.shape)} but the generator makes "
                                f"{'x'.join(map(str, self.image_shape))} images (C, H, W)")
        if not torch.isfinite(x).all() or x.abs().max() > 1 + 1e-3:
            raise GanforgeError("image tensor values must be finite and in [-1, 1]")
        return x

    def _from_uint8(self, a: np.ndarray) -> torch.Tensor:
        if a.dtype != np.uint8:
            raise GanforgeError(f"image array must be uint8 (H, W, C), got {a.dtype}")
        a = a[..., None] if a.ndim == 2 else a
        if a.ndim != 3:
            raise GanforgeError(f"image array must be (H, W) or (H, W, C), got shape {a.shape}")
        return torch.tensor(a).permute(2, 0, 1).float() / 127.5 - 1  # a copy: Pillow arrays are read-only

    def _labels(self, label: int | None, n: int) -> torch.Tensor | None:
        """(n * candidates,) labels: the given class, or every class when none is given."""
        c_dim = self.G.c_dim
        if label is not None and not c_dim:
            raise GanforgeError(f"label {label} given, but the model is not conditional")
        if not c_dim:
            return None
        if label is None:
            return torch.arange(c_dim)  # search every class; the best wins
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < c_dim:
            raise GanforgeError(f"label must be an integer from 0 to {c_dim - 1}, got {label!r}")
        return torch.tensor([int(label)])

    def __call__(self, image: ImageInput | Sequence[ImageInput], *, steps: int = 300, lr: float = 0.05,
                 restarts: int = 4, label: int | None = None,
                 features: Callable[[torch.Tensor], torch.Tensor] | None = None, feature_weight: float = 1.0,
                 seed: int = 0, generator: torch.Generator | None = None, progress: bool = True,
                 output_type: str = "pt") -> Projection:
        """Optimise z (Adam, cosine-decayed `lr`) for `steps` steps from `restarts` random
        starts per image (per class too, for conditional models without `label`); keep the
        best. `generator` (or `seed`) draws the starts. output_type "pt" or "np" (images
        as uint8 (N, H, W, C))."""
        if output_type not in ("pt", "np"):
            raise GanforgeError(f"output_type must be 'pt' or 'np', got {output_type!r}")
        for name, value in (("steps", steps), ("restarts", restarts)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GanforgeError(f"{name} must be a positive integer, got {value!r}")
        if not lr > 0 or not feature_weight >= 0:
            raise GanforgeError(f"lr must be > 0 and feature_weight >= 0, got {lr!r} and {feature_weight!r}")
        target = self.load_target(image)  # (N, C, H, W)
        n, classes = len(target), self._labels(label, len(target))
        k = restarts * (1 if classes is None else len(classes))  # candidates per image
        g = generator if generator is not None else torch.Generator().manual_seed(seed)
        z0 = torch.randn(n * k, self.G.z_dim, generator=g)  # drawn on the CPU: same starts anywhere
        c = None if classes is None else classes.repeat_interleave(restarts).repeat(n).to(self.device)
        z, loss, mse, fake = self._optimise(z0, c, target.repeat_interleave(k, 0), steps, lr,
                                            features, feature_weight, progress)
        best = loss.view(n, k).argmin(1) + torch.arange(n) * k  # (N,) index of each image's best
        images = fake[best]
        return Projection(z[best], images if output_type == "pt" else to_uint8(images), loss[best],
                          mse[best], None if c is None else c[best].cpu(), target)

    def _objective(self, fake, target, target_features, features, feature_weight):
        """(B,) loss and (B,) pixel MSE per candidate."""
        mse = (fake - target).pow(2).flatten(1).mean(1)
        if features is None or feature_weight == 0:
            return mse, mse
        diff = (features(fake) - target_features).pow(2)
        return mse + feature_weight * diff.flatten(1).mean(1), mse

    def _optimise(self, z0, c, target, steps, lr, features, feature_weight, progress):
        target = target.to(self.device)
        target_features = None
        if features is not None and feature_weight:
            with torch.no_grad():
                target_features = features(target)
        z = z0.to(self.device).requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr, betas=(0.9, 0.999))
        bar = tqdm(range(steps), desc="projecting", unit="step", disable=not progress, leave=False)
        for step in bar:
            for group in opt.param_groups:  # cosine decay to 0: large moves first, then settle
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            loss, _ = self._objective(self.G(z, c), target, target_features, features, feature_weight)
            opt.zero_grad(set_to_none=True)
            # Candidates are independent (G in eval mode): the sum's gradient is each one's own.
            loss.sum().backward(inputs=[z])  # no gradients for G's weights
            opt.step()
            if step % 25 == 0 or step == steps - 1:
                bar.set_postfix(loss=f"{loss.min().item():.4f}")
        with torch.no_grad():
            fake = self.G(z, c)
            loss, mse = self._objective(fake, target, target_features, features, feature_weight)
        return z.detach().cpu(), loss.float().cpu(), mse.float().cpu(), fake.float().cpu()

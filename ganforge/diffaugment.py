"""DiffAugment (Zhao et al. 2020): differentiable augmentations for data-efficient GANs.

The same random augmentation family is applied to every image the discriminator sees,
real and fake alike, so D cannot tell them apart by the augmentation, and because every
operation is differentiable, G's gradients flow back through it. Each call draws fresh
per-sample parameters from ``generator`` (a ``torch.Generator``), so a run that seeds and
checkpoints that generator stays deterministic and resumable.

Policies (comma-separated, applied in this order of the string):
  color        brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5]
  translation  shift by up to 1/8 of the height and width, zero-padded
  cutout       zero one rectangle of half the height and width, centred anywhere

``diff_augment(x, "color,translation,cutout", generator=g)`` or
``DiffAugment("translation,cutout")(x, generator=g)``; x is float ``(N, C, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ganforge.errors import GanforgeError

TRANSLATION_RATIO = 0.125  # largest shift as a fraction of the side
CUTOUT_RATIO = 0.5         # cutout side as a fraction of the image side


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """(N, 1, 1, 1) uniform [0, 1) numbers, drawn on the generator's device, used on x's."""
    device = generator.device if generator is not None else x.device
    u = torch.rand(x.shape[0], 1, 1, 1, generator=generator, device=device, dtype=torch.float32)
    return u.to(device=x.device, dtype=x.dtype)


def _randint(low: int, high: torch.Tensor | int, n: int, x: torch.Tensor,
             generator: torch.Generator | None) -> torch.Tensor:
    """(n,) int64 in [low, high), drawn on the generator's device, moved to x's."""
    device = generator.device if generator is not None else x.device
    return torch.randint(low, high, (n,), generator=generator, device=device).to(x.device)


def brightness(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return x + (_uniform(x, generator) - 0.5)


def saturation(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)  # (N, 1, H, W); a no-op for one channel
    return (x - mean) * (_uniform(x, generator) * 2) + mean


def contrast(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator | None = None,
                ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each image by its own (dy, dx) in [-H*ratio, H*ratio] x [-W*ratio, W*ratio];
    pixels shifted in from outside are zero. One gather: out[i, j] = pad(x)[i + dy, j + dx]."""
    n, c, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _randint(-sy, sy + 1, n, x, generator).view(n, 1, 1)
    dx = _randint(-sx, sx + 1, n, x, generator).view(n, 1, 1)
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + 1).clamp(0, h + 1)  # (N, H, 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + 1).clamp(0, w + 1)  # (N, 1, W)
    index = (rows * (w + 2) + cols).view(n, h * w)  # flat positions in the padded image
    padded = nn.functional.pad(x, [1, 1, 1, 1])  # (N, C, H+2, W+2), zero border
    if c > 1 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        # Gather whole pixels in NHWC order: the result keeps the channels_last layout D wants.
        flat = padded.permute(0, 2, 3, 1).reshape(n, (h + 2) * (w + 2), c)
        out = flat.gather(1, index.unsqueeze(2).expand(n, h * w, c))  # (N, H*W, C)
        return out.view(n, h, w, c).permute(0, 3, 1, 2)
    flat = padded.reshape(n, c, (h + 2) * (w + 2))
    return flat.gather(2, index.unsqueeze(1).expand(n, c, h * w)).view(n, c, h, w)


def cutout(x: torch.Tensor, generator: torch.Generator | None = None,
           ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Zero a (H*ratio, W*ratio) rectangle per image, its centre anywhere in the image
    (so it may be clipped by the border), as a multiplicative mask."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = _randint(0, h + (1 - ch % 2), n, x, generator).view(n, 1) - ch // 2  # top edge (N, 1)
    cx = _randint(0, w + (1 - cw % 2), n, x, generator).view(n, 1) - cw // 2  # left edge (N, 1)
    rows = torch.arange(h, device=x.device).view(1, h)
    cols = torch.arange(w, device=x.device).view(1, w)
    in_rows = (rows >= cy) & (rows < cy + ch)  # (N, H)
    in_cols = (cols >= cx) & (cols < cx + cw)  # (N, W)
    keep = ~(in_rows.unsqueeze(2) & in_cols.unsqueeze(1))  # (N, H, W)
    return x * keep.unsqueeze(1).to(x.dtype)


Op = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]
POLICIES: dict[str, list[Op]] = {
    "color": [brightness, saturation, contrast],
    "translation": [translation],
    "cutout": [cutout],
}
ALIASES = {"colour": "color"}


def parse_policy(policy: str | Sequence[str] | None) -> tuple[str, ...]:
    """"color,translation" or ["color", "translation"] -> ("color", "translation");
    None, "" or "none" -> () (no augmentation). Unknown names are a GanforgeError."""
    if policy is None:
        return ()
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    names = [ALIASES.get(str(p).strip().lower(), str(p).strip().lower()) for p in names]
    names = [p for p in names if p and p != "none"]
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise GanforgeError(f"unknown DiffAugment policy {unknown[0]!r} (expected a comma-separated "
                            f"list of: {', '.join(POLICIES)})")
    return tuple(names)


def diff_augment(x: torch.Tensor, policy: str | Sequence[str] | None = "color,translation,cutout",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Augment a float batch (N, C, H, W) with the named policies; differentiable in x.

    Random numbers come from ``generator`` (on any device; they are moved to x's), or from
    torch's global generator for x's device when it is None."""
    names = parse_policy(policy)
    if names and x.dim() != 4:
        raise GanforgeError(f"DiffAugment expects images (N, C, H, W), got shape {tuple(x.shape)}")
    for name in names:
        for op in POLICIES[name]:
            x = op(x, generator)
    return x


class DiffAugment(nn.Module):
    """``DiffAugment(policy)(x, generator=None)``: :func:`diff_augment` as a module.

    Put it in front of the discriminator for both real and fake batches:
    ``D(aug(real, generator=g), c)`` and ``D(aug(fake, generator=g), c)``. It has no
    parameters; its randomness is the caller's generator (or ``generator`` given here)."""

    def __init__(self, policy: str | Sequence[str] | None = "color,translation,cutout",
                 generator: torch.Generator | None = None):
        super().__init__()
        self.policy = parse_policy(policy)   # validated once, at construction
        self.generator = generator           # default source of randomness for forward

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return diff_augment(x, self.policy, generator if generator is not None else self.generator)

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy) or 'none'!r}"

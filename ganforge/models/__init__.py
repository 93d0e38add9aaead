"""Model families. Every generator is `forward(z, c=None)`, every discriminator
`forward(x, c=None) -> logits (B,)`; both carry `z_dim` (G), `c_dim`, `resolution`
(0 for points) and `channels` (point dimension for points), and `hparams`, the keyword
arguments that rebuild them (see ganforge.modeling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from ganforge.errors import GanforgeError
from ganforge.models import dcgan, mlp, resnet, toy
from ganforge.models.layers import CONDITIONING

if TYPE_CHECKING:
    from ganforge.config import Config

FAMILIES = {"toy": toy, "mlp": mlp, "dcgan": dcgan, "resnet": resnet}
FAMILY_KINDS = {"toy": "points", "mlp": "images", "dcgan": "images", "resnet": "images"}
RESOLUTIONS = {  # what each image family can make, for error messages
    "dcgan": "4*2^k or 7*2^k: 8, 16, 32, 64, 128, 256, 14, 28, 56, ...",
    "resnet": "a power of two: 8, 16, 32, 64, 128, 256",
}
AUTO = {"points": "toy", "images": "dcgan"}  # family "auto" by the data's kind


def build_models(cfg: Config, kind: str, shape: tuple[int, ...], num_classes: int,
                 scale: float = 1.0) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for data of `kind` ("points"/"images") and sample `shape`; points of
    spread `scale` (their std) are learnt in unit-scale coordinates."""
    m = cfg.model
    family = m.family if m.family != "auto" else AUTO[kind]
    if FAMILY_KINDS[family] != kind:
        fits = [f for f, k in FAMILY_KINDS.items() if k == kind]
        raise GanforgeError(f"model '{family}' makes {FAMILY_KINDS[family]} but data "
                            f"'{cfg.data.source}' is {kind} (use --model {' or '.join(fits)})")
    c_dim = num_classes if m.conditional else 0
    if m.conditional and num_classes == 0:
        raise GanforgeError(f"a conditional model needs labels, and data '{cfg.data.source}' has none")
    if m.conditioning not in CONDITIONING:
        raise GanforgeError(f"unknown conditioning '{m.conditioning}' (expected one of: {', '.join(CONDITIONING)})")
    if kind == "points":
        if c_dim and m.conditioning != "concat":
            raise GanforgeError(f"the toy model conditions by concatenation only, not '{m.conditioning}'")
        return (toy.Generator(m.z_dim, shape[0], m.width, m.depth, c_dim, scale),
                toy.Discriminator(shape[0], m.width, m.depth, c_dim, m.spectral_norm, scale))
    channels, h, w = shape
    if h != w:
        raise GanforgeError(f"model '{family}' makes square images; data is {h}x{w} (set --resolution)")
    mod = FAMILIES[family]
    if hasattr(mod, "plan") and mod.plan(h) is None:
        raise GanforgeError(f"{family} cannot make {h} px images (expected {RESOLUTIONS[family]}); set --resolution")
    G = mod.Generator(m.z_dim, h, channels, m.width, c_dim)
    d_kwargs = dict(spectral_norm=m.spectral_norm, conditioning=m.conditioning)
    if family == "dcgan":
        # BatchNorm in D mixes samples, which breaks per-sample gradient penalties; spectral
        # norm replaces it as D's stabiliser.
        d_kwargs["batchnorm"] = not (m.spectral_norm or cfg.loss.name == "wgan-gp" or cfg.loss.r1_gamma > 0)
    return G, mod.Discriminator(h, channels, m.width, c_dim, **d_kwargs)

"""Model families. Every generator is `forward(z, c=None)`, every discriminator
`forward(x, c=None) -> logits (B,)`; both carry `z_dim` (G), `c_dim`, `resolution`
(0 for points; a side, or [height, width] for non-square images), `image_size` ((height,
width); images only), `channels` (point dimension for points), and `hparams`, the keyword
arguments that rebuild them (see ganforge.modeling). Image-to-image translators are
`forward(x) -> y` (the CycleGAN pair: `forward(x, direction)`), their PatchGAN `forward(x, c=None)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from ganforge.errors import GanforgeError
from ganforge.models import (
    dcgan,
    inpainter,
    mlp,
    mocogan,
    molgan,
    musegan,
    patchgan,
    resnet,
    resnet_translator,
    seqgan,
    specgan,
    srresnet,
    toy,
    translator_pair,
    unet,
    wavegan,
)
from ganforge.models.layers import CONDITIONING, G_CONDITIONING, PLANS, plan
from ganforge.resolution import describe, hparam

if TYPE_CHECKING:
    from ganforge.config import Config

FAMILIES = {"toy": toy, "mlp": mlp, "dcgan": dcgan, "resnet": resnet, "musegan": musegan, "molgan": molgan,
            "wavegan": wavegan, "specgan": specgan, "seqgan": seqgan, "mocogan": mocogan}
FAMILY_KINDS = {"toy": "points", "mlp": "images", "dcgan": "images", "resnet": "images", "musegan": "music",
                "molgan": "molecules", "wavegan": "audio", "specgan": "audio", "seqgan": "text",
                "mocogan": "video"}
PLANNED = ("dcgan", "resnet")  # families that double a base map: only some sizes (layers.plan)
AUTO = {"points": "toy", "images": "dcgan", "music": "musegan", "molecules": "molgan", "audio": "wavegan",
        "text": "seqgan", "video": "mocogan"}  # family "auto" by the data's kind
# image-to-image generators, x -> y (pix2pix's U-Net, CycleGAN's ResNet and its A <-> B pair; SRResNet's
# upscaler, x -> y `scale` times bigger)
TRANSLATORS = {"unet": unet, "resnet-translator": resnet_translator, "translator-pair": translator_pair,
               "srresnet": srresnet, "inpainter": inpainter}  # inpainter: the repair game's (holed x, mask) -> x
# discriminators of images given images, patch logits (B, 1, h, w) for the translation games
DISCRIMINATORS = {"patchgan": patchgan}


def build_models(cfg: Config, kind: str, shape: tuple[int, ...], num_classes: int,
                 scale: float = 1.0) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for data of `kind` ("points", "images", "music", "molecules", "audio", "video") and sample `shape`; points of
    spread `scale` (their std) are learnt in unit-scale coordinates."""
    m = cfg.model
    family = m.family if m.family != "auto" else AUTO[kind]
    if m.family == "auto" and kind == "audio" and len(shape) == 3:
        family = "specgan"  # audio as spectrograms (--representation spectrogram): SpecGAN's
    if FAMILY_KINDS[family] != kind:
        fits = [f for f, k in FAMILY_KINDS.items() if k == kind]
        raise GanforgeError(f"model '{family}' makes {FAMILY_KINDS[family]} but data "
                            f"'{cfg.data.source}' is {kind} (use --model {' or '.join(fits)})")
    c_dim = num_classes if m.conditional else 0
    if kind == "text":  # (the text games build their own: the vocabulary is the data's)
        raise GanforgeError("text is discrete, and the generation game needs G's gradient through its samples: "
                            "train text with --game mle, seqgan or gumbel")
    if kind == "music":
        return _musegan(cfg, shape)
    if kind == "molecules":
        return _molgan(cfg, shape)
    if m.conditional and num_classes == 0:
        raise GanforgeError(f"a conditional model needs labels, and data '{cfg.data.source}' has none")
    if m.conditioning not in CONDITIONING:
        raise GanforgeError(f"unknown conditioning '{m.conditioning}' (expected one of: {', '.join(CONDITIONING)})")
    if m.g_conditioning not in G_CONDITIONING:
        raise GanforgeError(f"unknown generator conditioning '{m.g_conditioning}' "
                            f"(expected one of: {', '.join(G_CONDITIONING)})")
    if m.g_conditioning != "concat" and not (c_dim and family in PLANNED):
        raise GanforgeError(f"--g-conditioning {m.g_conditioning} is for conditional {' and '.join(PLANNED)} "
                            f"generators (this one is {'conditional ' if c_dim else 'unconditional '}{family})")
    if kind == "audio":
        return _audio_models(cfg, family, shape, c_dim)
    if kind == "video":
        return _mocogan(cfg, shape, c_dim)
    if kind == "points":
        if c_dim and m.conditioning != "concat":
            raise GanforgeError(f"the toy model conditions by concatenation only, not '{m.conditioning}'")
        return (toy.Generator(m.z_dim, shape[0], m.width, m.depth, c_dim, scale),
                toy.Discriminator(shape[0], m.width, m.depth, c_dim, m.spectral_norm, scale))
    channels, h, w = shape
    mod = FAMILIES[family]
    if family in PLANNED and plan((h, w)) is None:
        raise GanforgeError(f"{family} cannot make {describe((h, w))} images (expected {PLANS}); set --resolution")
    resolution = hparam((h, w))
    g_kwargs = {"g_conditioning": m.g_conditioning} if family in PLANNED else {}
    G = mod.Generator(m.z_dim, resolution, channels, m.width, c_dim, **g_kwargs)
    d_kwargs = dict(spectral_norm=m.spectral_norm, conditioning=m.conditioning)
    if family == "dcgan":
        # BatchNorm in D mixes samples, which breaks per-sample gradient penalties; spectral
        # norm replaces it as D's stabiliser.
        d_kwargs["batchnorm"] = not (m.spectral_norm or cfg.loss.name == "wgan-gp" or cfg.loss.r1_gamma > 0)
    return G, mod.Discriminator(resolution, channels, m.width, c_dim, **d_kwargs)


def _musegan(cfg: Config, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """MuseGAN's G and D for rolls of `shape` (tracks, bars, steps, pitches)."""
    m = cfg.model
    if m.conditional:
        raise GanforgeError("MuseGAN models are unconditional: drop --conditional for music")
    tracks, bars, steps, pitches = shape
    shared, private = musegan.latent_parts(m.multitrack)
    parts = shared + private * tracks  # z is split into this many latents (checked before building G)
    if m.z_dim // parts < 2:
        raise GanforgeError(f"--z-dim {m.z_dim} is too small for the {m.multitrack} model of {tracks} tracks "
                            f"(it splits z into {parts} parts: give at least {2 * parts})")
    return (musegan.Generator(m.z_dim, tracks, bars, steps, pitches, m.multitrack, m.width),
            musegan.Discriminator(tracks, bars, steps, pitches, m.multitrack, m.width))


def _molgan(cfg: Config, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """MolGAN's G and D for molecules of `shape` (atoms, atom types + atoms * bond types)."""
    m = cfg.model
    if m.conditional:
        raise GanforgeError("MolGAN models are unconditional: drop --conditional for molecules")
    atoms = shape[0]
    atom_types = shape[1] - atoms * molgan.EDGE_TYPES
    return (molgan.Generator(m.z_dim, atoms, atom_types, m.width, straight_through=m.straight_through),
            molgan.Discriminator(atoms, atom_types, m.width))


def _mocogan(cfg: Config, shape: tuple[int, ...], c_dim: int) -> tuple[nn.Module, nn.Module]:
    """MoCoGAN's G and its two discriminators for clips of `shape` (channels, frames, height, width)."""
    m = cfg.model
    channels, frames, h, w = shape
    if plan((h, w)) is None:
        raise GanforgeError(f"mocogan cannot make {describe((h, w))} frames (expected {PLANS}); set --resolution")
    if m.conditioning == "acgan" and c_dim:
        raise GanforgeError("mocogan's discriminators condition by concat or projection, not acgan")
    if m.z_dim <= mocogan.MOTION_DIM:
        raise GanforgeError(f"--z-dim {m.z_dim} leaves no content latent: mocogan takes {mocogan.MOTION_DIM} of it "
                            f"for the motion (give at least {mocogan.MOTION_DIM + 1})")
    resolution = hparam((h, w))
    batchnorm = not (m.spectral_norm or cfg.loss.name == "wgan-gp" or cfg.loss.r1_gamma > 0)
    return (mocogan.Generator(m.z_dim, resolution, channels, m.width, c_dim, frames),
            mocogan.Discriminator(resolution, channels, m.width, c_dim, frames, m.spectral_norm, batchnorm,
                                  m.conditioning))


def _audio_models(cfg: Config, family: str, shape: tuple[int, ...], c_dim: int) -> tuple[nn.Module, nn.Module]:
    """WaveGAN's G and D for clips of `shape` (channels, length), SpecGAN's for their
    spectrograms (1, 128, 128)."""
    m = cfg.model
    spectrogram = len(shape) == 3
    if family == "wavegan" and spectrogram:
        raise GanforgeError("wavegan learns waveforms, and these clips are spectrograms (--representation "
                            "spectrogram): use --model specgan, or --representation waveform")
    if family == "specgan":
        if not spectrogram:
            raise GanforgeError("specgan learns spectrograms, and these clips are waveforms (--representation "
                                "waveform): use --representation spectrogram (or auto), or --model wavegan")
        return (specgan.Generator(m.z_dim, m.width, c_dim),
                specgan.Discriminator(m.width, c_dim, m.conditioning, m.spectral_norm))
    channels, length = shape
    if length not in wavegan.LENGTHS:
        raise GanforgeError(f"wavegan makes clips of {', '.join(map(str, wavegan.LENGTHS))} samples (16 * 4^k), "
                            f"not {length}: set --length")
    return (wavegan.Generator(m.z_dim, length, channels, m.width, c_dim),
            wavegan.Discriminator(length, channels, m.width, c_dim, m.conditioning, m.phase_shuffle, m.spectral_norm))

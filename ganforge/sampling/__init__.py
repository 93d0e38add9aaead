"""Better samples from a trained generator: the truncation trick, DRS and MH-GAN.

    drawn = draw(G, 1000, "drs", D=load_discriminator(run), seed=0)
    drawn.samples, drawn.labels, drawn.stats["per_sample"]   # generated samples per output one

Samplers by name (each file one family):

- ``plain``: z ~ N(0, I), what `generate` always did (the same samples for the same seed);
- ``truncation``: z from a normal truncated at ``truncation`` (Brock et al. 2019; latents.py);
- ``drs``: discriminator rejection sampling (Azadi et al. 2019; drs.py);
- ``mh``: Metropolis-Hastings GAN, independent proposals from G (Turner et al. 2019; mh.py).

DRS and MH need the trained discriminator, exported only when asked for
(`train --export-discriminator`), calibrated first on held-out real data against G's own
samples (calibration.py, real.py). Their price is extra generated samples: ``stats``
holds ``generated`` and ``per_sample`` (generated / returned), recorded with every result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import GanforgeError
from ganforge.sampling.calibration import CalibratedCritic, calibrate
from ganforge.sampling.drs import drs
from ganforge.sampling.latents import check_truncation, latents, run_generator
from ganforge.sampling.mh import CHAIN, mh
from ganforge.sampling.real import held_out

SAMPLERS = {"plain": "z ~ N(0, I)",
            "truncation": "the truncation trick: z resampled where |z_i| > --truncation (Brock et al. 2019)",
            "drs": "discriminator rejection sampling (Azadi et al. 2019)",
            "mh": "Metropolis-Hastings GAN, chains of --mh-steps proposals (Turner et al. 2019)"}
NEEDS_DISCRIMINATOR = ("drs", "mh")
DEFAULT_TRUNCATION = 0.7
CALIBRATION = 2000      # held-out real and generated samples D is calibrated on (each)
PROGRESS_MIN = 1000     # progress=None: a bar for DRS / MH from this many samples on


@dataclass
class Drawn:
    samples: torch.Tensor                 # (n, ...) float on the CPU: points, or images in [-1, 1]
    labels: torch.Tensor | None           # (n,) class labels of a conditional model's samples
    stats: dict = field(default_factory=dict)  # sampler, its settings, generated, per_sample


def check_sampler(name: str, truncation: float | None = None) -> str:
    """The sampler's name (``truncation`` given alone means the truncation trick), checked."""
    name = name or ("truncation" if truncation is not None else "plain")
    if name not in SAMPLERS:
        raise GanforgeError(f"unknown sampler {name!r}; expected one of: {', '.join(SAMPLERS)}")
    if truncation is not None and name != "truncation":
        raise GanforgeError(f"--truncation is a setting of --sampler truncation, not of {name}")
    return name


def make_critic(G: nn.Module, D: nn.Module | None, seed: int = 0, n: int = CALIBRATION,
                batch_size: int = 256) -> CalibratedCritic:
    """D calibrated on n held-out real samples against n of G's (a stream apart from the output's)."""
    if D is None:
        raise GanforgeError("DRS and MH sampling need the model's discriminator; export it with the generator: "
                            "train with --export-discriminator")
    D = D.to(next(G.parameters()).device).eval()
    real = held_out(G, n, seed)
    gen = torch.Generator().manual_seed(seed + 202)
    c_dim = getattr(G, "c_dim", 0)
    labels = torch.randint(c_dim, (len(real.x),), generator=gen) if c_dim else None
    fake = run_generator(G, latents(len(real.x), G.z_dim, gen), labels, batch_size)
    return calibrate(D, real, fake, labels, batch_size)


@torch.no_grad()
def draw(G: nn.Module, n: int, sampler: str = "plain", *, D: nn.Module | None = None, seed: int = 0,
         labels: torch.Tensor | None = None, batch_size: int = 256, truncation: float | None = None,
         mh_steps: int = CHAIN, drs_percentile: float = 95.0, progress: bool | None = None) -> Drawn:
    """n samples of G by `sampler` (see SAMPLERS), seeded; `labels` (n,) for conditional models."""
    sampler = check_sampler(sampler, truncation)
    gen = torch.Generator().manual_seed(seed)
    stats: dict = {"sampler": sampler}
    if sampler in ("plain", "truncation"):
        t = check_truncation(truncation or DEFAULT_TRUNCATION) if sampler == "truncation" else None
        samples = run_generator(G, latents(n, G.z_dim, gen, t), labels, batch_size)
        stats.update({"truncation": t} if t else {}, generated=n)
    else:
        critic = make_critic(G, D, seed, batch_size=batch_size)
        stats.update(critic.settings)
        bar = tqdm(total=n, desc=f"sampling ({sampler})", unit="sample", dynamic_ncols=True,
                   disable=not (n >= PROGRESS_MIN if progress is None else progress))
        with bar:
            if sampler == "drs":
                samples, more = drs(G, critic, n, gen, labels, batch_size, drs_percentile, bar=bar)
            else:
                samples, more = mh(G, critic, held_out(G, CALIBRATION, seed + 1), n, gen, labels, mh_steps,
                                   batch_size, bar=bar)
        stats.update(more)
    stats["per_sample"] = round(stats["generated"] / n, 4)
    return Drawn(samples, labels, stats)


__all__ = ["NEEDS_DISCRIMINATOR", "SAMPLERS", "Drawn", "check_sampler", "draw", "make_critic"]

"""Discriminator rejection sampling (Azadi et al. 2019, "Discriminator Rejection Sampling").

With D's calibrated logit d(x) ~ log p_data(x) / p_G(x), rejection sampling accepts a
proposal x ~ G with probability exp(d(x) - d_M), d_M the largest logit. DRS makes that
practical: d_M is estimated in a burn-in (10,000 samples) and raised whenever a larger
logit turns up; the acceptance is sigmoid(F(x)) with

    F(x) = d(x) - d_M - log(1 - exp(d(x) - d_M - eps)) - gamma,

F the log-odds of exp(d - d_M) (so sigmoid(F + gamma) = exp(d - d_M) up to eps), and gamma
a shift that trades fidelity for acceptance: the 95th percentile of F over the burn-in (as
MH-GAN's reference DRS code uses; the paper's acceptance-rate knob). Each of the n output
slots is an independent rejection sampler: the slots still empty propose again each round,
with their own class label for conditional models.
"""

from __future__ import annotations

import torch

from ganforge.errors import GanforgeError
from ganforge.sampling.calibration import CalibratedCritic
from ganforge.sampling.latents import latents, run_generator

BURN_IN = 10_000
EPS = 1e-6
MAX_COST = 1000  # proposals per output sample before giving up with a message


def acceptance(d: torch.Tensor, d_max: float, gamma: float) -> torch.Tensor:
    """sigmoid(F(x)) of calibrated logits d (N,) for the current max d_max and shift gamma."""
    return torch.sigmoid(f_values(d, d_max) - gamma)


def f_values(d: torch.Tensor, d_max: float) -> torch.Tensor:
    delta = d - d_max  # <= 0
    return delta - torch.log1p(-torch.exp(delta - EPS))


def drs(G, critic: CalibratedCritic, n: int, gen: torch.Generator, labels: torch.Tensor | None = None,
        batch_size: int = 256, percentile: float = 95.0, burn_in: int = BURN_IN, bar=None) -> tuple[torch.Tensor, dict]:
    """n accepted samples (n, ...) and the sampler's statistics (proposals, acceptance, gamma)."""
    if not 0 <= percentile <= 100:
        raise GanforgeError(f"--drs-percentile must be in [0, 100], got {percentile}")
    c_dim = getattr(G, "c_dim", 0)
    burn_labels = torch.randint(c_dim, (burn_in,), generator=gen) if c_dim else None
    d = critic(run_generator(G, latents(burn_in, G.z_dim, gen), burn_labels, batch_size), burn_labels, batch_size)
    d_max = float(d.max())
    gamma = float(torch.quantile(f_values(d, d_max), percentile / 100))
    out, pending, generated = None, torch.arange(n), 0
    while len(pending):
        if generated > MAX_COST * n:
            raise GanforgeError(f"DRS accepted {n - len(pending)} of {n} samples in {generated} proposals; lower "
                                f"--drs-percentile (now {percentile:g}) to accept more")
        c = None if labels is None else labels[pending]
        x = run_generator(G, latents(len(pending), G.z_dim, gen), c, batch_size)
        d = critic(x, c, batch_size)
        d_max = max(d_max, float(d.max()))  # a larger logit than the burn-in's raises the bound
        accept = torch.rand(len(d), generator=gen, dtype=torch.float64) < acceptance(d, d_max, gamma)
        out = torch.empty(n, *x.shape[1:]) if out is None else out
        out[pending[accept]] = x[accept]
        pending, generated = pending[~accept], generated + len(x)
        if bar is not None:
            bar.update(int(accept.sum()))
    return out, {"generated": generated, "burn_in": burn_in, "drs_percentile": percentile,
                 "drs_gamma": round(gamma, 6), "drs_max_logit": round(d_max, 6)}

"""Metropolis-Hastings GAN (Turner et al. 2019, "Metropolis-Hastings Generative Adversarial Networks").

An independent MH sampler whose proposals are G's samples: a chain at x moves to a
proposal x' ~ G with probability min(1, exp(d(x') - d(x))), d the calibrated logit (the
paper's (1/D(x) - 1) / (1/D(x') - 1) with D = sigmoid(d)). Each output sample is the last
state of its own chain of K proposals (K = 640 in the paper). As the paper does, a chain
starts at a held-out real sample, so no burn-in is needed; a chain that accepted nothing in
K steps still sits on real data, so it runs K steps more (at most RETRIES times; then its
best-scoring proposal is taken, DRS's "cherry" fallback) — outputs are always generated.
"""

from __future__ import annotations

import torch

from ganforge.errors import GanforgeError
from ganforge.sampling.calibration import CalibratedCritic
from ganforge.sampling.latents import latents, run_generator
from ganforge.sampling.real import RealSet

CHAIN = 640
RETRIES = 10


def _starts(real: RealSet, m: int, labels: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
    """A random held-out real sample for each of m chains (of the chain's class, for conditional models)."""
    if labels is None or real.labels is None:
        return real.x[torch.randint(len(real.x), (m,), generator=gen)].clone()
    index = torch.empty(m, dtype=torch.int64)
    for k in labels.unique():
        pool = (real.labels == k).nonzero().squeeze(1)
        if not len(pool):
            raise GanforgeError(f"MH sampling starts each chain at a real sample of its class; the held-out "
                                f"data has none of class {int(k)}")
        mine = (labels == k).nonzero().squeeze(1)
        index[mine] = pool[torch.randint(len(pool), (len(mine),), generator=gen)]
    return real.x[index].clone()


def _chain_block(G, critic, x, d, c, steps, gen, batch_size):
    """Run `steps` proposals on every chain of a block: states, scores, which moved, the
    best-scoring proposal of each, and how many proposals were accepted."""
    moved, accepted = torch.zeros(len(x), dtype=torch.bool), 0
    best_x, best_d = None, torch.full((len(x),), -torch.inf, dtype=torch.float64)
    for _ in range(steps):
        proposal = run_generator(G, latents(len(x), G.z_dim, gen), c, batch_size)
        d_new = critic(proposal, c, batch_size)
        accept = torch.rand(len(x), generator=gen, dtype=torch.float64).log() <= d_new - d
        x[accept], d[accept] = proposal[accept], d_new[accept]
        moved |= accept
        accepted += int(accept.sum())
        better = d_new > best_d
        best_x = proposal.clone() if best_x is None else torch.where(_expand(better, proposal), proposal, best_x)
        best_d = torch.where(better, d_new, best_d)
    return x, d, moved, best_x, accepted


def _expand(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return mask.reshape(-1, *[1] * (like.dim() - 1))


def mh(G, critic: CalibratedCritic, real: RealSet, n: int, gen: torch.Generator, labels: torch.Tensor | None = None,
       chain: int = CHAIN, batch_size: int = 256, bar=None) -> tuple[torch.Tensor, dict]:
    """n samples, each the end of a chain of `chain` proposals, and the sampler's statistics."""
    if chain < 1:
        raise GanforgeError(f"--mh-steps must be at least 1, got {chain}")
    out, generated, retried, cherries, accepted = [], 0, 0, 0, 0
    for i in range(0, n, batch_size):
        c = None if labels is None else labels[i:i + batch_size]
        m = min(batch_size, n - i)
        x = _starts(real, m, c, gen).float()
        x, d, moved, best, k = _chain_block(G, critic, x, critic(x, c, batch_size), c, chain, gen, batch_size)
        generated, accepted = generated + m * chain, accepted + k
        for _ in range(RETRIES):  # chains still on their real start: more steps
            stuck = (~moved).nonzero().squeeze(1)
            if not len(stuck):
                break
            retried += len(stuck)
            cs = None if c is None else c[stuck]
            xs, ds, ms, bs, k = _chain_block(G, critic, x[stuck], d[stuck], cs, chain, gen, batch_size)
            x[stuck], d[stuck], moved[stuck], best[stuck] = xs, ds, ms, bs
            generated, accepted = generated + len(stuck) * chain, accepted + k
        stuck = ~moved
        x[stuck], cherries = best[stuck], cherries + int(stuck.sum())
        out.append(x)
        if bar is not None:
            bar.update(m)
    return torch.cat(out), {"generated": generated, "mh_steps": chain, "mh_acceptance": round(accepted / generated, 6),
                            "mh_chains_extended": retried, "mh_cherry_picked": cherries}

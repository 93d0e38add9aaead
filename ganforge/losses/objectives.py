"""GAN objectives as pure functions of discriminator logits.

Each objective gives the discriminator's loss on real and on fake logits (to be added)
and the generator's loss on fake logits. All return means over the batch. Logits are
pre-sigmoid scores; D(x) = sigmoid(logit) where a probability is meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import Tensor
from torch.nn.functional import relu, softplus

TermFn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Objective:
    name: str
    d_real: TermFn   # D's loss on real logits
    d_fake: TermFn   # D's loss on fake logits
    g: TermFn        # G's loss on fake logits


# Goodfellow et al. 2014, V(D, G) exactly: D maximises log D(x) + log(1 - D(G(z))), i.e. minimises
# softplus(-r) + softplus(f); G minimises log(1 - D(G(z))) = -softplus(f). (Saturates early on.)
minimax = Objective("minimax", lambda r: softplus(-r).mean(), lambda f: softplus(f).mean(),
                    lambda f: -softplus(f).mean())

# The same D; G maximises log D(G(z)) instead (strong gradients when D rejects the fakes).
non_saturating = Objective("non-saturating", minimax.d_real, minimax.d_fake, lambda f: softplus(-f).mean())

# Arjovsky et al. 2017: D (the critic) maximises E[D(x)] - E[D(G(z))]; needs a Lipschitz constraint
# (weight clipping or a gradient penalty).
wasserstein = Objective("wasserstein", lambda r: -r.mean(), lambda f: f.mean(), lambda f: -f.mean())

# Mao et al. 2017 (a=0, b=1, c=1): D: 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2; G: 1/2 (D(G(z)) - 1)^2.
least_squares = Objective("least-squares", lambda r: 0.5 * (r - 1).square().mean(),
                          lambda f: 0.5 * f.square().mean(), lambda f: 0.5 * (f - 1).square().mean())

# Lim & Ye 2017 / Miyato et al. 2018: D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)).
hinge = Objective("hinge", lambda r: relu(1 - r).mean(), lambda f: relu(1 + f).mean(), lambda f: -f.mean())


# Jolicoeur-Martineau 2019, the relativistic standard GAN (RSGAN; RelGAN's loss): D says how
# much more real a real sample is than a fake one, D(x) - D(G(z)); G the reverse. Functions of
# both batches' logits (paired in order), so not an Objective.
def relativistic_d(real: Tensor, fake: Tensor) -> Tensor:
    return softplus(-(real - fake)).mean()


def relativistic_g(real: Tensor, fake: Tensor) -> Tensor:
    return softplus(-(fake - real)).mean()


def accuracy(real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, Tensor]:
    """Fraction of real samples D scores above 0, of fakes below 0 (tensors: no host sync)."""
    return (real_logits > 0).float().mean(), (fake_logits < 0).float().mean()


__all__ = ["Objective", "minimax", "non_saturating", "wasserstein", "least_squares", "hinge", "accuracy"]

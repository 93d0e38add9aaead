"""Regularisers that differentiate D with respect to its inputs, and weight clipping."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _input_grad(D: nn.Module, x: Tensor, c: Tensor | None) -> Tensor:
    """dD(x)/dx summed over the batch (each sample's logit depends only on its own input
    when D has no BatchNorm), keeping the graph so the penalty itself can be trained."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x, c).sum(), x, create_graph=True)
    return grad.flatten(1)  # (B, prod(sample shape))


def gradient_penalty(D: nn.Module, real: Tensor, fake: Tensor, c: Tensor | None = None,
                     generator: torch.Generator | None = None, alpha: Tensor | None = None) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates
    x_hat = a x + (1 - a) G(z), a ~ U[0, 1] per sample (drawn from `generator` unless given as
    `alpha`, shape (B, 1, ...)). Multiply by lambda (10) outside."""
    if alpha is None:
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = torch.lerp(fake.detach(), real.detach(), alpha)  # a*real + (1-a)*fake
    return (_input_grad(D, x_hat, c).norm(2, dim=1) - 1).square().mean()


def r1_penalty(D: nn.Module, real: Tensor, c: Tensor | None = None) -> Tensor:
    """R1 (Mescheder et al. 2018): E[||grad D(x)||^2] on real data. Multiply by gamma/2 outside."""
    return _input_grad(D, real, c).square().sum(1).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, bound: float) -> None:
    """WGAN weight clipping: every parameter into [-bound, bound] after each critic step."""
    for p in module.parameters():
        p.clamp_(-bound, bound)

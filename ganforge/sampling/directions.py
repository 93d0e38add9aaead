"""Latent directions that mean something: GANSpace (Härkönen et al. 2020).

Random directions in z move many things at once. GANSpace finds the directions along which
the generator's own features vary most: sample z, record an early layer's activations y,
take their principal components, and carry each component back to z by linear regression
(z ≈ V x, x = the activations' PCA coordinates; the paper's recipe for generators without a
mapping network). Ordered by the variance they explain, the first few usually change one
visible property each (pose, thickness, brightness), which a random direction rarely does.

    basis = principal_directions(G, k=4)      # (k, z_dim), one standard deviation each
    z_moved = z + 1.5 * basis.vectors[0]        # 1.5 std along the first component
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

SAMPLES = 2000        # z drawn to estimate the components (the paper: 10^6 for BigGAN; a small G needs few)
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.PReLU, nn.Tanh)


class _Enough(Exception):
    """Raised by the hook once it has the activations: stops G's forward there."""


@dataclass
class Directions:
    vectors: torch.Tensor            # (K, z_dim): a unit of slider = one std of that component
    explained: list[float] | None    # fraction of the layer's variance each explains (None: random)
    kind: str                        # "principal" or "random"
    layer: str | None = None         # the module whose activations were decomposed


def random_directions(z_dim: int, k: int, seed: int = 1234) -> Directions:
    """k orthonormal random directions (fewer when z_dim < k)."""
    g = torch.Generator().manual_seed(seed)
    q = torch.linalg.qr(torch.randn(z_dim, min(k, z_dim), generator=g))[0]  # (z, K) orthonormal columns
    return Directions(q.T.contiguous(), None, "random")


def candidate_layers(G: nn.Module) -> list[list[tuple[str, nn.Module]]]:
    """Where to take activations, in order of preference: G's nonlinearities (the first one's
    output, after the first layer and its norm, is the earliest feature that is not a linear
    map of z, whose PCA would only be the first layer's weights'), else its layers with weights."""
    acts = [(n, m) for n, m in G.named_modules() if isinstance(m, ACTIVATIONS)]
    leaves = [(n, m) for n, m in G.named_modules()
              if next(m.children(), None) is None and next(m.parameters(), None) is not None]
    return [acts, leaves]


def _activations(G: nn.Module, layers: list[tuple[str, nn.Module]], z: torch.Tensor,
                 c: torch.Tensor | None) -> tuple[str, torch.Tensor] | None:
    """(name, (n, D) activations) of the first of `layers` to fire with one row per sample (some
    G fold their tracks into the batch), stopping G there; None when none does."""
    seen: list[tuple[str, torch.Tensor]] = []
    rows = [0]

    def record(name: str):
        def hook(module, inputs, out) -> None:
            if isinstance(out, torch.Tensor) and out.dim() >= 2 and out.shape[0] == rows[0]:
                seen.append((name, out.detach().flatten(1).clone()))  # (a copy: in-place ops may follow)
                raise _Enough  # the rest of G is not needed: a 1-s audio G costs no more than a toy
        return hook

    hooks = [m.register_forward_hook(record(name)) for name, m in layers]
    try:
        for start in range(0, len(z), 250):  # (bounded memory for larger feature maps)
            rows[0] = len(z[start:start + 250])
            try:
                G(z[start:start + 250], None if c is None else c[start:start + 250])
            except _Enough:
                pass
    finally:
        for h in hooks:
            h.remove()
    if len(seen) != -(-len(z) // 250) or len({name for name, _ in seen}) != 1:
        return None
    return seen[0][0], torch.cat([a for _, a in seen])


@torch.no_grad()
def principal_directions(G: nn.Module, k: int, n: int = SAMPLES, seed: int = 0) -> Directions:
    """The first k principal directions of G's early activations, carried to z (see the module
    docstring). A conditional G draws a random class per sample."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=g)
    c = torch.randint(G.c_dim, (n,), generator=g) if getattr(G, "c_dim", 0) else None
    was_training = G.training
    G.eval()
    try:
        found = next((a for layers in candidate_layers(G) if (a := _activations(G, layers, z, c))), None)
    finally:
        G.train(was_training)
    if found is None:
        raise ValueError(f"{type(G).__name__}: no layer of it gives per-sample activations to decompose")
    name, y = found
    y = y.double()                                          # (n, D) activations
    y = y - y.mean(0)
    k = min(k, G.z_dim, *y.shape)
    _, s, vh = torch.linalg.svd(y, full_matrices=False)    # y = U S Vh: components are Vh's rows
    x = y @ vh[:k].T                                        # (n, k) PCA coordinates
    x = x / x.std(0).clamp(min=1e-12)                       # in standard deviations
    V = torch.linalg.lstsq(x, z.double()).solution          # (k, z): z ≈ x V
    explained = (s[:k] ** 2 / (s ** 2).sum()).tolist()
    return Directions(V.float(), explained, "principal", name)

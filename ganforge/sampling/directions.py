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
WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                 nn.ConvTranspose3d)


class _Enough(Exception):
    """Raised by the hook once it has the activations: stops G's forward there."""


@dataclass
class Directions:
    vectors: torch.Tensor            # (K, z_dim): a unit of slider = one std of that component
    explained: list[float] | None    # fraction of the layer's variance each explains (None: random)
    kind: str                        # "principal" or "random"
    layer: str | None = None         # where the activations were taken ("input of net.3")


def random_directions(z_dim: int, k: int, seed: int = 1234) -> Directions:
    """k orthonormal random directions (fewer when z_dim < k)."""
    g = torch.Generator().manual_seed(seed)
    q = torch.linalg.qr(torch.randn(z_dim, min(k, z_dim), generator=g))[0]  # (z, K) orthonormal columns
    return Directions(q.T.contiguous(), None, "random")


def _weight_layers(G: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in G.named_modules() if isinstance(m, WEIGHT_LAYERS)]


def _activations(G: nn.Module, z: torch.Tensor, c: torch.Tensor | None) -> tuple[str, torch.Tensor] | None:
    """(where, (n, D) activations): what the second weight layer to run takes in, with one row per
    sample (the first layer's output after its norm and nonlinearity, however G applies them: the
    earliest feature that is not a linear map of z, whose PCA would only be the first layer's
    weights'); G is stopped there. Else (a G of one weight layer) the first layer's output, else
    (a G that folds its samples, as MoCoGAN folds frames) the first module's per-sample output.
    None when no module gives per-sample float activations."""
    seen: list[tuple[str, torch.Tensor]] = []
    state = {"rows": 0, "ran": 0, "first": None, "leaf": None}

    def per_sample(t) -> bool:
        return isinstance(t, torch.Tensor) and t.is_floating_point() and t.dim() >= 2 and t.shape[0] == state["rows"]

    def before(name: str):
        def hook(module, inputs) -> None:
            state["ran"] += 1
            if state["ran"] >= 2 and inputs and per_sample(inputs[0]):
                seen.append((f"input of {name}", inputs[0].detach().flatten(1).clone()))
                raise _Enough  # the rest of G is not needed: a deep G costs no more than a toy
        return hook

    def after(name: str, key: str):
        def hook(module, inputs, out) -> None:
            if state[key] is None and per_sample(out):
                state[key] = (f"output of {name}", out.detach().flatten(1).clone())
        return hook

    layers = _weight_layers(G)
    leaves = [(n, m) for n, m in G.named_modules() if next(m.children(), None) is None]
    hooks = [m.register_forward_pre_hook(before(name)) for name, m in layers]
    hooks += [m.register_forward_hook(after(name, "first")) for name, m in layers]
    hooks += [m.register_forward_hook(after(name, "leaf")) for name, m in leaves]
    try:
        for start in range(0, len(z), 250):  # (bounded memory for larger feature maps)
            state.update(rows=len(z[start:start + 250]), ran=0, first=None, leaf=None)
            try:
                G(z[start:start + 250], None if c is None else c[start:start + 250])
                fallback = state["first"] or state["leaf"]  # no second layer took per-sample input
                if fallback is not None:
                    seen.append(fallback)
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
        found = _activations(G, z, c)
    finally:
        G.train(was_training)
    if found is None:
        raise ValueError(f"{type(G).__name__}: no layer of it gives per-sample activations to decompose")
    name, y = found
    y = y.double()                                          # (n, D) activations
    y = y - y.mean(0)
    k = min(k, G.z_dim, *y.shape)
    # PCA by the eigenvectors of the smaller Gram matrix, (D, D) or (n, n): an SVD of a
    # (2,000, 32,768) feature matrix took a minute, this a few seconds
    if y.shape[1] <= y.shape[0]:
        variances, v = torch.linalg.eigh(y.T @ y)           # ascending; components are v's columns
        x = y @ v[:, -k:].flip(1)                           # (n, k) PCA coordinates, largest first
    else:
        variances, u = torch.linalg.eigh(y @ y.T)           # the same variances; u: coordinates' directions
        x = u[:, -k:].flip(1) * variances[-k:].flip(0).clamp(min=0).sqrt()
    x = x / x.std(0).clamp(min=1e-12)                       # in standard deviations
    V = torch.linalg.lstsq(x, z.double()).solution          # (k, z): z ≈ x V
    top = variances.flip(0)[:k].clamp(min=0)
    explained = (top / variances.clamp(min=0).sum()).tolist()
    return Directions(V.float(), explained, "principal", name)

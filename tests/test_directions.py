"""GANSpace directions (ganforge.sampling.directions) on a really trained generator, and the
image lab's choice between them and random directions."""

from __future__ import annotations

import torch

from ganforge import modeling
from ganforge.playground.imagelab import ImageLab
from ganforge.sampling.directions import principal_directions, random_directions


def _features(G, where: str, z: torch.Tensor) -> torch.Tensor:
    """The activations the directions were found in ("input of net.3"), for z (B, z_dim) -> (B, D)."""
    side, name = where.split(" of ")
    layer, seen = dict(G.named_modules())[name], []
    if side == "input":
        hook = layer.register_forward_pre_hook(lambda m, i: seen.append(i[0].flatten(1).clone()))
    else:
        hook = layer.register_forward_hook(lambda m, i, out: seen.append(out.flatten(1).clone()))
    with torch.no_grad():
        G(z)
    hook.remove()
    return seen[0]


def test_principal_directions_move_the_features_most_and_in_order(trained_runs):
    G = modeling.load(trained_runs["digits"]).eval()
    found = principal_directions(G, 4)
    assert found.kind == "principal" and found.vectors.shape == (4, G.z_dim) and found.layer
    assert all(a >= b for a, b in zip(found.explained, found.explained[1:])) and 0 < sum(found.explained) < 1
    assert torch.equal(found.vectors, principal_directions(G, 4).vectors)  # seeded
    z = torch.randn(500, G.z_dim, generator=torch.Generator().manual_seed(9))
    base = _features(G, found.layer, z)

    def moved(direction: torch.Tensor) -> float:  # mean feature change per unit of z moved
        step = direction / direction.norm()
        return float((_features(G, found.layer, z + step) - base).norm(dim=1).mean())

    principal = [moved(v) for v in found.vectors]
    randoms = [moved(v) for v in random_directions(G.z_dim, 4, seed=5).vectors]
    # the first component moves the generator's features more than any random direction does
    assert principal[0] > max(randoms), (principal, randoms)


def test_the_image_lab_offers_principal_and_random_directions(trained_runs):
    lab = ImageLab(trained_runs["digits"].parent)
    opened = lab.open("digits")
    assert opened["basis"] == "principal" and len(opened["explained"]) == 4
    moved = lab.set_directions([2.0, 0, 0, 0])
    assert moved["image"] != opened["image"]
    random = lab.set_basis("random")
    assert random["basis"] == "random" and random["explained"] is None and lab.offsets == [0.0] * 4
    assert lab.set_basis("principal")["explained"] == opened["explained"]  # seeded: the same components
    points = ImageLab(trained_runs["ring8"].parent).open("ring8")
    assert points["basis"] == "random"  # a 2-D toy's z has no features worth decomposing

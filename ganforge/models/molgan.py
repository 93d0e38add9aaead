"""MolGAN (De Cao & Kipf 2018): molecular graphs of at most N atoms, made in one shot.

A molecule is (N, A + N * E) (ganforge/data/molecules.py): per atom its type (A = vocabulary
+ "no atom") and its bond to every atom (E = none, single, double, triple), one-hot, in the
models' range {-1, 1} (probabilities p as 2p - 1).

  Generator      z -> MLP (w, 2w, 4w; tanh; the paper's 128-256-512) -> bond logits (N, N, E)
                 made symmetric, atom logits (N, A) -> softmax (or straight-through one-hot)
  Discriminator  a relational graph convolution (R-GCN, Schlichtkrull et al. 2018): two
                 layers (w, w/2), a gated sum over atoms (w), an MLP (w, w/2; tanh) -> a logit.
                 The batch's spread of each of those features is as many more inputs (the
                 minibatch standard deviation of Karras et al. 2018, per feature, in place
                 of MolGAN's own batch features), against MolGAN's known collapse.
MolGAN's reward network is the same network as D with a sigmoid (games/rewarded.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EDGE_TYPES = 4  # none, single, double, triple (ganforge.data.molecules.EDGE_TYPES)


class Generator(nn.Module):
    """z (B, z_dim) -> molecules (B, N, A + N * E) in [-1, 1]."""

    kind = "molecules"  # pipelines: written by MoleculesPipeline (`ganforge generate RUN --out mols.smi`)

    def __init__(self, z_dim: int, atoms: int, atom_types: int, width: int = 128,
                 straight_through: bool = False, c_dim: int = 0):
        super().__init__()
        if c_dim:
            raise ValueError("MolGAN models are unconditional")
        self.hparams = dict(z_dim=z_dim, atoms=atoms, atom_types=atom_types, width=width,
                            straight_through=straight_through)
        self.z_dim, self.c_dim, self.resolution, self.channels = z_dim, 0, 0, atom_types
        self.atoms, self.atom_types, self.straight_through = atoms, atom_types, straight_through
        dims = [z_dim, width, 2 * width, 4 * width]
        self.body = nn.Sequential(*[m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), nn.Tanh())])
        self.bonds = nn.Linear(dims[-1], atoms * atoms * EDGE_TYPES)
        self.types = nn.Linear(dims[-1], atoms * atom_types)
        self.register_buffer("diagonal", torch.eye(atoms, dtype=torch.bool)[:, :, None], persistent=False)

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        b, n = z.shape[0], self.atoms
        h = self.body(z)
        bonds = self.bonds(h).view(b, n, n, EDGE_TYPES)
        bonds = (bonds + bonds.transpose(1, 2)) / 2                  # a bond i-j is the bond j-i
        types = self.types(h).view(b, n, self.atom_types)
        p_bonds, p_types = self._categorical(bonds), self._categorical(types)
        no_bond = F.one_hot(torch.zeros((), dtype=torch.long, device=z.device), EDGE_TYPES).to(p_bonds.dtype)
        p_bonds = torch.where(self.diagonal, no_bond, p_bonds)         # no atom is bonded to itself
        return torch.cat([p_types, p_bonds.reshape(b, n, n * EDGE_TYPES)], dim=2) * 2 - 1

    def _categorical(self, logits: Tensor) -> Tensor:
        p = logits.softmax(-1)
        if not self.straight_through:
            return p
        hard = F.one_hot(p.argmax(-1), p.shape[-1]).to(p.dtype)
        return hard + p - p.detach()  # one-hot forward, the softmax's gradient backward


class GraphConvolution(nn.Module):
    """h_i' = tanh(W_0 h_i + sum over bond types e and atoms j of A_ije W_e h_j)."""

    def __init__(self, d_in: int, d_out: int, bond_types: int):
        super().__init__()
        self.own = nn.Linear(d_in, d_out)
        self.neighbours = nn.Linear(d_in, d_out * bond_types)
        self.bond_types, self.d_out = bond_types, d_out

    def forward(self, h: Tensor, adjacency: Tensor) -> Tensor:
        b, n, _ = h.shape                                                    # adjacency (B, e, N, N)
        messages = self.neighbours(h).view(b, n, self.bond_types, self.d_out).transpose(1, 2)  # (B, e, N, d)
        return torch.tanh(self.own(h) + (adjacency @ messages).sum(1))


class Discriminator(nn.Module):
    """molecules (B, N, A + N * E) in [-1, 1] -> logits (B,)."""

    def __init__(self, atoms: int, atom_types: int, width: int = 128, minibatch_std: bool = True,
                 c_dim: int = 0):
        super().__init__()
        if c_dim:
            raise ValueError("MolGAN models are unconditional")
        self.hparams = dict(atoms=atoms, atom_types=atom_types, width=width, minibatch_std=minibatch_std)
        self.c_dim, self.resolution, self.channels = 0, 0, atom_types
        self.atoms, self.atom_types, self.minibatch_std = atoms, atom_types, minibatch_std
        bond_types = EDGE_TYPES - 1                       # "no bond" carries no message
        half = max(width // 2, 1)
        self.conv1 = GraphConvolution(atom_types, width, bond_types)
        self.conv2 = GraphConvolution(width + atom_types, half, bond_types)  # each layer sees the atom types too
        self.gate = nn.Linear(half + atom_types, width)
        self.value = nn.Linear(half + atom_types, width)
        self.mlp = nn.Sequential(nn.Linear(width * (1 + minibatch_std), width), nn.Tanh(),
                                 nn.Linear(width, half), nn.Tanh())
        self.out = nn.Linear(half, 1)

    def features(self, x: Tensor) -> Tensor:
        """(B, N, A + N * E) -> the graph's features (B, width)."""
        p = (x + 1) / 2                                                      # probabilities
        b, n = p.shape[:2]
        types = p[..., :self.atom_types]                                     # (B, N, A)
        adjacency = p[..., self.atom_types:].reshape(b, n, n, EDGE_TYPES)[..., 1:].permute(0, 3, 1, 2)  # (B, e, N, N)
        h = self.conv1(types, adjacency)
        h = self.conv2(torch.cat([h, types], -1), adjacency)
        h = torch.cat([h, types], -1)
        return torch.tanh((torch.sigmoid(self.gate(h)) * torch.tanh(self.value(h))).sum(1))  # (B, width)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        f = self.features(x)                                                 # (B, width)
        if self.minibatch_std:  # how much the batch's graphs differ, feature by feature: a collapsed batch shows it
            spread = (f.var(0, correction=0) + 1e-8).sqrt()  # + eps: the gradient of sqrt at 0 is infinite
            f = torch.cat([f, spread.expand_as(f)], 1)
        return self.out(self.mlp(f)).squeeze(1)

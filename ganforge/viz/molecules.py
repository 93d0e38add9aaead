"""Molecules as pictures: each drawn by RDKit (2-D depiction) with its QED under it; an
invalid graph is a grey cell saying so."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

CELL = 160  # pixels a side


def molecule_pictures(mols: list, legends: list[str] | None = None) -> Tensor:
    """One RDKit molecule or None per cell -> (N, 3, CELL, CELL) in [-1, 1]."""
    from rdkit.Chem import Draw
    legends = legends or [""] * len(mols)
    cells = []
    for mol, legend in zip(mols, legends):
        if mol is None:
            im = Image.new("RGB", (CELL, CELL), (225, 225, 225))
            ImageDraw.Draw(im).text((CELL // 2 - 20, CELL // 2 - 6), legend or "invalid", fill=(90, 90, 90))
        else:
            im = Draw.MolToImage(mol, size=(CELL, CELL), legend=legend).convert("RGB")
        cells.append(torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1))
    x = torch.stack(cells).float() if cells else torch.zeros(0, 3, CELL, CELL)
    return x / 127.5 - 1


def drawn_with_qed(mols: list) -> Tensor:
    """molecule_pictures with each molecule's QED (drug-likeness) as its legend."""
    from rdkit.Chem import QED
    return molecule_pictures(mols, [f"QED {QED.qed(m):.2f}" if m is not None else "invalid" for m in mols])

"""What generated molecules are measured by (MolGAN's metrics, De Cao & Kipf 2018):

  valid   % of samples that are molecules: they sanitise in RDKit (valences) and are one piece
  unique  % of the valid ones that are different (canonical SMILES)
  novel   % of the valid ones that are not in the training set
  QED, logP, SA   means over the valid ones: drug-likeness (Bickerton et al. 2012, 0..1),
          Crippen's octanol-water partition coefficient, and Ertl & Schuffenhauer's synthetic
          accessibility (1 easy .. 10 hard; RDKit's Contrib SA_Score)

`reward` maps a property to MolGAN's [0, 1] score (1 best) for its reward network.
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache

import numpy as np

from ganforge.data.molecules import canonical, rdkit
from ganforge.errors import GanforgeError

PROPERTIES = ("qed", "logp", "sa")
# MolGAN's normalisations of logP and SA to [0, 1] (its utils: the QM9 range of logP, SA from 5 down to 1.5)
LOGP_RANGE = (-2.12178879609, 6.0429063424)
SA_RANGE = (5.0, 1.5)


@lru_cache(maxsize=1)
def _sascorer():
    from rdkit.Chem import RDConfig
    sys.path.append(f"{RDConfig.RDContribDir}/SA_Score")  # RDKit ships it as a Contrib script
    try:
        import sascorer
    except ImportError:
        raise GanforgeError("RDKit's SA_Score is missing from its Contrib folder: reinstall rdkit") from None
    return sascorer


def properties(mol) -> dict[str, float]:
    from rdkit.Chem import QED, Crippen
    return {"qed": QED.qed(mol), "logp": Crippen.MolLogP(mol), "sa": _sascorer().calculateScore(mol)}


def score(name: str, mol) -> float:
    """MolGAN's reward in [0, 1] for one property of a valid molecule."""
    if name not in PROPERTIES:
        raise GanforgeError(f"unknown molecular property '{name}' (expected one of: {', '.join(PROPERTIES)})")
    if name == "qed":
        from rdkit.Chem import QED
        return float(QED.qed(mol))
    if name == "logp":
        from rdkit.Chem import Crippen
        lo, hi = LOGP_RANGE
        return float(np.clip((Crippen.MolLogP(mol) - lo) / (hi - lo), 0, 1))
    lo, hi = SA_RANGE
    return float(np.clip((_sascorer().calculateScore(mol) - lo) / (hi - lo), 0, 1))


def molecule_metrics(mols: list, training: set[str] | frozenset[str]) -> dict[str, float]:
    """MolGAN's metrics of generated molecules (None: an invalid sample) in %, and the means
    of QED, logP and SA over the valid ones; NaN where nothing is valid."""
    rdkit()
    valid = [m for m in mols if m is not None]
    smiles = [canonical(m) for m in valid]
    result = {"valid": 100 * len(valid) / max(len(mols), 1)}
    if not valid:
        return {**result, "unique": math.nan, "novel": math.nan, "qed": math.nan, "logp": math.nan, "sa": math.nan}
    result["unique"] = 100 * len(set(smiles)) / len(smiles)
    result["novel"] = 100 * sum(s not in training for s in smiles) / len(smiles)
    # the properties of each distinct molecule once (a collapsed model repeats a few)
    first = {s: m for s, m in zip(smiles, valid)}
    props = {s: properties(m) for s, m in first.items()}
    for name in PROPERTIES:
        result[name] = float(np.mean([props[s][name] for s in smiles]))
    return result

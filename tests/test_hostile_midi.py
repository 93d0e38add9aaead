"""Hostile MIDI folders for the music domain (ganforge/data/music.py + scores.py): random bytes,
real MIDI files written with pretty_midi then truncated or flipped, a note placed far away, too
many instruments. A bad file is skipped by name with its reason; a folder of nothing usable
is one clear line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ganforge.data import load_data
from ganforge.errors import GanforgeError
from hostile import HOSTILE, clean, peak_bytes

pretty_midi = pytest.importorskip("pretty_midi")


def midi_bytes(notes: int = 8, instruments: int = 1, resolution: int = 220, last_beat: float | None = None) -> bytes:
    """A real MIDI file of `notes` quarter notes per instrument (and one at `last_beat`, if given)."""
    pm = pretty_midi.PrettyMIDI(resolution=resolution, initial_tempo=120.0)
    for i in range(instruments):
        ins = pretty_midi.Instrument(program=i % 128)
        ins.notes = [pretty_midi.Note(80, 60 + (k % 12), k * 0.5, k * 0.5 + 0.5) for k in range(notes)]
        if last_beat is not None:
            ins.notes.append(pretty_midi.Note(80, 64, last_beat * 0.5, last_beat * 0.5 + 0.5))
        pm.instruments.append(ins)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


GOOD = midi_bytes(notes=32)  # 8 bars of quarter notes


def folder_with(tmp: Path, data: bytes, name: str = "bad.mid") -> Path:
    folder = tmp / "midi"
    folder.mkdir(exist_ok=True)
    (folder / "good.mid").write_bytes(GOOD)
    (folder / name).write_bytes(data)
    return folder


def load(folder: Path):
    return clean(lambda: load_data(str(folder), bars=2))


@HOSTILE
@given(data=st.binary(max_size=300), header=st.sampled_from([b"", b"MThd", b"MThd\0\0\0\x06\0\x01\0\x02\0\x60MTrk"]),
       name=st.sampled_from(["bad.mid", "bad.MIDI"]))
def test_random_bytes_as_midi_are_skipped(tmp_path_factory, data, header, name):
    out = load(folder_with(tmp_path_factory.mktemp("m"), header + data, name))
    assert not isinstance(out, GanforgeError) and len(out) > 0  # the good file's phrases


@HOSTILE
@given(notes=st.integers(1, 40), instruments=st.integers(1, 3), cut=st.floats(0, 1),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4))
def test_truncated_and_damaged_real_midi_files(tmp_path_factory, notes, instruments, cut, flips):
    data = bytearray(midi_bytes(notes, instruments))
    for where, byte in flips:
        data[int(where * (len(data) - 1))] = byte
    data = bytes(data[:max(1, int(len(data) * cut))])
    out = clean(lambda: load_data(str(folder_with(tmp_path_factory.mktemp("t"), data)), bars=2, tracks=1))
    assert not isinstance(out, GanforgeError) and len(out) > 0


def test_a_far_away_note_is_skipped_not_allocated(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """One note 9 million ticks in at 1 tick a beat: 36M steps a roll (pretty_midi allows it)."""
    far = midi_bytes(notes=4, resolution=1, last_beat=9_000_000)
    out, peak = peak_bytes(lambda: load_data(str(folder_with(tmp_path, far)), bars=2))
    assert not isinstance(out, GanforgeError) and "bad.mid" in caplog.text and "bars long" in caplog.text
    assert peak < 320 * 2**20, peak  # pretty_midi's tick table is 72 MB of it; unbounded: 774 MB


def test_too_many_instruments_and_only_bad_files(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    out = load(folder_with(tmp_path, midi_bytes(notes=4, instruments=80)))
    assert not isinstance(out, GanforgeError) and "80 instrument tracks" in caplog.text
    (tmp_path / "midi" / "good.mid").unlink()
    (tmp_path / "midi" / "bad.mid").write_bytes(b"MThd")
    err = load(tmp_path / "midi")
    assert isinstance(err, GanforgeError) and "no usable music" in str(err)

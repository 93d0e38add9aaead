"""Music in: notes <-> piano rolls, MIDI folders of real chorales, the decode cache,
transposition, and every bad input a user can bring (one clear line, or a named skip)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data import load_data
from ganforge.data.music import TRANSPOSE, load_music
from ganforge.data.pianoroll import STEPS_PER_BAR, notes_to_roll, octave_range, phrases, roll_to_notes
from ganforge.errors import GanforgeError

sys.path.insert(0, str(Path(__file__).parent))
from music_fixtures import write_chorale_midis  # noqa: E402


@pytest.fixture(scope="session")
def chorale_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_chorale_midis(tmp_path_factory.mktemp("chorales") / "midi")


# ----------------------------------------------------------------- the grid
def test_notes_survive_a_round_trip_through_the_roll():
    notes = np.array([[0, 0, 4, 60], [0, 4, 6, 62], [1, 2, 10, 48], [1, 12, 13, 50], [0, 8, 16, 64]], np.int32)
    roll = notes_to_roll(notes, tracks=2, steps=16, low=48, pitches=24)
    back = roll_to_notes(roll, low=48)
    expected = notes[np.lexsort((notes[:, 3], notes[:, 1], notes[:, 0]))]
    assert back.tolist() == expected.tolist()


def test_repeated_notes_merge_and_out_of_range_notes_are_cut():
    notes = np.array([[0, 0, 2, 60], [0, 2, 4, 60], [0, 0, 4, 20]], np.int32)  # (20: below the roll)
    back = roll_to_notes(notes_to_roll(notes, 1, 8, low=48, pitches=24), low=48)
    assert back.tolist() == [[0, 0, 4, 60]]  # a binary roll cannot tell repeats from one long note


def test_phrases_are_whole_bars_and_silent_ones_are_dropped():
    roll = np.zeros((1, 5 * STEPS_PER_BAR + 3, 12), bool)
    roll[0, :STEPS_PER_BAR, 0] = True            # bar 0 sounds, bars 1..4 are silent
    roll[0, 3 * STEPS_PER_BAR, 5] = True         # bar 3 sounds
    cut = phrases(roll, bars=2)                  # windows at bars 0, 1, 2, 3 (the ragged end is dropped)
    assert cut.shape == (3, 1, 2, STEPS_PER_BAR, 12)   # bars 0-1, 2-3, 3-4 (1-2 is silent)


def test_octave_range_is_whole_octaves_from_c():
    assert octave_range(36, 81) == (36, 48)      # the chorales: C2 .. B5
    assert octave_range(50, 50) == (48, 12)
    assert octave_range(0, 127) == (0, 84)       # at most seven octaves


# ----------------------------------------------------------------- MIDI folders
def test_a_folder_of_chorale_midis_loads_as_four_track_phrases(chorale_folder: Path, tmp_path: Path):
    data = load_data(str(chorale_folder), cache_dir=tmp_path, bars=2)
    assert data.kind == "music"
    n, tracks, bars, steps, pitches = data.x.shape
    assert (tracks, bars, steps) == (4, 2, 16) and pitches % 12 == 0 and n > 50
    assert data.x.dtype == torch.uint8 and set(data.x.unique().tolist()) == {0, 255}
    assert data.track_names == ["Track 1", "Track 2", "Track 3", "Track 4"]
    # four voices: every track sounds in most bars, one pitch at a time
    sounding = (data.x > 0).any(-1)                           # (N, T, bars, steps)
    assert sounding.float().mean() > 0.8
    assert ((data.x > 0).sum(-1) <= 1).float().mean() > 0.99


def test_merging_tracks_and_the_cache(chorale_folder: Path, tmp_path: Path):
    merged = load_music(str(chorale_folder), bars=2, tracks=1, cache_dir=tmp_path)
    four = load_music(str(chorale_folder), bars=2, cache_dir=tmp_path)
    assert merged.x.shape[1] == 1 and len(merged) == len(four)
    assert torch.equal((merged.x > 0)[:, 0], (four.x > 0).any(1))  # the union of the voices
    assert len(list(tmp_path.glob("music-*.npz"))) == 2            # one cache entry per track setting
    again = load_music(str(chorale_folder), bars=2, cache_dir=tmp_path)
    assert torch.equal(again.x, four.x)


def test_a_changed_folder_is_decoded_again(chorale_folder: Path, tmp_path: Path):
    folder = tmp_path / "midi"
    folder.mkdir()
    files = sorted(chorale_folder.glob("*.mid"))
    for f in files[:3]:
        (folder / f.name).write_bytes(f.read_bytes())
    cache = tmp_path / "cache"
    first = load_music(str(folder), bars=2, cache_dir=cache)
    (folder / files[3].name).write_bytes(files[3].read_bytes())
    second = load_music(str(folder), bars=2, cache_dir=cache)
    assert len(second) > len(first)


def test_a_damaged_cache_is_ignored(chorale_folder: Path, tmp_path: Path):
    good = load_music(str(chorale_folder), bars=2, cache_dir=tmp_path)
    for f in tmp_path.glob("music-*.npz"):
        f.write_bytes(b"not an npz")
    assert torch.equal(load_music(str(chorale_folder), bars=2, cache_dir=tmp_path).x, good.x)


def test_transposition_moves_whole_phrases_within_the_roll(chorale_folder: Path, tmp_path: Path):
    data = load_music(str(chorale_folder), bars=2, transpose=True, cache_dir=tmp_path)
    idx = torch.arange(32)
    x = data.x[idx]
    for u in (torch.zeros(32), torch.full((32,), 0.999), torch.rand(32, generator=torch.Generator().manual_seed(0))):
        moved = data.batch_augment(x, idx, u)
        assert torch.equal(moved.sum(dim=(1, 2, 3, 4)), x.sum(dim=(1, 2, 3, 4)))  # no note falls off
        for i in range(0, 32, 7):  # each phrase is one shift of itself, by a semitone count in TRANSPOSE
            shifts = [s for s in TRANSPOSE if torch.equal(torch.roll(x[i], s, dims=-1), moved[i])]
            assert shifts, f"phrase {i} is not a transposition of itself"
    lowest = data.batch_augment(x, idx, torch.zeros(32))
    assert not torch.equal(lowest, x)
    assert load_music(str(chorale_folder), bars=2, cache_dir=tmp_path).batch_augment is None


# ----------------------------------------------------------------- bad input
def test_an_unreadable_midi_file_is_skipped_by_name(chorale_folder: Path, tmp_path: Path, caplog):
    folder = tmp_path / "midi"
    folder.mkdir()
    for f in sorted(chorale_folder.glob("*.mid"))[:2]:
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (folder / "empty.midi").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_music(str(folder), bars=2)
    assert len(data) > 0
    assert "broken.mid" in caplog.text and "empty.midi" in caplog.text


def test_a_folder_with_no_usable_midi_is_one_line(tmp_path: Path):
    (tmp_path / "a.mid").write_bytes(b"junk")
    with pytest.raises(GanforgeError, match="no usable music"):
        load_music(str(tmp_path))
    with pytest.raises(GanforgeError, match="no such folder"):
        load_music(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GanforgeError, match="no MIDI files"):
        load_music(str(empty))


def test_pieces_shorter_than_a_phrase_and_too_many_tracks(chorale_folder: Path, tmp_path: Path):
    with pytest.raises(GanforgeError, match="no piece is 400 bars long .* lower --bars"):
        load_music(str(chorale_folder), bars=400, cache_dir=tmp_path)
    with pytest.raises(GanforgeError, match="4 instrument tracks, more than the model's 2 .*--tracks 4"):
        load_music(str(chorale_folder), tracks=2, cache_dir=tmp_path)
    with pytest.raises(GanforgeError, match="data.bars must be a positive"):
        load_music(str(chorale_folder), bars=0)


def test_a_missing_music_package_is_one_line(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "music21", None)  # as if not installed: import raises ImportError
    with pytest.raises(GanforgeError, match=r"pip install 'ganforge\[music\]'"):
        load_music("bach-chorales", cache_dir=tmp_path)

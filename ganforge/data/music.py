"""Symbolic music as piano-roll phrases: music21's Bach chorales and Essen folk songs, or a
folder of the user's MIDI files.

Every piece is decoded once into notes (ganforge/data/pianoroll.py), cached beside the runs
(`music-<key>.npz` + `.json`, written atomically, as image folders are), then cut into
phrases of `bars` 4/4 bars: a MusicDataset of uint8 (N, tracks, bars, 16, pitches), 255 where
a note sounds, so that batches map it to {-1, 1} as they map images to [-1, 1].
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganforge.data import cache
from ganforge.data.dataset import Dataset
from ganforge.data.pianoroll import notes_to_roll, octave_range, phrases, pitch_span
from ganforge.data.scores import decode_corpus, decode_midi_folder
from ganforge.errors import GanforgeError

log = logging.getLogger("ganforge")

FORMAT = 1                       # bump when how pieces are decoded changes
MIDI_SUFFIXES = (".mid", ".midi")
TRANSPOSE = range(-6, 6)         # --transpose: each phrase moved to a random one of the 12 keys
MUSIC_SOURCES = {
    "bach-chorales": "music21's Bach chorales in four parts (S, A, T, B), 4/4 ones, as 4 tracks",
    "folk-melodies": "music21's Essen folk songs (one-line melodies) in 4/4, 2/2, 2/4 and 4/2, as 1 track",
}


@dataclass
class Pieces:
    """Decoded pieces: all their notes in one array, and what the tracks are."""
    notes: np.ndarray                # int32 (n, 4): track, start, end, pitch (16th-note steps)
    starts: np.ndarray               # int64 (pieces + 1,): piece i's notes are notes[starts[i]:starts[i+1]]
    lengths: np.ndarray              # int64 (pieces,): steps of each piece
    names: list[str]                 # one per piece
    track_names: list[str]
    programs: list[int]              # General MIDI program of each track (for MIDI and audio out)
    tempo: float                     # quarter notes a minute
    skipped: list[list[str]] = field(default_factory=list)  # [piece, reason]

    def piece(self, i: int) -> np.ndarray:
        return self.notes[self.starts[i]:self.starts[i + 1]]


@dataclass(eq=False)
class MusicDataset(Dataset):
    """Piano-roll phrases: x uint8 (N, tracks, bars, 16, pitches) in {0, 255}."""
    track_names: list[str] = field(default_factory=list)
    programs: list[int] = field(default_factory=list)
    low: int = 0                     # MIDI pitch of the rolls' first pitch row
    tempo: float = 100.0
    spans: Tensor | None = None      # int64 (N, 2): each phrase's lowest and highest pitch row
    transpose: bool = False          # batches move each phrase to a random key (in range)

    @property
    def batch_augment(self):
        """What the training batches do to real phrases: transpose them (--transpose), or nothing."""
        return self.transposed if self.transpose else None

    def transposed(self, x: Tensor, idx: Tensor, u: Tensor) -> Tensor:
        """Shift each phrase x[i] (B, T, bars, steps, P) of the dataset's phrases idx (B,) by a
        semitone count drawn by u ~ U(0, 1) (B,) among the shifts of TRANSPOSE that keep its
        notes on the roll."""
        spans = self.spans.to(x.device)[idx]                         # (B, 2)
        pitches = x.shape[-1]
        lo = torch.clamp(-spans[:, 0], min=TRANSPOSE[0])              # lowest allowed shift
        hi = torch.clamp(pitches - 1 - spans[:, 1], max=TRANSPOSE[-1])
        shift = lo + (u.to(x.device) * (hi - lo + 1)).long().clamp(max=hi - lo)  # (B,)
        rows = torch.arange(pitches, device=x.device) - shift[:, None]  # (B, P): source row of each row
        valid = (rows >= 0) & (rows < pitches)
        index = rows.clamp(0, pitches - 1)[:, None, None, None, :].expand_as(x)
        moved = torch.gather(x, -1, index)
        return moved * valid[:, None, None, None, :]


def load_music(source: str, bars: int = 4, tracks: int = 0, transpose: bool = False,
               cache_dir: str | Path | None = None) -> MusicDataset:
    """A registered corpus (MUSIC_SOURCES) or a folder of MIDI files, as phrases of `bars`
    bars. `tracks` (MIDI folders): 1 merges every instrument into one track; 0 takes as many
    as the file with the most instruments has."""
    if bars < 1:
        raise GanforgeError(f"option data.bars must be a positive number of bars, got {bars!r}")
    pieces = _cached(source, tracks, Path(cache_dir) if cache_dir is not None else None)
    for name, reason in pieces.skipped[:5]:
        log.warning("skipped %s: %s", name, reason)
    if len(pieces.skipped) > 5:
        where = f" (listed in the cache manifest in {cache_dir})" if cache_dir is not None else ""
        log.warning("skipped %d more pieces%s", len(pieces.skipped) - 5, where)
    if not pieces.names:
        raise GanforgeError(f"{source}: no usable music (expected MIDI files, .mid or .midi, with notes)")
    return build_dataset(source, pieces, bars, transpose)


def build_dataset(source: str, pieces: Pieces, bars: int, transpose: bool) -> MusicDataset:
    """Cut decoded pieces into phrases on an octave-aligned pitch range that holds them all."""
    low, pitches = octave_range(int(pieces.notes[:, 3].min()), int(pieces.notes[:, 3].max()))
    tracks = len(pieces.track_names)
    cut = [phrases(notes_to_roll(pieces.piece(i), tracks, int(pieces.lengths[i]), low, pitches), bars)
           for i in range(len(pieces.names))]
    rolls = np.concatenate(cut)
    if not len(rolls):
        longest = int(pieces.lengths.max()) // 16
        raise GanforgeError(f"{source}: no piece is {bars} bars long (the longest has {longest}); "
                            f"lower --bars")
    spans = torch.tensor([pitch_span(r) for r in rolls], dtype=torch.int64)
    x = torch.from_numpy(rolls.astype(np.uint8) * 255)
    return MusicDataset(source, "music", x, track_names=pieces.track_names, programs=pieces.programs,
                        low=low, tempo=pieces.tempo, spans=spans, transpose=transpose)


def has_midi(source: str) -> bool:
    """Is `source` a folder holding MIDI files?"""
    path = Path(source).expanduser()
    return path.is_dir() and any(p.suffix.lower() in MIDI_SUFFIXES for p in path.rglob("*"))


# ------------------------------------------------------------------ the decode cache
def _cached(source: str, tracks: int, cache_dir: Path | None) -> Pieces:
    folder = None if source in MUSIC_SOURCES else _folder(source)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES) if folder else []
    if folder is not None and not files:
        raise GanforgeError(f"{source}: no MIDI files in this folder (expected .mid or .midi files)")
    key = _key(source, folder, files, tracks)
    paths = (cache_dir / f"music-{key[:16]}.npz", cache_dir / f"music-{key[:16]}.json") if cache_dir else None
    if paths is not None:
        found = _read(paths, key)
        if found is not None:
            return found
    pieces = decode_corpus(source) if folder is None else decode_midi_folder(folder, files, tracks)
    if paths is not None and pieces.names:
        _write(paths, key, pieces)
    return pieces


def _folder(source: str) -> Path:
    path = Path(source).expanduser()
    if not path.is_dir():
        known = ", ".join(MUSIC_SOURCES)
        raise GanforgeError(f"{source}: no such folder (expected a folder of MIDI files, or one of: {known})")
    return path


def _key(source: str, folder: Path | None, files: list[Path], tracks: int) -> str:
    """What the decode depends on: the format, music21's version (its corpus), the files."""
    what = [FORMAT, source] if folder is None else [FORMAT, str(folder.resolve()), tracks]  # (a corpus has its tracks)
    h = hashlib.sha256(json.dumps(what).encode())
    if folder is None:
        from importlib.metadata import version
        h.update(version("music21").encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _read(paths: tuple[Path, Path], key: str) -> Pieces | None:
    array_path, manifest_path = paths

    def load(manifest: dict) -> Pieces:
        with np.load(array_path, allow_pickle=False) as z:
            notes, starts, lengths = z["notes"], z["starts"], z["lengths"]
        if notes.ndim != 2 or notes.shape[1] != 4 or len(starts) != len(manifest["names"]) + 1:
            raise ValueError("arrays do not match the manifest")
        return Pieces(notes, starts, lengths, manifest["names"], manifest["track_names"], manifest["programs"],
                      float(manifest["tempo"]), manifest["skipped"])
    return cache.read_entry(manifest_path, key, load, "music")


def _write(paths: tuple[Path, Path], key: str, p: Pieces) -> None:
    manifest = {"format": FORMAT, "key": key, "names": p.names, "track_names": p.track_names,
                "programs": p.programs, "tempo": p.tempo, "skipped": p.skipped}
    cache.write_entry(*paths, lambda f: np.savez(f, notes=p.notes, starts=p.starts, lengths=p.lengths), manifest,
                      "music")

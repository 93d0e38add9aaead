"""Piano rolls out as MIDI files (pretty_midi) and as audio (ganforge/viz/synth.py).

A phrase of the grid becomes notes (a run of sounding steps of one pitch is one note), one
instrument per track with its General MIDI program, at the data's tempo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganforge.data.pianoroll import STEPS_PER_BEAT, roll_to_notes
from ganforge.errors import GanforgeError

VELOCITY = 80
PIECE_GAP = 1  # silent bars between pieces written one after another in one file


@dataclass
class Score:
    """How to hear a roll: its lowest pitch, the tracks' names and programs, the tempo."""
    low: int
    track_names: list[str]
    programs: list[int]
    tempo: float                     # quarter notes a minute

    @classmethod
    def from_info(cls, info: dict) -> Score:
        """From an exported music model's data record (config.json "data")."""
        try:
            return cls(int(info["low"]), list(info["track_names"]), [int(p) for p in info["programs"]],
                       float(info["tempo"]))
        except (KeyError, TypeError, ValueError):
            raise GanforgeError("this model's config.json has no music record (low, track_names, programs, "
                                "tempo): it was not trained on music") from None

    @property
    def step_seconds(self) -> float:
        return 60.0 / self.tempo / STEPS_PER_BEAT


def pieces_notes(rolls: torch.Tensor) -> list[np.ndarray]:
    """bool (N, tracks, bars, steps, pitches) -> per piece int32 (n, 4) notes (pitch rows, not MIDI)."""
    n, tracks, bars, steps, pitches = rolls.shape
    flat = rolls.detach().cpu().reshape(n, tracks, bars * steps, pitches).numpy()
    return [roll_to_notes(r, 0) for r in flat]


def concatenate(rolls: torch.Tensor) -> tuple[np.ndarray, int]:
    """All pieces one after another, PIECE_GAP bars apart: (notes (n, 4), total steps)."""
    bar = rolls.shape[3]
    length = rolls.shape[2] * bar + PIECE_GAP * bar
    parts = [notes + np.array([0, i * length, i * length, 0], dtype=np.int32)
             for i, notes in enumerate(pieces_notes(rolls))]
    return (np.concatenate(parts) if parts else np.zeros((0, 4), np.int32)), len(parts) * length


def write_midi(rolls: torch.Tensor, path: str | Path, score: Score, record: dict | None = None) -> Path:
    """Write phrases (bool (N, tracks, bars, steps, pitches)) to one MIDI file, one after another;
    `record` (ganforge.provenance) as a text event at time 0."""
    from ganforge.data.scores import require
    pretty_midi = require("pretty_midi")
    notes, _ = concatenate(rolls)
    pm = pretty_midi.PrettyMIDI(initial_tempo=score.tempo)
    dt = score.step_seconds
    for t, (name, program) in enumerate(zip(score.track_names, score.programs)):
        ins = pretty_midi.Instrument(program=program, name=name)
        ins.notes = [pretty_midi.Note(VELOCITY, int(p) + score.low, s * dt, e * dt)
                     for _, s, e, p in notes[notes[:, 0] == t]]
        pm.instruments.append(ins)
    if record is not None:
        from ganforge.provenance import midi_text
        pm.text_events.append(midi_text(record))
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(path))
    except OSError as e:
        raise GanforgeError(f"cannot write {path}: {e.strerror}") from None
    return path

"""Notes <-> piano rolls: the grid every music model in ganforge reads and writes.

A note is one row (track, start, end, pitch) of an int32 array: time in steps of a 16th
note (STEPS_PER_BEAT = 4 steps a quarter note, 16 a 4/4 bar), `end` exclusive, pitch a MIDI
number. A piano roll is bool (tracks, steps, pitches) for pitches low .. low + pitches - 1.
A binary roll cannot tell one long note from repeated ones (MuseGAN's rolls cannot either):
a run of "on" steps of one pitch is read back as one note.
"""

from __future__ import annotations

import numpy as np

STEPS_PER_BEAT = 4                 # 16th notes
STEPS_PER_BAR = 4 * STEPS_PER_BEAT  # bars of four beats (4/4)
NOTE_COLUMNS = 4                   # track, start, end, pitch


def notes_to_roll(notes: np.ndarray, tracks: int, steps: int, low: int, pitches: int) -> np.ndarray:
    """int32 (n, 4) notes -> bool (tracks, steps, pitches); notes outside the grid are cut off."""
    roll = np.zeros((tracks, steps, pitches), dtype=bool)
    for track, start, end, pitch in notes:
        if 0 <= pitch - low < pitches and start < steps:
            roll[track, start:min(end, steps), pitch - low] = True
    return roll


def roll_to_notes(roll: np.ndarray, low: int) -> np.ndarray:
    """bool (tracks, steps, pitches) -> int32 (n, 4) notes, sorted by track, start and pitch."""
    tracks, steps, pitches = roll.shape
    padded = np.zeros((tracks, steps + 2, pitches), dtype=np.int8)
    padded[:, 1:-1] = roll
    change = np.diff(padded, axis=1)            # +1 where a run starts, -1 one past where it ends
    t_on, s_on, p_on = np.nonzero(change == 1)
    t_off, s_off, p_off = np.nonzero(change == -1)
    # runs of one (track, pitch) start and end in time order: sort both by (track, pitch, step)
    on = np.lexsort((s_on, p_on, t_on))
    off = np.lexsort((s_off, p_off, t_off))
    notes = np.stack([t_on[on], s_on[on], s_off[off], p_on[on] + low], axis=1).astype(np.int32)
    return notes[np.lexsort((notes[:, 3], notes[:, 1], notes[:, 0]))] if len(notes) else notes.reshape(0, 4)


def phrases(roll: np.ndarray, bars: int, hop: int = 1) -> np.ndarray:
    """bool (tracks, steps, pitches) -> bool (n, tracks, bars, STEPS_PER_BAR, pitches): every
    window of `bars` whole bars, one each `hop` bars, dropping silent ones."""
    tracks, steps, pitches = roll.shape
    total = steps // STEPS_PER_BAR
    starts = range(0, total - bars + 1, hop)
    out = [roll[:, b * STEPS_PER_BAR:(b + bars) * STEPS_PER_BAR].reshape(tracks, bars, STEPS_PER_BAR, pitches)
           for b in starts]
    out = [p for p in out if p.any()]
    return np.stack(out) if out else np.zeros((0, tracks, bars, STEPS_PER_BAR, pitches), dtype=bool)


def pitch_span(roll: np.ndarray) -> tuple[int, int]:
    """(lowest, highest) used pitch index of a roll (its last axis), or (-1, -1) if silent."""
    used = np.nonzero(roll.reshape(-1, roll.shape[-1]).any(axis=0))[0]
    return (int(used[0]), int(used[-1])) if len(used) else (-1, -1)


def octave_range(lowest: int, highest: int, most: int = 84) -> tuple[int, int]:
    """(low, pitches): whole octaves from the C at or below `lowest` to the B at or above
    `highest` (octave-aligned, as the models' pitch convolutions expect), at most `most`."""
    low = lowest - lowest % 12
    pitches = min(most, (highest - low) // 12 * 12 + 12)
    return low, pitches

"""Piano rolls as sound, offline: tinysoundfont (a C SoundFont synthesiser) playing the small
General MIDI soundfont that pretty_midi bundles (TimGM6mb.sf2), written as 16-bit mono WAV.

tinysoundfont is installed with `pip install --no-deps tinysoundfont` (its declared audio
playback dependency is not needed to render to a file)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from ganforge.data.midi import VELOCITY, Score, concatenate
from ganforge.errors import GanforgeError

SAMPLE_RATE = 22050
RELEASE = 0.5  # seconds of sound after the last note ends


def soundfont() -> Path:
    from ganforge.data.scores import require
    return Path(require("pretty_midi").__file__).parent / "TimGM6mb.sf2"


def render(rolls: torch.Tensor, score: Score, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Phrases (bool (N, tracks, bars, steps, pitches)), one after another -> float32 mono
    samples in [-1, 1]."""
    try:
        import tinysoundfont
    except ImportError:
        raise GanforgeError("audio needs tinysoundfont: pip install --no-deps tinysoundfont") from None
    notes, steps = concatenate(rolls)
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(str(soundfont()))
    for chan, program in enumerate(score.programs):
        synth.program_select(chan, sfid, 0, program)
    # note on/off events by sample position; offs before ons at the same time (repeated notes)
    events = sorted([(int(s * score.step_seconds * sample_rate), 1, t, int(p) + score.low) for t, s, _, p in notes] +
                    [(int(e * score.step_seconds * sample_rate), 0, t, int(p) + score.low) for t, _, e, p in notes])
    total = int((steps * score.step_seconds + RELEASE) * sample_rate)
    out = np.zeros((total, 2), dtype=np.float32)
    pos = 0
    for at, on, chan, pitch in events + [(total, -1, 0, 0)]:
        if at > pos:
            out[pos:at] = np.frombuffer(synth.generate_simple(at - pos), dtype=np.float32).reshape(-1, 2)
            pos = at
        if on == 1:
            synth.noteon(chan, pitch, VELOCITY)
        elif on == 0:
            synth.noteoff(chan, pitch)
    mono = out.mean(axis=1)
    peak = float(np.abs(mono).max())
    return mono / peak * 0.9 if peak > 0.9 else mono


def write_wav(rolls: torch.Tensor, path: str | Path | BinaryIO, score: Score, sample_rate: int = SAMPLE_RATE,
              record: dict | None = None):
    """Render phrases to a 16-bit WAV file (or a binary file object); returns where. `record`
    (ganforge.provenance) goes into a LIST/INFO chunk (ICMT, ISFT)."""
    from ganforge.viz.sound import write_wav as write_samples
    return write_samples(render(rolls, score, sample_rate), sample_rate, path, record)

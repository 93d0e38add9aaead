"""Decoding music into notes on the 16th-note grid: music21 scores (the corpus) and MIDI
files (pretty_midi). Both are optional dependencies: `pip install ganforge[music]`."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from ganforge.data.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT
from ganforge.errors import GanforgeError

if TYPE_CHECKING:
    from ganforge.data.music import Pieces

log = logging.getLogger("ganforge")

CHORALE_PARTS = ["Soprano", "Alto", "Tenor", "Bass"]
CHURCH_ORGAN, FLUTE, PIANO = 19, 73, 0  # General MIDI programs (0-based)
# bar lengths in quarter notes read as four-beat bars: 4/4 and 2/2 as they are, 2/4 two bars
# to one, 4/2 at half its note values (a half note on a beat, as a quarter note is in 4/4)
FOUR_BEAT_BARS = {4.0: 1.0, 2.0: 1.0, 8.0: 0.5}
CORPUS_TEMPO = {"bach-chorales": 80.0, "folk-melodies": 100.0}  # the corpus has no tempo marks
MAX_WORKERS = 4  # processes decoding the corpus
# A piece becomes a (tracks, steps, pitches) roll, and its phrases copy it `bars` times: a
# MIDI file of a few bytes can place a note a million beats in (pretty_midi's own limit is
# 10^7 ticks), so longer pieces are skipped. 4,096 bars is 2 hours 17 minutes at 120 beats a minute.
MAX_STEPS = 4096 * STEPS_PER_BAR
MAX_TRACKS = 64  # instrument tracks a model can have (ganforge.config.SIZE_LIMITS["data.tracks"])


def require(module: str):
    """Import an optional music dependency, or say in one line how to install it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise GanforgeError(f"music needs {module.replace('_', '-')}: pip install 'ganforge[music]'") from None


def decode_corpus(source: str) -> Pieces:
    """The Bach chorales (4 tracks) or the Essen folk songs (1 track) from music21's corpus,
    decoded file by file in worker processes (music21's parsing is pure Python: one core a file)."""
    require("music21")
    from music21 import corpus
    if source == "bach-chorales":
        files = [str(f) for f in corpus.chorales.Iterator(returnType="filename")]
        parts, program = CHORALE_PARTS, CHURCH_ORGAN
    else:  # one ABC file holds hundreds of songs
        files = [str(f) for f in sorted((Path(corpus.__file__).parent / "essenFolksong").glob("*.abc"))]
        parts, program = ["Melody"], FLUTE
    tasks = [(source, f, len(parts)) for f in files]
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    bar = dict(total=len(tasks), desc=f"decode {source}", unit="file", leave=False)
    if workers == 1:
        decoded = list(tqdm(map(_decode_file, tasks), **bar))
    else:  # spawn, not fork: the parent may hold torch's thread pool
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            decoded = list(tqdm(pool.map(_decode_file, tasks, chunksize=4 if len(tasks) > 100 else 1), **bar))
    notes, lengths, names, skipped = [], [], [], []
    for name, piece, length in (song for songs in decoded for song in songs):
        if isinstance(piece, str):
            skipped.append([name, piece])
            continue
        notes.append(piece)
        lengths.append(length)
        names.append(name)
    return _pieces(notes, lengths, names, parts, [program] * len(parts), CORPUS_TEMPO[source], skipped)


def _decode_file(task: tuple[str, str, int]) -> list[tuple[str, np.ndarray | str, int]]:
    """One corpus file -> [(piece name, notes or the reason it is skipped, steps)]."""
    source, path, n_parts = task
    from music21 import converter, corpus
    try:
        if source == "bach-chorales":
            scores = [(path, corpus.parse(path))]
        else:
            opus = converter.parse(path)
            scores = [(f"{Path(path).stem}#{i}", s) for i, s in enumerate(getattr(opus, "scores", [opus]))]
    except Exception as e:  # noqa: BLE001  (music21 raises many kinds on what it cannot read)
        return [(path, f"music21 could not read it ({type(e).__name__})", 0)]
    out = []
    for name, score in scores:
        try:
            notes, steps = score_notes(score, n_parts)
            out.append((name, notes, steps))
        except GanforgeError as e:
            out.append((name, str(e), 0))
        except Exception as e:  # noqa: BLE001
            out.append((name, f"music21 could not read it ({type(e).__name__})", 0))
    return out


def score_notes(score, n_parts: int) -> tuple[np.ndarray, int]:
    """A music21 score of n_parts parts -> (int32 (n, 4) notes, steps); GanforgeError (the
    reason it is skipped) when its metre or parts do not fit."""
    if len(score.parts) != n_parts:
        raise GanforgeError(f"{len(score.parts)} parts, not {n_parts}")
    signatures = score.recurse().getElementsByClass("TimeSignature")
    bar = float(signatures[0].barDuration.quarterLength) if len(signatures) else 4.0
    if bar not in FOUR_BEAT_BARS or len({float(s.barDuration.quarterLength) for s in signatures}) > 1:
        raise GanforgeError(f"metre {signatures[0].ratioString if len(signatures) else '?'} is not four beats a bar")
    scale = FOUR_BEAT_BARS[bar] * STEPS_PER_BEAT  # steps per notated quarter note
    measures = score.parts[0].getElementsByClass("Measure")
    # a pickup bar is padded on the left, so bar lines fall on whole bars; that partial bar is dropped
    pickup = float(measures[0].paddingLeft) if len(measures) and measures[0].paddingLeft else 0.0
    drop = STEPS_PER_BAR if pickup else 0
    rows = []
    for track, part in enumerate(score.parts):
        for n in part.flatten().stripTies().notes:
            start = round((float(n.offset) + pickup) * scale) - drop
            end = max(start + 1, round((float(n.offset + n.quarterLength) + pickup) * scale) - drop)
            rows += [(track, start, end, p.midi) for p in n.pitches if start >= 0]
    if not rows:
        raise GanforgeError("no notes")
    notes = np.asarray(rows, dtype=np.int32)
    return notes, int(notes[:, 2].max())


def decode_midi_folder(folder: Path, files: list[Path], tracks: int) -> Pieces:
    """MIDI files -> notes on the beat grid (bars of four beats, whatever the metre: say so).
    Each file's non-drum instruments are its tracks in file order; tracks=1 merges them."""
    pretty_midi = require("pretty_midi")
    decoded, skipped = [], []
    for f in tqdm(files, desc=f"decode {folder.name}", unit="file", leave=False, disable=len(files) < 50):
        try:
            pm = pretty_midi.PrettyMIDI(str(f))
        except Exception as e:  # noqa: BLE001  (mido and pretty_midi raise many kinds on bad files)
            skipped.append([f.relative_to(folder).as_posix(), f"not a readable MIDI file ({type(e).__name__})"])
            continue
        instruments = [i for i in pm.instruments if not i.is_drum and i.notes]
        reason = _unusable(pm, instruments)
        if reason:
            skipped.append([f.relative_to(folder).as_posix(), reason])
            continue
        decoded.append((f, pm, instruments))
    if not decoded:
        return _pieces([], [], [], [], [], 100.0, skipped)
    n_tracks = tracks or max(len(ins) for _, _, ins in decoded)
    for f, _, instruments in decoded:
        if n_tracks > 1 and len(instruments) > n_tracks:
            raise GanforgeError(f"{f}: {len(instruments)} instrument tracks, more than the model's {n_tracks} "
                                f"(pass --tracks {len(instruments)}, or --tracks 1 to merge them)")
    widest = max(decoded, key=lambda d: len(d[2]))[2]  # its instruments name the tracks' sounds
    programs = ([ins.program for ins in widest] + [PIANO] * n_tracks)[:n_tracks]
    notes, lengths, names, tempi = [], [], [], []
    odd_metre = 0
    for f, pm, instruments in decoded:
        rows = []
        for track, ins in enumerate(instruments):
            t = 0 if n_tracks == 1 else track
            for n in ins.notes:
                start = round(_steps(pm, n.start))
                rows.append((t, start, max(start + 1, round(_steps(pm, n.end))), n.pitch))
        odd_metre += any((s.numerator, s.denominator) not in ((4, 4), (2, 2), (2, 4)) for s in pm.time_signature_changes)
        array = np.asarray(rows, dtype=np.int32)
        notes.append(array)
        lengths.append(int(array[:, 2].max()))
        names.append(f.relative_to(folder).as_posix())
        tempi.append(float(pm.get_tempo_changes()[1][0]) if len(pm.get_tempo_changes()[1]) else 120.0)
    if odd_metre:
        log.warning("%d of %d MIDI files are not in four beats a bar: their phrases are cut every 16 beats "
                    "all the same", odd_metre, len(decoded))
    track_names = ["Track"] if n_tracks == 1 else [f"Track {i + 1}" for i in range(n_tracks)]
    return _pieces(notes, lengths, names, track_names, programs, float(np.median(tempi)), skipped)


def _steps(pm, seconds: float) -> float:
    """A time in a MIDI file -> 16th-note steps from its start, through the file's tempo map."""
    return pm.time_to_tick(seconds) / pm.resolution * STEPS_PER_BEAT


def _unusable(pm, instruments) -> str | None:
    """Why a parsed MIDI file cannot become a roll (None when it can)."""
    if not instruments:
        return "no pitched notes"
    if len(instruments) > MAX_TRACKS:
        return f"{len(instruments)} instrument tracks, more than {MAX_TRACKS}"
    steps = _steps(pm, max(n.end for ins in instruments for n in ins.notes))
    if steps > MAX_STEPS:
        return f"{steps / STEPS_PER_BAR:,.0f} bars long, more than {MAX_STEPS // STEPS_PER_BAR:,}"
    return None


def _pieces(notes, lengths, names, track_names, programs, tempo, skipped) -> Pieces:
    from ganforge.data.music import Pieces
    starts = np.cumsum([0] + [len(n) for n in notes]).astype(np.int64)
    all_notes = np.concatenate(notes) if notes else np.zeros((0, 4), dtype=np.int32)
    return Pieces(all_notes, starts, np.asarray(lengths, dtype=np.int64), names, track_names,
                  [int(p) for p in programs], tempo, skipped)

"""Sound out: float samples as a 16-bit PCM WAV file with its provenance in a LIST/INFO chunk
(ICMT, ISFT; ganforge.provenance), written atomically. Piano rolls (viz/synth.py) and
audio clips (domains/audio.py, pipelines/audio.py) are both written by it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ganforge import atomic

GAP = 0.25  # seconds of silence after each clip played one after another


def one_after_another(clips, sample_rate: int, gap: float = GAP) -> np.ndarray:
    """Clips (N, 1, L) (a tensor or array) -> float32 (N * (L + gap * rate),): each followed by
    `gap` seconds of silence, so that they can be told apart by ear."""
    if hasattr(clips, "detach"):  # a tensor
        clips = clips.detach().float().cpu().numpy()
    x = np.asarray(clips, np.float32).reshape(len(clips), -1)
    return np.concatenate([x, np.zeros((len(x), int(gap * sample_rate)), np.float32)], axis=1).reshape(-1)


def wav_bytes(samples: np.ndarray, sample_rate: int, record: dict | None = None) -> bytes:
    """float samples (n,) in [-1, 1] -> a 16-bit mono WAV file's bytes (with `record`)."""
    from scipy.io import wavfile

    from ganforge.provenance import wav_with_info
    pcm = np.round(np.clip(np.asarray(samples, dtype=np.float32), -1, 1) * 32767).astype(np.int16)
    buf = io.BytesIO()  # in memory first: the INFO chunk is appended and the RIFF size fixed
    wavfile.write(buf, int(sample_rate), pcm)
    return wav_with_info(buf.getvalue(), record)


def write_wav(samples: np.ndarray, sample_rate: int, path: str | Path | BinaryIO, record: dict | None = None):
    """Write samples (n,) as WAV to a path (atomically: temp file, rename) or a binary file
    object; returns where. A one-line GanforgeError (atomic.CannotWrite) when it cannot be written."""
    data = wav_bytes(samples, sample_rate, record)
    if not isinstance(path, (str, Path)):
        path.write(data)
        return path
    return atomic.write_bytes(Path(path), data)  # a one-line CannotWrite on a full disk

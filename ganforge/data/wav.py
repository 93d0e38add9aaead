"""Any WAV file as one clip the models can learn: float samples in [-1, 1], mono, at the
dataset's sample rate, its silence trimmed, centred in a fixed number of samples.

scipy.io.wavfile reads PCM of 8, 16, 24 and 32 bits and 32/64-bit floats, any channel count;
scipy.signal.resample_poly changes the rate (a polyphase filter: no aliasing, exact for
rational ratios such as 22,050 -> 16,000 = 320/441). torchaudio does not load beside this
torch, and nothing here needs it.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
from scipy.io import wavfile

# scipy warns of what it skips (unknown chunks; a streamed WAV's missing size, as espeak-ng
# --stdout writes): not worth a line per file. A filter of this module's calls only, as
# catch_warnings() is not safe in the threads that decode folders.
warnings.filterwarnings("ignore", category=wavfile.WavFileWarning, module=__name__)

SILENCE_DB = -60.0          # a clip whose peak is below this (dBFS) is silent
TRIM_DB = -40.0             # leading/trailing samples this far below the peak are silence to trim
MAX_FILE_BYTES = 256 << 20  # 256 MB (~45 min of 16-bit stereo at 48 kHz): not a clip to learn from


def decode(data: bytes | Path, sample_rate: int, length: int) -> np.ndarray | str:
    """A WAV file (its bytes or path) -> float32 (length,) in [-1, 1], or the one-line reason
    it cannot be used (not a WAV file, empty, silent, not finite)."""
    try:
        if isinstance(data, Path) and data.stat().st_size > MAX_FILE_BYTES:
            return f"larger than {MAX_FILE_BYTES >> 20} MB"
        rate, samples = _read(data)
    except (ValueError, OSError, EOFError, IndexError, TypeError) as e:  # scipy's many ways to say "not a WAV"
        return f"not a readable WAV file ({' '.join(str(e).split())[:100] or type(e).__name__})"
    if samples.size == 0:
        return "empty (no samples)"
    x = to_float(samples)
    if not np.isfinite(x).all():
        return "holds samples that are not finite numbers"
    x = to_mono(x)
    peak = float(np.abs(x).max())
    if peak < 10 ** (SILENCE_DB / 20):
        return f"silent (peak {20 * math.log10(peak) if peak else -math.inf:.0f} dBFS)"
    if peak > 1:  # float WAVs may exceed full scale
        x = x / peak
    return fit(resample(x, rate, sample_rate), length)


def _read(data: bytes | Path) -> tuple[int, np.ndarray]:
    return wavfile.read(io.BytesIO(data) if isinstance(data, bytes) else str(data))


def to_float(samples: np.ndarray) -> np.ndarray:
    """PCM of any width (8-bit unsigned, 16/24/32-bit signed) or float -> float32 in [-1, 1]."""
    if samples.dtype == np.uint8:
        return (samples.astype(np.float32) - 128) / 128
    if np.issubdtype(samples.dtype, np.integer):
        return samples.astype(np.float32) / float(-np.iinfo(samples.dtype).min)
    return samples.astype(np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    """(samples,) or (samples, channels) -> (samples,): the channels' mean."""
    return x.mean(axis=1, dtype=np.float32) if x.ndim == 2 else x


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """x (samples,) from `rate` to `target` samples a second."""
    if rate == target:
        return x
    g = math.gcd(int(rate), int(target))
    from scipy.signal import resample_poly
    return resample_poly(x, target // g, rate // g).astype(np.float32)


def fit(x: np.ndarray, length: int) -> np.ndarray:
    """Trim leading and trailing silence, then centre in `length` samples: cut both ends of a
    longer clip evenly, pad a shorter one with zeros on both sides."""
    loud = np.flatnonzero(np.abs(x) >= np.abs(x).max() * 10 ** (TRIM_DB / 20))
    x = x[loud[0]:loud[-1] + 1] if len(loud) else x
    if len(x) >= length:
        start = (len(x) - length) // 2
        return np.clip(x[start:start + length], -1, 1).astype(np.float32)  # (resampling may overshoot 1)
    out = np.zeros(length, np.float32)
    start = (length - len(x)) // 2
    out[start:start + len(x)] = x
    return np.clip(out, -1, 1)

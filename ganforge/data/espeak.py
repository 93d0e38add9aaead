"""Spoken digits synthesised by espeak-ng: an SC09-like set (Donahue et al.'s "zero" to "nine"
from the Speech Commands data, which cannot be downloaded here), made offline.

Each clip is drawn, from one seed, as a recipe: a word, one of espeak-ng's English voices
(accents) with one of its voice variants (timbres, male and female), a speed and a pitch, a
level and a background noise floor. espeak-ng speaks it (~10 ms) at 22,050 Hz; it is
resampled to the dataset's rate, its silence trimmed and centred in the clip's length
(ganforge/data/wav.py), then brought to its level over seeded white noise (a recording is
never digital silence: SC09's have room noise). The same seed gives the same recipes and,
with the same espeak-ng, the same clips.

Debian's espeak-ng package: `apt install espeak-ng`.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ganforge.data import wav
from ganforge.errors import GanforgeError

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# English voices (accents) of espeak-ng's own data (not the MBROLA ones, which need more packages)
VOICES = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan",
          "en-gb-x-gbcwmd")
# voice variants (timbres) that sound like people: whispers, robots and effects left out
VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "klatt4", "croak", "grandma", "grandpa", "Andy", "Annie", "aunty", "belinda", "boris", "ed",
            "Gene", "john", "Lee", "linda", "max", "Michael", "Mike", "norbert", "paul", "quincy", "rob", "robert",
            "shelby", "steph", "travis", "victor", "zac")
SPEEDS = (120, 220)         # words a minute (espeak-ng's default: 175)
PITCHES = (15, 85)          # espeak-ng's 0..99 scale (default 50)
LEVELS = (0.35, 0.95)       # the clip's peak: recordings are not all equally loud
NOISE_DB = (-65.0, -40.0)   # the noise floor's level under the clip's peak (white noise, dB)
MAX_WORKERS = 8
INSTALL = "spoken digits need espeak-ng: apt install espeak-ng (Debian/Ubuntu; brew install espeak-ng on macOS)"


@dataclass(frozen=True)
class Recipe:
    word: int            # index into WORDS (the label)
    voice: str
    variant: str
    speed: int
    pitch: int
    level: float
    noise_db: float
    seed: int            # of its noise


def executable() -> str:
    """espeak-ng's path, or one line saying how to install it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise GanforgeError(INSTALL)
    return path


def version() -> str:
    """espeak-ng's version line (it decides the sound of every clip: part of the cache key)."""
    out = subprocess.run([executable(), "--version"], capture_output=True, text=True, timeout=30)
    return " ".join(out.stdout.split()[:5])


def recipes(per_word: int, seed: int) -> list[Recipe]:
    """per_word clips of each word, in word order, drawn from `seed` alone."""
    rng = np.random.default_rng(seed)
    out = []
    for word in range(len(WORDS)):
        for _ in range(per_word):
            out.append(Recipe(word, VOICES[rng.integers(len(VOICES))], VARIANTS[rng.integers(len(VARIANTS))],
                              int(rng.integers(SPEEDS[0], SPEEDS[1] + 1)), int(rng.integers(PITCHES[0], PITCHES[1] + 1)),
                              round(float(rng.uniform(*LEVELS)), 3), round(float(rng.uniform(*NOISE_DB)), 1),
                              int(rng.integers(2**31))))
    return out


def speak(recipe: Recipe, sample_rate: int, length: int, program: str | None = None) -> np.ndarray | str:
    """One clip, float32 (length,) in [-1, 1], or why espeak-ng could not make it."""
    voice = f"{recipe.voice}+{recipe.variant}" if recipe.variant else recipe.voice
    command = [program or executable(), "-v", voice, "-s", str(recipe.speed), "-p", str(recipe.pitch), "--stdout",
               WORDS[recipe.word]]
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=True)
    except (subprocess.SubprocessError, OSError) as e:
        return f"espeak-ng failed ({type(e).__name__})"
    clip = wav.decode(_sized(done.stdout), sample_rate, length)
    if isinstance(clip, str):
        return clip
    noise = np.random.default_rng(recipe.seed).standard_normal(length).astype(np.float32) * 10 ** (recipe.noise_db / 20)
    clip = clip / max(float(np.abs(clip).max()), 1e-9) + noise
    return (clip * (recipe.level / float(np.abs(clip).max()))).astype(np.float32)  # its peak at its level


def _sized(stream: bytes) -> bytes:
    """A streamed WAV (espeak-ng --stdout cannot seek back to write its sizes) with its RIFF and
    data sizes filled in, so that it reads as a complete file."""
    if stream[:4] != b"RIFF" or stream[36:40] != b"data":  # (not espeak-ng's 44-byte header: as it is)
        return stream
    return b"RIFF" + struct.pack("<I", len(stream) - 8) + stream[8:40] + struct.pack("<I", len(stream) - 44) + stream[44:]


def speak_all(plan: list[Recipe], sample_rate: int, length: int, workers: int | None = None) -> list[np.ndarray | str]:
    """Every recipe's clip (or the reason it failed), in order, with a progress bar. Each clip
    is its own espeak-ng process, so `workers` threads (default: one a core) keep that many
    synthesising at once: no worker interpreters to start, and no `if __name__ == "__main__"`
    needed in a script that loads the data, as spawned Python workers would need."""
    program = executable()
    workers = min(workers or os.cpu_count() or 1, MAX_WORKERS)
    bar = tqdm(total=len(plan), desc="synthesising spoken digits (espeak-ng)", unit="clip", leave=False,
               disable=len(plan) < 200, mininterval=0.1 if sys.stderr.isatty() else 5.0)  # (logs: a line in 5 s)
    with bar, ThreadPoolExecutor(workers) as pool:
        out = []
        for clip in pool.map(lambda r: speak(r, sample_rate, length, program), plan):
            out.append(clip)
            bar.update()
        return out

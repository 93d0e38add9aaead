"""Audio clips: spoken digits synthesised by espeak-ng (an SC09-like set: ganforge/data/
espeak.py), the real recorded digits of Debian's asterisk-core-sounds-en-wav (one speaker,
a held-out check of what was learnt from synthetic voices), or a folder of the user's WAV
files (any rate, bit depth and channel count; sub-folders become classes, as image folders' do).

  x float32 (N, 1, length) in [-1, 1]   mono at `sample_rate`, silence trimmed, centred
  y int64 (N,) labels (the digits: 0 is "zero"), or None for a folder without classes

or, as SpecGAN learns them (representation "spectrogram"; ganforge/data/spectrogram.py), x
float32 (N, 1, 128, 128) in [-1, 1]: their log-magnitude spectrograms normalised per frequency
bin by the set's own statistics (kept with the dataset, and in an exported model).

The clips are made (or decoded) once and cached beside the runs (`audio-<key>.npy` int16 +
`.json`, written atomically, the manifest last, as the music and image caches are).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ganforge.data import cache, espeak, wav
from ganforge.data.dataset import Dataset
from ganforge.data.folder import list_files
from ganforge.data.spectrogram import SpectrogramCoder
from ganforge.errors import GanforgeError

log = logging.getLogger("ganforge")

FORMAT = 2                   # bump when how clips are made or decoded changes (2: noise floors)
SAMPLE_RATE = 16_000         # WaveGAN's (and SC09's) rate
LENGTH = 16_384              # WaveGAN's clip: 1.024 s at 16 kHz
CLIPS_PER_WORD = 500         # spoken-digits: 5,000 clips (SC09's training set has ~1,850 a word)
SYNTH_SEED = 0               # one fixed set: results on it compare across runs and machines
WAV_SUFFIXES = (".wav", ".wave")
ASTERISK = Path("/usr/share/asterisk/sounds/en/digits")
REPRESENTATIONS = ("auto", "waveform", "spectrogram")  # auto: spectrogram for --model specgan
AUDIO_SOURCES = {
    "spoken-digits": "the words zero..nine spoken by espeak-ng's English voices at random speeds and pitches, "
                     "1x16384 at 16 kHz, 10 classes (Debian espeak-ng; an SC09-like set)",
    "asterisk-digits": "Asterisk's recorded digits zero..nine, one real speaker, 10 clips (Debian "
                       "asterisk-core-sounds-en-wav): a held-out real check",
}
PROGRESS_MIN_FILES = 200


@dataclass(eq=False)
class AudioDataset(Dataset):
    """Clips: x float32 (N, 1, length) or spectrograms (N, 1, 128, 128) in [-1, 1]; see the
    module's docstring."""
    sample_rate: int = SAMPLE_RATE
    length: int = LENGTH                              # samples a clip
    skipped: list[list[str]] = field(default_factory=list)  # [file or recipe, reason]
    coder: SpectrogramCoder | None = None             # spectrograms: the statistics they were normalised by
    waveforms: torch.Tensor | None = None             # spectrograms: the clips they are of, int16 (N, length)
    clips_per_word: int | None = None                 # spoken-digits: how many of each word were made

    @property
    def representation(self) -> str:
        return "waveform" if self.coder is None else "spectrogram"

    def clips(self) -> torch.Tensor:
        """The clips as sound, float32 (N, 1, length), whichever the representation."""
        return self.x if self.waveforms is None else self.waveforms.float()[:, None] / 32767


@dataclass
class Listing:
    """The WAV files of a folder (or of Asterisk's digits) and their classes."""
    root: Path
    files: list[Path]
    labels: list[int] | None
    class_names: list[str] | None


@dataclass
class Clips:
    """What making or decoding a source produced (and what the cache holds)."""
    x: np.ndarray                    # int16 (N, length)
    labels: list[int] | None         # per clip, or None
    class_names: list[str] | None
    names: list[str]                 # where each clip came from
    skipped: list[list[str]]


def load_audio(source: str, sample_rate: int = SAMPLE_RATE, length: int = LENGTH,
               clips_per_word: int = CLIPS_PER_WORD, cache_dir: str | Path | None = None,
               representation: str = "waveform") -> AudioDataset:
    """A registered source (AUDIO_SOURCES) or a folder of WAV files, as clips of `length`
    samples at `sample_rate` ("waveform"), or their SpecGAN spectrograms ("spectrogram")."""
    _check(sample_rate, length, clips_per_word, representation)
    clips = _cached(source, sample_rate, length, clips_per_word, Path(cache_dir) if cache_dir is not None else None)
    _summarise(source, clips)
    x = torch.from_numpy(clips.x.astype(np.float32) / 32767)[:, None]   # (N, 1, length)
    y = torch.tensor(clips.labels, dtype=torch.int64) if clips.labels is not None else None
    coder = SpectrogramCoder.fit(x) if representation == "spectrogram" else None
    waveforms = torch.from_numpy(clips.x) if coder is not None else None  # (N, length) int16: measuring
    x = coder.encode(x) if coder is not None else x                       # (N, 1, 128, 128)
    return AudioDataset(source, "audio", x, y, clips.class_names, sample_rate=sample_rate, length=length,
                        skipped=clips.skipped, coder=coder, waveforms=waveforms,
                        clips_per_word=clips_per_word if source == "spoken-digits" else None)


def representation_for(representation: str, family: str) -> str:
    """data.representation "auto": spectrograms for SpecGAN, waveforms for every other family."""
    if representation != "auto":
        return representation
    return "spectrogram" if family == "specgan" else "waveform"


def has_wav(source: str) -> bool:
    """Is `source` a folder holding WAV files?"""
    path = Path(source).expanduser()
    return path.is_dir() and any(p.suffix.lower() in WAV_SUFFIXES for p in list_files(path))


def _check(sample_rate: int, length: int, clips_per_word: int, representation: str) -> None:
    if representation not in REPRESENTATIONS[1:]:
        raise GanforgeError(f"unknown audio representation {representation!r} (expected one of: "
                            f"{', '.join(REPRESENTATIONS)})")
    if not isinstance(sample_rate, int) or not 1000 <= sample_rate <= 192_000:
        raise GanforgeError(f"option data.sample_rate must be an integer in 1000..192000 Hz, got {sample_rate!r}")
    if not isinstance(length, int) or not 64 <= length <= 1 << 20:
        raise GanforgeError(f"option data.length must be an integer in 64..1048576 samples, got {length!r}")
    if not isinstance(clips_per_word, int) or not 1 <= clips_per_word <= 100_000:
        raise GanforgeError(f"option data.clips_per_word must be an integer in 1..100000, got {clips_per_word!r}")


def _summarise(source: str, clips: Clips) -> None:
    """One line for what was skipped (the first few named); one error when nothing is left."""
    read = len(clips.names) + len(clips.skipped)
    named = "; ".join(f"{name}: {reason}" for name, reason in clips.skipped[:4])
    more = f"; and {len(clips.skipped) - 4} more" if len(clips.skipped) > 4 else ""
    if not clips.names:
        what = "synthesised clips" if source == "spoken-digits" else "WAV files"
        raise GanforgeError(f"{source}: no usable audio among {read} {what} ({named}{more}; expected WAV "
                            "files with sound in them)")
    if clips.skipped:
        log.warning("%s: %d of %d clips kept; skipped %d (%s%s)", source, len(clips.names), read,
                    len(clips.skipped), named, more)


# ------------------------------------------------------------------ making and decoding
def synthesise(sample_rate: int, length: int, per_word: int, seed: int = SYNTH_SEED,
               workers: int | None = None) -> Clips:
    """The spoken-digits set: per_word clips of each word, by espeak-ng, in worker processes."""
    plan = espeak.recipes(per_word, seed)
    made = espeak.speak_all(plan, sample_rate, length, workers)
    return _clips(made, [_recipe_name(r) for r in plan], [r.word for r in plan], list(espeak.WORDS))


def _recipe_name(r: espeak.Recipe) -> str:
    voice = f"{r.voice}+{r.variant}" if r.variant else r.voice
    return f"{espeak.WORDS[r.word]} ({voice}, {r.speed} wpm, pitch {r.pitch})"


def decode_files(listing: Listing, sample_rate: int, length: int) -> Clips:
    """WAV files -> clips, on threads (numpy and scipy release the GIL while resampling)."""
    root, files = listing.root, listing.files
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        results = tqdm(pool.map(lambda f: wav.decode(f, sample_rate, length), files), total=len(files),
                       desc=f"decoding {root.name or root}", unit="file", disable=len(files) < PROGRESS_MIN_FILES,
                       mininterval=0.1 if sys.stderr.isatty() else 5.0)
        decoded = list(results)
    return _clips(decoded, [f.relative_to(root).as_posix() for f in files], listing.labels, listing.class_names)


def _clips(made: list, names: list[str], labels: list[int] | None, class_names: list[str] | None) -> Clips:
    keep = [i for i, m in enumerate(made) if not isinstance(m, str)]
    x = np.stack([np.round(made[i] * 32767).astype(np.int16) for i in keep]) if keep else np.zeros((0, 0), np.int16)
    return Clips(x, [labels[i] for i in keep] if labels is not None else None, class_names,
                 [names[i] for i in keep], [[names[i], m] for i, m in enumerate(made) if isinstance(m, str)])


def list_wavs(source: str) -> Listing:
    """The WAV files of a folder (sub-folders: classes), or Asterisk's digits."""
    if source == "asterisk-digits":
        files = [ASTERISK / f"{i}.wav" for i in range(len(espeak.WORDS))]
        if not all(f.is_file() for f in files):
            raise GanforgeError("asterisk-digits needs Debian's recorded digits: apt install "
                                f"asterisk-core-sounds-en-wav (expected {ASTERISK}/0.wav .. 9.wav)")
        return Listing(ASTERISK, files, list(range(len(files))), list(espeak.WORDS))
    root = Path(source).expanduser()
    if not root.is_dir():
        known = ", ".join(AUDIO_SOURCES)
        raise GanforgeError(f"{source}: no such folder (expected a folder of WAV files, or one of: {known})")
    files = [f for f in list_files(root) if f.suffix.lower() in WAV_SUFFIXES]
    if not files:
        raise GanforgeError(f"{source}: no WAV files in this folder (expected .wav files)")
    return Listing(root, files, *_labels([f.relative_to(root) for f in files]))


def _labels(rel_paths: list[Path]) -> tuple[list[int] | None, list[str] | None]:
    """Classes from first-level sub-folder names, when every clip sits in one (as image folders)."""
    if any(len(p.parts) < 2 for p in rel_paths):
        return None, None
    names = sorted({p.parts[0] for p in rel_paths})
    if len(names) < 2:
        return None, None
    index = {name: i for i, name in enumerate(names)}
    return [index[p.parts[0]] for p in rel_paths], names


# ------------------------------------------------------------------ the cache
def _cached(source: str, sample_rate: int, length: int, per_word: int, cache_dir: Path | None) -> Clips:
    listing = None if source == "spoken-digits" else list_wavs(source)
    key = _key(source, sample_rate, length, per_word, listing)
    paths = (cache_dir / f"audio-{key[:16]}.npy", cache_dir / f"audio-{key[:16]}.json") if cache_dir else None
    found = _read(paths, key, length) if paths is not None else None
    if found is not None:
        return found
    clips = synthesise(sample_rate, length, per_word) if listing is None else decode_files(listing, sample_rate, length)
    if paths is not None and clips.names:
        _write(paths, key, clips)
    return clips


def _key(source: str, sample_rate: int, length: int, per_word: int, listing: Listing | None) -> str:
    """What the clips depend on: the format and settings; espeak-ng's version, or the files."""
    h = hashlib.sha256(json.dumps([FORMAT, sample_rate, length]).encode())
    if listing is None:
        h.update(json.dumps([source, per_word, SYNTH_SEED, espeak.VOICES, espeak.VARIANTS, espeak.version()]).encode())
        return h.hexdigest()
    root = listing.root
    h.update(str(root.resolve()).encode())
    for f in listing.files:
        st = f.stat()
        h.update(f"{f.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _read(paths: tuple[Path, Path], key: str, length: int) -> Clips | None:
    array_path, manifest_path = paths

    def load(manifest: dict) -> Clips:
        x = np.load(array_path, allow_pickle=False)
        labels = manifest["labels"]
        if x.dtype != np.int16 or x.shape != (len(manifest["names"]), length) or \
                (labels is not None and len(labels) != len(x)):
            raise ValueError("the array does not match the manifest")
        return Clips(x, labels, manifest["class_names"], manifest["names"], manifest["skipped"])
    return cache.read_entry(manifest_path, key, load, "audio")


def _write(paths: tuple[Path, Path], key: str, clips: Clips) -> None:
    manifest = {"format": FORMAT, "key": key, "labels": clips.labels, "class_names": clips.class_names,
                "names": clips.names, "skipped": clips.skipped}
    cache.write_entry(*paths, lambda f: np.save(f, clips.x, allow_pickle=False), manifest, "audio")

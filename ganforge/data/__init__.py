"""Datasets by name or path: 2-D toys, digits, Fashion-MNIST, IDX, image folders, CSV, NumPy,
music (the corpus's chorales and folk songs, folders of MIDI files), molecules (QM9, SMILES files),
audio (spoken digits synthesised by espeak-ng, Asterisk's recorded digits, folders of WAV files),
video (moving Fashion-MNIST items or digits, folders of GIF clips).

``load_data("ring8")`` returns a :class:`ToyDistribution` to sample from; everything else
comes back as an in-memory :class:`Dataset`, images as uint8 ``(N, C, H, W)``.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ganforge.data.arrays import load_array
from ganforge.data.audio import AUDIO_SOURCES, AudioDataset, has_wav, load_audio
from ganforge.data.dataset import Dataset, ToyDistribution
from ganforge.data.digits import load_digits
from ganforge.data.folder import load_image_folder
from ganforge.data.molecules import MOLECULE_SOURCES, MoleculeDataset, is_molecule_file, load_molecules
from ganforge.data.music import MUSIC_SOURCES, MusicDataset, has_midi, load_music
from ganforge.data.idx import (
    find_idx_images,
    load_fashion_mnist,
    load_idx_dir,
    load_idx_file,
)
from ganforge.data.text import TEXT_SOURCES, load_text
from ganforge.data.toy2d import TOYS, load_points_csv
from ganforge.data.video import VIDEO_SOURCES, VideoDataset, has_gifs, load_video
from ganforge.data.transforms import fit_images
from ganforge.errors import GanforgeError
from ganforge.resolution import Resolution
from ganforge.resolution import size as image_size

__all__ = ["DATASETS", "AudioDataset", "Dataset", "MoleculeDataset", "MusicDataset", "ToyDistribution", "VideoDataset",
           "load_data"]

DATASETS: dict[str, str] = {
    "ring8": "8 Gaussians on the unit circle (std 0.01), sampled afresh each batch",
    "grid25": "25 Gaussians on a 5x5 grid at -4..4 (std 0.05), sampled afresh each batch",
    "spiral": "a noisy 2-D spiral (Swiss-roll section) in the unit disc",
    "moons": "two interleaving noisy half circles",
    "digits": "scikit-learn's 1797 handwritten digits, 1x8x8, 10 classes",
    "fashion-mnist": "Zalando's clothing images, 1x28x28, 10 classes (Debian dataset-fashion-mnist)",
    **MUSIC_SOURCES,
    **MOLECULE_SOURCES,
    **AUDIO_SOURCES,
    **TEXT_SOURCES,
    **VIDEO_SOURCES,
}
PATH_KINDS = ("a directory of IDX files, an image folder, a folder of MIDI or WAV files, a SMILES file (.smi, or a .csv "
              "with a smiles column), a .csv, .npy, .npz or IDX file")


def _check(resolution: Resolution | None, channels: int | None) -> None:
    image_size(resolution)  # a one-line GanforgeError unless None, a side, "WxH" or (h, w)
    if channels not in (None, 1, 3):
        raise GanforgeError(f"channels must be 1 or 3, got {channels!r}")


def _unknown(source: str) -> GanforgeError:
    close = difflib.get_close_matches(source, DATASETS, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return GanforgeError(f"unknown dataset {source!r}: {guess}expected one of "
                         f"{', '.join(DATASETS)}, or a path ({PATH_KINDS})")


def _load_file(path: Path) -> Dataset:
    name = path.name.lower()
    if name.endswith((".csv", ".txt", ".tsv")):
        return load_points_csv(path)
    if name.endswith((".npy", ".npz")):
        return load_array(path)
    if "-ubyte" in name or name.endswith((".idx", ".gz")):
        return load_idx_file(path)
    raise GanforgeError(f"{path}: unsupported file type (expected {PATH_KINDS})")


def _load_path(source: str, resolution: Resolution | None, channels: int | None, split: str,
               cache_dir: str | Path | None = None) -> Dataset:
    path = Path(source).expanduser()
    if not path.exists():
        if "/" not in source and "\\" not in source and "." not in source:
            raise _unknown(source)  # it reads like a dataset name, not a path
        raise GanforgeError(f"{source}: no such file or directory (expected {PATH_KINDS})")
    if path.is_file():
        return _load_file(path)
    if find_idx_images(path, split) is not None:
        return load_idx_dir(path, split)
    return load_image_folder(path, resolution, channels or 3, cache_dir=cache_dir)


def load_data(source: str, resolution: Resolution | None = None, channels: int | None = None,
              split: str = "train", cache_dir: str | Path | None = None, *, bars: int = 4, tracks: int = 0,
              transpose: bool = False, atoms: str = "C,N,O,F", max_atoms: int = 9, sample_rate: int = 16_000,
              length: int = 16_384, clips_per_word: int = 500,
              representation: str = "waveform") -> Dataset | ToyDistribution:
    """Load a registered dataset (see ``DATASETS``) or a path.

    For images, ``resolution`` (a side, "WIDTHxHEIGHT" or (h, w); see ganforge.resolution)
    and ``channels`` (1 or 3) resize and convert once, at load: images are scaled to cover
    the size keeping their aspect ratio, then centre-cropped. Image folders require a
    resolution. 2-D toys and points ignore both.
    ``split`` ("train" or "test") picks the IDX / Fashion-MNIST split. ``cache_dir`` (e.g.
    the run directory) keeps an image folder's decoded images there, so that loading the
    unchanged folder again reads them back instead of decoding every file (music: its notes).
    Music comes as phrases of `bars` bars; `tracks` and `transpose`: see load_music.
    Molecules come as graphs of at most `max_atoms` atoms of the types `atoms`: see load_molecules.
    Audio comes as clips of `length` samples at `sample_rate` (spoken-digits: `clips_per_word`
    clips of each word), or as their spectrograms (`representation`): see load_audio.
    """
    _check(resolution, channels)
    if source in TOYS:
        return TOYS[source]()
    if source in MUSIC_SOURCES or has_midi(source):
        return load_music(source, bars, tracks, transpose, cache_dir)
    if source in MOLECULE_SOURCES or is_molecule_file(source):
        return load_molecules(source, atoms, max_atoms, cache_dir)
    if source in AUDIO_SOURCES or has_wav(source):
        return load_audio(source, sample_rate, length, clips_per_word, cache_dir, representation)
    if source in TEXT_SOURCES:  # (the text games read text files too: games/language.py)
        return load_text(source, cache_dir=cache_dir)
    if source in VIDEO_SOURCES or has_gifs(source):  # (the video game reads folders of frame folders too)
        return load_video(source, resolution, channels)
    if source == "digits":
        data = load_digits()
    elif source == "fashion-mnist":
        data = load_fashion_mnist(split)
    else:
        data = _load_path(str(source), resolution, channels, split, cache_dir)
    if data.kind == "images":
        data.x = fit_images(data.x, resolution, channels)
    return data

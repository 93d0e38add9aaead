"""Decoded image folders cached on disk, so a second load never touches Pillow, and read
back memory-mapped, so a folder larger than memory trains in bounded memory.

A cache entry is two files in the caller's ``cache_dir`` (the trainer passes the run
directory), named after the folder's absolute path, resolution and channels:

  folder-<key>.u8    raw uint8 pixels, (N, H, W, C): channels last, the layout CPU models
                     train in, so a batch is a gather of whole images with no transpose
  folder-<key>.json  manifest: fingerprint, shape, kept files, skipped files and reasons

Images are decoded a chunk at a time and streamed into the array file, so decoding holds one
chunk in memory, not the folder; reading maps the file (copy-on-write), so only the pages of
the images a batch gathers are read, and the OS may drop them again under memory pressure.

The fingerprint hashes every listed file's relative path, size and mtime together with the
resolution (h, w), channels and cache format, so adding, removing, replacing or touching a file
rebuilds the entry. The manifest is written last (after the array, both atomically), so a
manifest whose fingerprint matches always describes a complete array (its size is checked
too). A cache that cannot be read or written is never an error: the folder is decoded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterable, TypeVar

import numpy as np

from ganforge import atomic

log = logging.getLogger("ganforge")
T = TypeVar("T")

FORMAT = 3  # bump when what is stored, or how images are decoded, changes (3: raw NHWC, memory-mapped)


@dataclass
class Decoded:
    """What decoding a folder produced: images and which files they came from."""

    x: np.ndarray               # (N, C, H, W) uint8: a view of (N, H, W, C) pixels, in memory or mapped
    kept: list[str]             # POSIX paths relative to the folder, one per image
    skipped: list[list[str]]    # [relative path, one-line reason] per undecodable file


def fingerprint(root: Path, files: list[Path], resolution: tuple[int, int], channels: int) -> str:
    """sha256 over the format, the decode settings and every file's (path, size, mtime)."""
    h = hashlib.sha256(json.dumps([FORMAT, resolution, channels]).encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def entry_paths(cache_dir: Path, root: Path, resolution: tuple[int, int], channels: int) -> tuple[Path, Path]:
    """(array, manifest) paths for this folder at this size; one entry per folder and size."""
    key = hashlib.sha256(f"{root.resolve()}\0{resolution}\0{channels}".encode()).hexdigest()[:16]
    return cache_dir / f"folder-{key}.u8", cache_dir / f"folder-{key}.json"


def read(cache_dir: Path, root: Path, resolution: tuple[int, int], channels: int, fp: str) -> Decoded | None:
    """The cached decode, memory-mapped, if it matches ``fp`` and is intact, else None."""
    array_path, manifest_path = entry_paths(cache_dir, root, resolution, channels)
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") != fp:
            log.info("image cache %s is out of date: decoding %s again", manifest_path.name, root)
            return None
        shape = tuple(manifest["shape"])  # (N, H, W, C)
        if len(shape) != 4 or len(manifest["kept"]) != shape[0] or array_path.stat().st_size != np.prod(shape):
            raise ValueError(f"{array_path.name} does not hold the manifest's {shape} pixels")
        # mode "c": pages are read on demand and shared with the OS's cache; writes stay private
        x = np.memmap(array_path, dtype=np.uint8, mode="c", shape=shape)
        return Decoded(x.transpose(0, 3, 1, 2), list(manifest["kept"]), [list(s) for s in manifest["skipped"]])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:  # damaged or foreign files (EOFError: empty)
        log.warning("ignoring the image cache in %s (%s); decoding %s again", cache_dir,
                    " ".join(str(e).split())[:160], root)
        return None


Row = tuple[str, "np.ndarray | str"]  # (relative path, (H, W, C) uint8 pixels or why it could not be decoded)


def write(cache_dir: Path, root: Path, resolution: tuple[int, int], channels: int, fp: str,
          rows: Iterable[Row]) -> tuple[list[str], list[list[str]]] | None:
    """Stream decoded ``rows`` into the entry, then its manifest (none when no image was kept:
    nothing worth caching); returns (kept, skipped), or None when it could not be written
    (read-only or full disk: a warning, not an error)."""
    array_path, manifest_path = entry_paths(cache_dir, root, resolution, channels)
    kept, skipped, shape = [], [], []  # shape: one image's (H, W, C), as the decoder fits them all

    def fill(f: IO[bytes]) -> None:
        for rel, pixels in rows:
            if isinstance(pixels, str):
                skipped.append([rel, pixels])
                continue
            shape[:] = shape or pixels.shape
            if pixels.shape != tuple(shape):
                raise ValueError(f"{rel} decoded to {pixels.shape}, not {tuple(shape)}")  # (our bug)
            f.write(np.ascontiguousarray(pixels, dtype=np.uint8).data)
            kept.append(rel)

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic.remove_stale(cache_dir, ".folder-*.tmp")  # what killed writes left behind
        manifest_path.unlink(missing_ok=True)  # no stale manifest may describe the new array
        atomic.write(array_path, fill)
        if not kept:
            array_path.unlink()
            return kept, skipped
        manifest = {"format": FORMAT, "folder": str(root.resolve()), "resolution": resolution,
                    "channels": channels, "fingerprint": fp, "shape": [len(kept), *shape],
                    "kept": kept, "skipped": skipped}
        atomic.write_bytes(manifest_path, json.dumps(manifest).encode())
        return kept, skipped
    except (OSError, atomic.CannotWrite) as e:
        reason = e.reason if isinstance(e, atomic.CannotWrite) else e.strerror or e
        log.warning("could not write the image cache in %s (%s); the folder will be decoded "
                    "again next time", cache_dir, reason)
        return None


# ----------------------------------------------------------------- the other domains' entries
# Music, molecules and audio keep one entry of decoded data each the same way: an array file
# and a JSON manifest that names the entry's key and is written last, so that it vouches for
# the array. `load(manifest)` reads the array and checks it against the manifest.
TORN = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)  # (EOFError: empty; BadZipFile: a cut .npz)


def read_entry(manifest_path: Path, key: str, load: Callable[[dict], T], what: str) -> T | None:
    """The entry whose manifest carries `key`, or None (missing, out of date, or damaged: a
    warning says so, and the caller decodes again)."""
    try:
        manifest = json.loads(manifest_path.read_text())
        return load(manifest) if manifest.get("key") == key else None
    except FileNotFoundError:
        return None
    except TORN as e:
        log.warning("ignoring the %s cache %s (%s)", what, manifest_path.name, " ".join(str(e).split())[:160])
        return None


def write_entry(array_path: Path, manifest_path: Path, save: Callable[[IO[bytes]], object], manifest: dict,
                what: str) -> None:
    """Store an entry: the array (`save(f)`), then its manifest; a failure (read-only or full
    disk) is a warning, not an error."""
    folder = array_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic.remove_stale(folder, f".{array_path.name.split('-')[0]}-*.tmp")  # what killed writes left behind
        manifest_path.unlink(missing_ok=True)  # the manifest is written last: it vouches for the array
        atomic.write(array_path, save)
        atomic.write_bytes(manifest_path, json.dumps(manifest).encode())
    except (OSError, atomic.CannotWrite) as e:
        reason = e.reason if isinstance(e, atomic.CannotWrite) else e.strerror or e
        log.warning("could not write the %s cache in %s (%s)", what, folder, reason)

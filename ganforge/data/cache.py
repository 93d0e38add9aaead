"""Decoded image folders cached on disk, so a second load never touches Pillow.

A cache entry is two files in the caller's ``cache_dir`` (the trainer passes the run
directory), named after the folder's absolute path, resolution and channels:

  folder-<key>.npy   raw uint8 (N, C, H, W), written with np.save
  folder-<key>.json  manifest: fingerprint, shape, kept files, skipped files and reasons

The fingerprint hashes every listed file's relative path, size and mtime together with the
resolution (h, w), channels and cache format, so adding, removing, replacing or touching a file
rebuilds the entry. The manifest is written last (after the array, both atomically), so a
manifest whose fingerprint matches always describes a complete array. A cache that cannot
be read or written is never an error: the folder is simply decoded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, TypeVar

import numpy as np

from ganforge import atomic

log = logging.getLogger("ganforge")
T = TypeVar("T")

FORMAT = 2  # bump when what is stored, or how images are decoded, changes (2: bombs and extreme aspect ratios skipped)


@dataclass
class Decoded:
    """What decoding a folder produced: images and which files they came from."""

    x: np.ndarray               # (N, C, H, W) uint8
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
    return cache_dir / f"folder-{key}.npy", cache_dir / f"folder-{key}.json"


def read(cache_dir: Path, root: Path, resolution: tuple[int, int], channels: int, fp: str) -> Decoded | None:
    """The cached decode if it matches ``fp`` and is intact, else None."""
    array_path, manifest_path = entry_paths(cache_dir, root, resolution, channels)
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") != fp:
            log.info("image cache %s is out of date: decoding %s again", manifest_path.name, root)
            return None
        x = np.load(array_path, allow_pickle=False)
        shape = tuple(manifest["shape"])
        if x.dtype != np.uint8 or x.shape != shape or len(manifest["kept"]) != shape[0]:
            raise ValueError(f"array {x.dtype}{x.shape} does not match the manifest {shape}")
        return Decoded(x, list(manifest["kept"]), [list(s) for s in manifest["skipped"]])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:  # damaged or foreign files (EOFError: empty)
        log.warning("ignoring the image cache in %s (%s); decoding %s again", cache_dir,
                    " ".join(str(e).split())[:160], root)
        return None


def write(cache_dir: Path, root: Path, resolution: tuple[int, int], channels: int, fp: str, decoded: Decoded) -> None:
    """Store a decode; a failure (read-only or full disk) is a warning, not an error."""
    array_path, manifest_path = entry_paths(cache_dir, root, resolution, channels)
    manifest = {"format": FORMAT, "folder": str(root.resolve()), "resolution": resolution,
                "channels": channels, "fingerprint": fp, "shape": list(decoded.x.shape),
                "kept": decoded.kept, "skipped": decoded.skipped}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic.remove_stale(cache_dir, ".folder-*.tmp")  # what killed writes left behind
        manifest_path.unlink(missing_ok=True)  # no stale manifest may describe the new array
        atomic.write(array_path, lambda f: np.save(f, np.ascontiguousarray(decoded.x), allow_pickle=False))
        atomic.write_bytes(manifest_path, json.dumps(manifest).encode())
    except (OSError, atomic.CannotWrite) as e:
        reason = e.reason if isinstance(e, atomic.CannotWrite) else e.strerror or e
        log.warning("could not write the image cache in %s (%s); the folder will be decoded "
                    "again next time", cache_dir, reason)


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

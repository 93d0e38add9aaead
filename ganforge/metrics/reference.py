"""Reference features and statistics of a dataset, cached on disk.

    ref = reference_stats("fashion-mnist", "fashion-mnist-cnn", split="train", n=10_000)
    ref.features, ref.mu, ref.sigma, ref.logits, ref.labels, ref.extractor, ref.cached

The cache lives in ``~/.cache/ganforge/reference/`` (``$GANFORGE_CACHE/reference`` when that
variable is set; the ``cache_dir`` argument wins over both). One safetensors file per
(dataset, split, resolution, channels, extractor and its weights, sample count, seed)
holds the features (for KID / precision-recall / density-coverage), the logits and real
labels when there are some, and the float64 mean and covariance (for FID).

A fingerprint of the dataset (SHA-256 of its uint8 images and labels) is stored beside them;
when the data on disk change, the next call notices the mismatch and recomputes. The
extractor's weights are hashed into the file name, so new weights never reuse old features.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import nn

from ganforge import __version__, atomic
from ganforge.errors import GanforgeError
from ganforge.metrics.features import Extractor, extract, get_extractor
from ganforge.metrics.fid import feature_statistics
from ganforge.resolution import canonical

CACHE_ENV = "GANFORGE_CACHE"
FORMAT = 1  # bump when the file layout changes: older files are then recomputed
HASH_CHUNK = 4096  # images hashed at a time by fingerprint()


@dataclass
class ReferenceStats:
    """Features and float64 statistics of real data, named after the extractor."""

    features: torch.Tensor          # (N, F) float32
    mu: torch.Tensor                # (F,) float64
    sigma: torch.Tensor             # (F, F) float64
    logits: torch.Tensor | None     # (N, K) float32, when the extractor classifies
    labels: torch.Tensor | None     # (N,) int64 real labels, when the dataset has them
    extractor: str
    dataset: str
    split: str
    n: int
    fingerprint: str                # SHA-256 of the dataset's images and labels
    path: Path | None               # the cache file (None when caching is off)
    cached: bool                    # True when read from the cache, False when computed


def resolve_cache_dir(path: str | Path | None = None) -> Path:
    """The reference cache folder: ``path``, else ``$GANFORGE_CACHE/reference``, else
    ``~/.cache/ganforge/reference``."""
    if path is not None:
        return Path(path).expanduser()
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "ganforge") / "reference"


def fingerprint(x: torch.Tensor, y: torch.Tensor | None = None) -> str:
    """SHA-256 of a dataset's tensors (shape, dtype and bytes of images, then labels)."""
    h = hashlib.sha256()
    for t in (x, y):
        if t is None:
            h.update(b"none")
            continue
        t = t.detach().cpu()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        for part in t.split(HASH_CHUNK):  # a chunk at a time: a memory-mapped folder may not fit in memory
            h.update(part.contiguous().numpy().tobytes())  # (the uint8 view of the data)
    return h.hexdigest()


def module_fingerprint(module: nn.Module) -> str:
    """A short hash of a module's parameters and buffers, so new weights get new cache keys."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:12]


def _slug(text: str) -> str:
    """File-name-safe dataset name; paths also get a short hash so two 'data' folders differ."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(text).name or text).strip("-") or "data"
    if text != slug:
        slug += "-" + hashlib.sha256(str(Path(text).expanduser().resolve()).encode()).hexdigest()[:8]
    return slug


def cache_key(source: str, split: str, resolution: int | str | None, channels: int | None,
              extractor: Extractor, n: int | None, seed: int) -> str:
    """The cache file name for one reference set."""
    size = f"r{canonical(resolution) or 'native'}c{channels or 'native'}"
    count = f"n{n}s{seed}" if n is not None else "all"
    # the preprocessing protocol is not in the weights, and FID moves with it: it joins the key
    protocol = extractor.settings.get("protocol")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", extractor.name + (f"-{protocol}" if protocol else ""))
    return f"{_slug(source)}_{split}_{size}_{name}-{module_fingerprint(extractor.module)}_{count}.safetensors"


def _load_images(source: str, split: str, resolution: int | str | None, channels: int | None):
    from ganforge.data import load_data

    data = load_data(source, resolution, channels, split)
    if getattr(data, "kind", None) != "images":
        raise GanforgeError(f"reference statistics need an image dataset; {source!r} holds "
                            f"{getattr(data, 'kind', 'points')} (use mode coverage for 2-D toys)")
    return data


def _subset(x: torch.Tensor, y: torch.Tensor | None, n: int | None, seed: int):
    if n is None or n >= len(x):
        return x, y
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    idx = idx.sort().values  # keep dataset order: batches see the same images either way
    return x[idx], None if y is None else y[idx]


def _read(path: Path, fp: str) -> ReferenceStats | None:
    """The cached entry at path, or None when absent, unreadable or stale."""
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("reference", "{}"))
        tensors = load_file(str(path))
    except (OSError, SafetensorError, ValueError):
        return None  # a torn or foreign file: recompute and overwrite it
    if meta.get("fingerprint") != fp or meta.get("format") != FORMAT:
        return None
    return ReferenceStats(tensors["features"], tensors["mu"], tensors["sigma"], tensors.get("logits"),
                          tensors.get("labels"), meta["extractor"], meta["dataset"], meta["split"],
                          meta["n"], fp, path, cached=True)


def _write(path: Path, ref: ReferenceStats) -> None:
    """Write atomically (ganforge.atomic) so a kill never leaves a torn cache entry."""
    tensors = {"features": ref.features, "mu": ref.mu, "sigma": ref.sigma}
    if ref.logits is not None:
        tensors["logits"] = ref.logits
    if ref.labels is not None:
        tensors["labels"] = ref.labels
    meta = {"format": FORMAT, "fingerprint": ref.fingerprint, "extractor": ref.extractor,
            "dataset": ref.dataset, "split": ref.split, "n": ref.n, "ganforge_version": __version__}
    # bytes through ganforge.atomic (save_file would report a full disk as a SafetensorError)
    data = save({k: v.contiguous() for k, v in tensors.items()}, metadata={"reference": json.dumps(meta)})
    try:
        atomic.remove_stale(path.parent, ".*.safetensors.*.tmp")  # what killed writes left behind
        atomic.write_bytes(path, data)
    except atomic.CannotWrite as e:
        raise GanforgeError(f"cannot write reference statistics to {path}: {e.reason} "
                            f"(set {CACHE_ENV} or pass cache_dir to use another folder)") from None


def reference_stats(source: str, extractor: str | nn.Module | Extractor, split: str = "train",
                    n: int | None = None, resolution: int | str | None = None, channels: int | None = None,
                    seed: int = 0, cache_dir: str | Path | None = None, use_cache: bool = True,
                    batch_size: int = 100, progress: bool | None = None) -> ReferenceStats:
    """Features and statistics of ``n`` images (all when None; a seeded subset otherwise) of
    a dataset, from the cache when it holds them for the same data, else computed and cached.

    ``resolution`` / ``channels`` load the data as the generator saw it, so real and
    generated images take the same path into the extractor.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 2):
        raise GanforgeError(f"reference sample count must be an integer >= 2 (a covariance needs 2), got {n!r}")
    extractor = get_extractor(extractor)
    data = _load_images(source, split, resolution, channels)
    fp = fingerprint(data.x, data.y)
    key = cache_key(source, split, resolution, channels, extractor, n, seed)
    path = resolve_cache_dir(cache_dir) / key
    if use_cache and (hit := _read(path, fp)) is not None:
        return hit
    x, y = _subset(data.x, data.y, n, seed)
    feats = extract(extractor, x, batch_size=batch_size, progress=progress)
    mu, sigma = feature_statistics(feats.features)
    ref = ReferenceStats(feats.features, mu, sigma, feats.logits, y, extractor.name, source, split,
                         len(x), fp, path if use_cache else None, cached=False)
    if use_cache:
        _write(path, ref)
    return ref

"""Metrics between two folders of images, as pytorch-fid's command computes FID:

    evaluate_folders("photos/", "samples/", ["fid", "kid", "pr", "dc"])

Both folders are read (recursively; hidden files left out; undecodable files skipped with a
warning) by ganforge's image-folder decoder (ganforge.data.folder), and their features come
from one extractor. How images of other sizes are handled depends on it:

- ``inception-v3-fid`` (the default): each image at its own size, as uint8 RGB (grey
  replicated to 3 channels), is resized by the network's protocol — NVlabs: bilinear to
  299x299 without antialiasing, then (x - 128) / 128 — so folders of any, even mixed, sizes
  compare; images of one size are decoded and run together, a size at a time.
- ``digits-cnn`` / ``fashion-mnist-cnn``: grey at their native size (8x8 / 28x28) only; a
  folder holding another size is refused in one line (their features mean nothing on
  resized photos), naming a file that does not fit.

Nothing is cached: both folders are decoded and extracted on every call (a progress bar
shows the extraction).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from pathlib import Path

import torch
from PIL import Image

from ganforge import __version__
from ganforge.data.folder import DECODE_ERRORS, decode_files, list_files
from ganforge.errors import GanforgeError
from ganforge.metrics.features import DOMAIN_OF, Extractor, Features, extract_stream, get_extractor
from ganforge.metrics.registry import compute, expand, get_metric

log = logging.getLogger("ganforge")

FOLDER_DEFAULT = ("fid", "kid", "pr", "dc")
CHUNK = 200  # images decoded at a time: memory stays bounded for folders of large photos
EXIF_ORIENTATION, SWAPS_SIDES = 0x0112, (5, 6, 7, 8)  # rotations by 90 degrees swap width and height


def _size(path: Path) -> tuple[int, int] | None:
    """(height, width) as the decoder will see it (after EXIF rotation); None: not an image."""
    try:
        with Image.open(path) as im:  # reads the header only
            w, h = im.size
            rotated = im.getexif().get(EXIF_ORIENTATION) in SWAPS_SIDES
    except DECODE_ERRORS:
        return None
    return (w, h) if rotated else (h, w)


def _check_folder(root: Path, option: str) -> list[Path]:
    if not root.exists():
        raise GanforgeError(f"{option} {root}: no such folder")
    if not root.is_dir():
        raise GanforgeError(f"{option} {root}: not a folder (expected a folder of images)")
    files = list_files(root)
    if not files:
        raise GanforgeError(f"{option} {root}: the folder is empty (expected PNG, JPEG, BMP, GIF, TIFF or WebP files)")
    return files


def _groups(root: Path, files: list[Path], extractor: Extractor, option: str) -> dict[tuple[int, int], list[Path]]:
    """Files by (height, width); a domain CNN takes only its own size. Non-images go in a
    group of their own, for the decoder to skip with its warning."""
    groups: dict = defaultdict(list)
    for f in files:
        groups[_size(f)].append(f)
    native = getattr(extractor.module, "resolution", None) if extractor.domain else None
    wrong = [(s, fs[0]) for s, fs in groups.items() if native and s is not None and s != (native, native)]
    if wrong:
        (h, w), example = wrong[0]
        others = sum(len(groups[s]) for s, _ in wrong) - 1
        more = f" ({others} more of other sizes)" if others else ""
        raise GanforgeError(f"{option} {root}: --features {extractor.name} takes {native}x{native} images and "
                            f"{example.relative_to(root)} is {w}x{h}{more}; use --features inception-v3-fid, "
                            "which resizes any size")
    return groups


def _batches(root: Path, groups: dict, channels: int, batch_size: int, counts: dict):
    """Yield (uint8 images (B, C, H, W), None), a size at a time, CHUNK files decoded at once."""
    for size, files in groups.items():
        for i in range(0, len(files), CHUNK):
            part = files[i:i + CHUNK]
            decoded = decode_files(root, part, size or (1, 1), channels)
            for rel, reason in decoded.skipped:
                log.warning("skipped %s: not a decodable image (%s)", root / rel, reason)
            counts["skipped"] += len(decoded.skipped)
            x = torch.from_numpy(decoded.x)
            for j in range(0, len(x), batch_size):
                yield x[j:j + batch_size], None


def plan_folder(root: str | Path, extractor: Extractor, option: str = "folder") -> tuple[Path, dict, int]:
    """Check a folder before any work: (root, files by size, images to extract)."""
    root = Path(root).expanduser()
    files = _check_folder(root, option)
    groups = _groups(root, files, extractor, option)
    total = sum(len(fs) for s, fs in groups.items() if s is not None)
    if total == 0:
        raise GanforgeError(f"{option} {root}: no decodable images among {len(files)} files "
                            "(expected PNG, JPEG, BMP, GIF, TIFF or WebP files)")
    return root, groups, total


def folder_features(root: str | Path, extractor: Extractor, option: str = "folder", batch_size: int = 100,
                    progress: bool | None = None, plan: tuple | None = None) -> Features:
    """Features of every decodable image under root (see the module docstring for sizes)."""
    root, groups, total = plan or plan_folder(root, extractor, option)
    channels = 1 if extractor.domain else 3  # Inception: grey replicated to RGB by the decoder
    counts = {"skipped": 0}
    feats = extract_stream(extractor, _batches(root, groups, channels, batch_size, counts), total,
                           f"features ({extractor.name}) of {root.name or root}", progress, batch_size)
    if len(feats) < 2:
        raise GanforgeError(f"{option} {root}: {len(feats)} decodable image(s); the metrics need at least 2 "
                            "(a covariance needs 2 samples)")
    return feats


def _check_metrics(names: list[str], extractor: Extractor) -> None:
    for name in names:
        needs = get_metric(name).needs  # unknown names: one line listing the valid ones
        if "generator" in needs:
            raise GanforgeError(f"metric {name!r} trains on a generator's samples; between two folders "
                                f"there is none (expected e.g. {','.join(FOLDER_DEFAULT)})")
        if "fake_logits" in needs and getattr(extractor.module, "num_classes", None) == 0:
            raise GanforgeError(f"metric {name!r} needs class logits, and {extractor.name} with these weights "
                                "ends at its pool features (pytorch-fid's weights file has the logits)")


def evaluate_folders(real: str | Path, fake: str | Path, metrics: list[str] | None = None,
                     features: str = "inception-v3-fid", weights: str | Path | None = None, seed: int = 0,
                     batch_size: int = 100, progress: bool | None = None, device: str = "cpu") -> dict:
    """Metrics (default fid, kid, pr, dc; "prdc" = pr + dc) of the images in `fake` against
    those in `real`; returns {"metrics", "settings"} as `evaluate` does (nothing is recorded:
    there is no run). `seed` picks KID's subsets."""
    start = time.perf_counter()
    names = expand(metrics) if metrics else list(FOLDER_DEFAULT)
    for name in names:
        get_metric(name)  # a typo is reported before the extractor's weights are read
    extractor = get_extractor(features, weights, device=device)
    _check_metrics(names, extractor)
    plans = plan_folder(real, extractor, "--real"), plan_folder(fake, extractor, "--fake")  # both, before any work
    real_feats = folder_features(real, extractor, "--real", batch_size, progress, plans[0])
    fake_feats = folder_features(fake, extractor, "--fake", batch_size, progress, plans[1])
    inputs = {"real_features": real_feats.features, "fake_features": fake_feats.features,
              "fake_logits": fake_feats.logits, "real_labels": None, "domain": DOMAIN_OF.get(extractor.name)}
    options = {"kid": {"seed": seed}}
    values = compute(names, inputs, {k: v for k, v in options.items() if k in names})
    resize = ("each image at its own size -> bilinear 299" if extractor.name == "inception-v3-fid"
              else f"native {getattr(extractor.module, 'resolution', '?')} px only" if extractor.domain else "as given")
    settings = {"real": str(real), "fake": str(fake), "n_real": len(real_feats), "n_fake": len(fake_feats),
                "extractor": extractor.name, **extractor.settings, "resize": resize, "seed": seed,
                "metrics": names, "seconds": round(time.perf_counter() - start, 1), "ganforge_version": __version__}
    return {"metrics": values, "settings": settings}

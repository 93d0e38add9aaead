"""The augmented set on disk: images/<class>/real_*.png and synth_*.png, augmented.npz (x, y,
synthetic), and manifest.json (settings, counts, which file is real and which synthetic).

The images are written into a temporary folder renamed into place, and manifest.json last
(atomically): a folder with a manifest holds a whole set. `--force` replaces only a folder
whose manifest says augment wrote it; nothing else of the user's is overwritten.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganforge import atomic
from ganforge.errors import GanforgeError

MARK = "ganforge augment"


def check_out(out: Path, source: str, force: bool) -> None:
    """Refuse an --out inside (or holding) the input, or a used folder augment did not write."""
    src = Path(source).expanduser()
    if src.exists():
        a, b = out.resolve(), src.resolve()
        if a == b or b in a.parents or a in b.parents:
            raise GanforgeError(f"--out {out} overlaps the input {source}: choose a folder outside it")
    if not out.exists():
        return
    if not out.is_dir():
        raise GanforgeError(f"--out {out} is a file, not a folder")
    if not any(out.iterdir()):
        return
    manifest = out / "manifest.json"
    ours = manifest.is_file() and _marked(manifest)
    if not ours:
        raise GanforgeError(f"--out {out} is not empty and augment did not write it: choose another folder")
    if not force:
        raise GanforgeError(f"--out {out} holds an earlier augment run: pass --force to replace it")


def _marked(manifest: Path) -> bool:
    try:
        return json.loads(manifest.read_text()).get("generated_by") == MARK
    except (OSError, ValueError, AttributeError):
        return False


def clear(out: Path) -> None:
    """Empty a folder check_out allowed (an augment run's) before writing the new run."""
    if out.exists():
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def folder_name(i: int, name: str) -> str:
    """A class's folder: its index and its name made safe ("0-t-shirt-top")."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "class"
    return f"{i}-{safe}" if safe != str(i) else str(i)


def _png(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)


def write_set(out: Path, real: tuple[torch.Tensor, torch.Tensor], synthetic: tuple[torch.Tensor, torch.Tensor],
              class_names: list[str], manifest: dict) -> Path:
    """Write the augmented set (uint8 (N, C, H, W) images + labels) and return manifest.json."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".images.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    files = []
    for kind, (x, y) in (("real", real), ("synth", synthetic)):
        hwc = x.permute(0, 2, 3, 1).numpy()
        for i, (image, label) in enumerate(zip(hwc, y.tolist())):
            rel = Path(folder_name(label, class_names[label])) / f"{kind}_{i:05d}.png"
            (tmp / rel.parent).mkdir(parents=True, exist_ok=True)
            _png(image).save(tmp / rel)
            files.append({"file": f"images/{rel.as_posix()}", "label": label, "synthetic": kind == "synth"})
    shutil.rmtree(out / "images", ignore_errors=True)
    tmp.rename(out / "images")
    x = torch.cat([real[0], synthetic[0]]).numpy()
    y = torch.cat([real[1], synthetic[1]]).numpy()
    flag = np.r_[np.zeros(len(real[1]), bool), np.ones(len(synthetic[1]), bool)]

    def fill(f):
        buffer = io.BytesIO()
        np.savez_compressed(buffer, x=x, y=y, synthetic=flag)
        f.write(buffer.getvalue())

    atomic.write(out / "augmented.npz", fill)
    record = {"generated_by": MARK, **manifest, "class_names": class_names,
              "counts": {"real": int(len(real[1])), "synthetic": int(len(synthetic[1]))}, "files": files}
    return atomic.write_text(out / "manifest.json", json.dumps(record, indent=1))

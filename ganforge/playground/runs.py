"""The image lab's view of `--runs`: listing runs and models, and resolving a page's path
strictly inside that folder (no `..`, no absolute paths, no symlinks leading out)."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from ganforge.errors import GanforgeError

MAX_ENTRIES = 200   # listed runs/models
MAX_DEPTH = 3       # folders below --runs that are searched
CURVE_KEYS = ("Loss/D", "Loss/G", "Metric/modes", "Metric/hq_percent")
TAIL_BYTES = 512 * 1024  # metrics.jsonl is read from its end only: bounded memory
# What the image lab reads inside a run or model folder; each must stay inside --runs too (a
# run folder could hold model.safetensors -> ~/.ssh/id_rsa or samples/latest.png -> /etc).
READ = ("config.json", "model.safetensors", "discriminator.json", "discriminator.safetensors", "metrics.jsonl",
        "samples", "samples/latest.png", "model", "model/config.json", "model/model.safetensors")


def outside(base: Path, folder: Path) -> str | None:
    """The first file the image lab would read in `folder` that leads outside `base`, or None."""
    for name in READ:
        path = folder / name
        if (path.is_symlink() or path.exists()) and not path.resolve().is_relative_to(base):
            return name
    return None


def resolve(root: Path, rel: str) -> Path:
    """`rel` (as the page sends it) -> a path inside `root`, or GanforgeError."""
    if "\\" in rel or "\x00" in rel:
        raise GanforgeError(f"'{rel[:80]}': use forward slashes, relative to --runs")
    p = PurePosixPath(rel)
    if p.is_absolute() or rel.startswith("~"):
        raise GanforgeError(f"'{rel[:80]}': absolute paths are refused; give a path relative to --runs")
    if ".." in p.parts:
        raise GanforgeError(f"'{rel[:80]}': '..' is refused; only paths inside --runs can be opened")
    base = root.resolve()
    target = (base / Path(*p.parts)).resolve() if p.parts else base
    if not target.is_relative_to(base):  # a symlink that leads out of --runs
        raise GanforgeError(f"'{rel[:80]}' leads outside --runs")
    if not target.is_dir():
        raise GanforgeError(f"'{rel[:80]}': no such run or model folder under --runs")
    leak = outside(base, target)
    if leak is not None:
        raise GanforgeError(f"'{rel[:80]}/{leak}' is a link leading outside --runs; it is not opened")
    return target


def describe(folder: Path) -> dict | None:
    """What a folder is: an exported model, a run (finished or training), or None."""
    model = folder / "config.json"
    if model.is_file() and (folder / "model.safetensors").is_file():
        return {"kind": "model"}
    if (folder / "metrics.jsonl").is_file() or (folder / "samples").is_dir() or (folder / "model" / "config.json").is_file():
        return {"kind": "run", "has_model": (folder / "model" / "model.safetensors").is_file()}
    return None


def list_runs(root: Path) -> list[dict]:
    """Runs and models under root (breadth first, at most MAX_ENTRIES), paths relative to root."""
    base = root.resolve()
    if not base.is_dir():
        return []
    found, frontier = [], [(base, 0)]
    while frontier and len(found) < MAX_ENTRIES:
        folder, depth = frontier.pop(0)
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            continue
        for child in children:
            if not child.resolve().is_relative_to(base) or outside(base, child) is not None:
                continue  # a symlink leading out, or a run whose files do
            info = describe(child)
            if info is not None:
                found.append({"path": child.relative_to(base).as_posix(), **info})
                if len(found) >= MAX_ENTRIES:
                    break
            elif depth + 1 < MAX_DEPTH:
                frontier.append((child, depth + 1))
    return found


def read_curves(run: Path) -> dict[str, list]:
    """{name: [[step, value], ...]} for the curve keys, from the end of metrics.jsonl."""
    path = run / "metrics.jsonl"
    curves: dict[str, list] = {k: [] for k in CURVE_KEYS}
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return curves
    if size > TAIL_BYTES:
        lines = lines[1:]  # the first line may be cut
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line being written
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            continue
        for k in CURVE_KEYS:
            if isinstance(row.get(k), (int, float)):
                curves[k].append([row["step"], row[k]])
    return curves

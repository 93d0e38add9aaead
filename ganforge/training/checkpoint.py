"""Resume checkpoints: complete, atomic, and loaded without unpickling code.

A checkpoint holds G, D, G_ema, both optimisers, the grad scalers, the step, every RNG
state and the config. It is written to a temporary file, fsynced, then renamed over the
target, so a crash never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ganforge import atomic
from ganforge.errors import GanforgeError

PATTERN = re.compile(r"step-(\d+)\.pt$")
# What a resume reads (Trainer.__init__ and Trainer._restore); world_size and best_fid have defaults.
RESUME_KEYS = ("G", "D", "G_ema", "opt_g", "opt_d", "scaler_g", "scaler_d", "step", "config", "batches", "rng")
RNG_KEYS = ("torch", "noise", "data", "cuda")


def atomic_save(obj, path: Path) -> None:
    """torch.save through ganforge.atomic: a kill or a full disk (CannotWrite, one line) keeps
    the old file and leaves no partial one."""
    atomic.write(path, lambda f: torch.save(obj, f))


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return run_dir / "checkpoints" / f"step-{step:08d}.pt"


def list_checkpoints(run_dir: Path) -> list[Path]:
    folder = run_dir / "checkpoints"
    found = [p for p in folder.glob("step-*.pt") if PATTERN.search(p.name)] if folder.is_dir() else []
    return sorted(found, key=lambda p: int(PATTERN.search(p.name).group(1)))


def prune(run_dir: Path, keep: int) -> None:
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink()


def step_of(path: Path) -> int | None:
    m = PATTERN.search(path.name)
    return int(m.group(1)) if m else None


def discard_after(run_dir: Path, step: int) -> list[int]:
    """Resuming from an earlier checkpoint abandons the later history: remove the later
    checkpoints (else 'latest' would point into it) and metrics rows. Returns their steps."""
    later = [p for p in list_checkpoints(run_dir) if step_of(p) > step]
    for p in later:
        p.unlink()
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        text = metrics.read_text(errors="replace")
        kept = "".join(f"{line}\n" for line in text.splitlines() if (at := _row_step(line)) is not None and at <= step)
        if kept != text:
            atomic.write_text(metrics, kept)
    return [step_of(p) for p in later]


def _row_step(line: str) -> int | None:
    """A metrics row's step; None for a line that is not a row (torn by a kill or a full disk)."""
    import json
    try:
        row = json.loads(line)
    except ValueError:
        return None
    at = row.get("step", 0) if isinstance(row, dict) else None
    return at if isinstance(at, (int, float)) else None


def resolve(run_dir: Path, resume: str) -> Path:
    """'latest' -> the newest checkpoint in run_dir; otherwise a checkpoint file path."""
    if resume == "latest":
        found = list_checkpoints(run_dir)
        if not found:
            raise GanforgeError(f"--resume latest: no checkpoints in {run_dir / 'checkpoints'}")
        return found[-1]
    path = Path(resume)
    if not path.is_file():
        raise GanforgeError(f"--resume: checkpoint not found: {path} (expected 'latest' or a .pt file)")
    return path


def load(path: Path, map_location: torch.device | str = "cpu") -> dict:
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated file, wrong format, pickled code
        reason = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise GanforgeError(f"cannot read checkpoint {path}: {reason}") from None
    if not isinstance(ckpt, dict) or "G" not in ckpt or "step" not in ckpt:
        raise GanforgeError(f"{path} is not a ganforge checkpoint")
    rng = ckpt.get("rng")
    missing = [k for k in RESUME_KEYS if k not in ckpt]
    missing += [f"rng.{k}" for k in RNG_KEYS if isinstance(rng, dict) and k not in rng]
    if missing:
        raise GanforgeError(f"checkpoint {path} is incomplete: it lacks {', '.join(missing)}, which resuming needs")
    return ckpt

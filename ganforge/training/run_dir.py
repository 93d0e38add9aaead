"""A run's directory: refuse to overwrite someone's run, and clear only what a run writes.

Which directories --force may clear: those holding a `.ganforge-run` marker, a small JSON
file (`{"by": "train", "ganforge": VERSION}`) that a run writes first, before anything else,
whenever it prepares its directory. A non-empty directory without one (a photo folder that
happens to have a `samples/`) is never cleared. `by` names what last trained there: the
demo replaces only directories it wrote itself (`by: "demo"`).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

from ganforge import atomic
from ganforge.errors import GanforgeError
from ganforge.training import checkpoint

MARKER = ".ganforge-run"
# What a run writes; --force removes these and nothing else of the user's.
RUN_ARTIFACTS = ("checkpoints", "samples", "model", "metrics.jsonl", "config.yaml", "run_info.json",
                 "alarms.jsonl", "timelapse.gif", "curves.png", "report.html", "tensorboard")


def run_owner(run_dir: Path) -> str | None:
    """What wrote the run in run_dir ("train", "demo", ...), or None if no ganforge run did."""
    try:
        by = json.loads((run_dir / MARKER).read_text()).get("by")
    except (OSError, ValueError, AttributeError):  # missing, unreadable, or not a JSON object
        return None
    return by if isinstance(by, str) else None


def leftovers(run_dir: Path) -> list[Path]:
    """The temporary files (.NAME.PID.tmp) that processes killed while writing a run left behind."""
    found = [p for name in (MARKER, *RUN_ARTIFACTS) for p in atomic.stale(run_dir, f".{name}.*.tmp")]
    return found + [p for sub in ("checkpoints", "samples") for p in atomic.stale(run_dir / sub, ".*.tmp")]


def is_used(run_dir: Path) -> bool:
    """Holds anything but leftovers (a killed first run may have left only its marker's)."""
    return run_dir.is_dir() and bool(set(run_dir.iterdir()) - set(leftovers(run_dir)))


def check_run_dir(run_dir: Path, resume: str | None, force: bool) -> dict | None:
    """Refuse to overwrite a run unless asked to; return the checkpoint to resume from."""
    if resume is not None:
        if not run_dir.is_dir():
            raise GanforgeError(f"--resume: run directory {run_dir} does not exist")
        return checkpoint.load(checkpoint.resolve(run_dir, resume))
    if run_dir.exists() and not run_dir.is_dir():
        raise GanforgeError(f"output {run_dir} exists and is not a directory")
    if is_used(run_dir) and not force:
        raise GanforgeError(f"run directory {run_dir} already exists and is not empty; "
                            "use --resume latest to continue it or --force to start over")
    if is_used(run_dir) and run_owner(run_dir) is None:
        raise GanforgeError(f"--force: {run_dir} is not a ganforge run directory (no {MARKER} file), "
                            "so nothing in it is cleared; choose another --out")
    return None


def check_writable(run_dir: Path) -> None:
    """What prepare_run_dir would meet, found without writing (for --dry-run): the nearest
    existing folder on the way to run_dir must take new files."""
    p = run_dir
    while not p.exists():
        p = p.parent
    if not p.is_dir():
        reason = os.strerror(errno.ENOTDIR)
    elif not os.access(p, os.W_OK | os.X_OK):
        reason = os.strerror(errno.EACCES)
    else:
        return
    raise GanforgeError(f"cannot write to run directory {run_dir}: {reason}")


def prepare_run_dir(run_dir: Path, clear: bool, by: str = "train") -> None:
    """Create the run directory (after every option was checked), mark it as a run of `by`
    and prove it writable."""
    if clear:
        for name in RUN_ARTIFACTS:
            p = run_dir / name
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    for p in leftovers(run_dir):  # never read, only in the way
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        from ganforge import __version__
        # whole or absent: a torn marker would make --force refuse the run as someone else's
        atomic.write_text(run_dir / MARKER, json.dumps({"by": by, "ganforge": __version__}) + "\n")
    except OSError as e:
        raise GanforgeError(f"cannot write to run directory {run_dir}: {e.strerror}") from None
    except atomic.CannotWrite as e:
        raise GanforgeError(f"cannot write to run directory {run_dir}: {e.reason}") from None

"""A run's directory: refuse to overwrite someone's run, and clear only what a run writes."""

from __future__ import annotations

import shutil
from pathlib import Path

from ganforge.errors import GanforgeError
from ganforge.training import checkpoint

# What a run writes; --force removes these and nothing else of the user's.
RUN_ARTIFACTS = ("checkpoints", "samples", "model", "metrics.jsonl", "config.yaml", "run_info.json",
                 "alarms.jsonl", "timelapse.gif", "curves.png", "report.html", "tensorboard")


def check_run_dir(run_dir: Path, resume: str | None, force: bool) -> dict | None:
    """Refuse to overwrite a run unless asked to; return the checkpoint to resume from."""
    if resume is not None:
        if not run_dir.is_dir():
            raise GanforgeError(f"--resume: run directory {run_dir} does not exist")
        return checkpoint.load(checkpoint.resolve(run_dir, resume))
    if run_dir.exists() and not run_dir.is_dir():
        raise GanforgeError(f"output {run_dir} exists and is not a directory")
    if run_dir.is_dir() and any(run_dir.iterdir()) and not force:
        raise GanforgeError(f"run directory {run_dir} already exists and is not empty; "
                            "use --resume latest to continue it or --force to start over")
    return None


def prepare_run_dir(run_dir: Path, clear: bool) -> None:
    """Create the run directory (after every option was checked) and prove it writable."""
    if clear:
        for name in RUN_ARTIFACTS:
            p = run_dir / name
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise GanforgeError(f"cannot write to run directory {run_dir}: {e.strerror}") from None

"""Ctrl-C during training: finish the step, save a checkpoint, say how to resume."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

from ganforge.errors import GanforgeError


class Interrupted(GanforgeError):
    """Training stopped by Ctrl-C after a checkpoint was saved (exit code 130)."""

    exit_code = 130


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """The first Ctrl-C only raises a flag the loop checks between steps; a second one
    interrupts at once. (Signal handlers exist only in the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    hits: list[int] = []

    def handler(signum, frame):
        if hits:
            raise KeyboardInterrupt
        hits.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, previous)

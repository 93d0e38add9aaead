"""What every hostile input must lead to, and hypothesis kept small enough for 2 shared cores.

`clean(call)` runs a loader on a crafted input and accepts exactly two outcomes: it returns
(a skip, with a warning), or it raises GanforgeError with one non-empty line. Anything else
(another exception: a traceback for the user), or running past a time limit (a hang), fails.
"""

from __future__ import annotations

import contextlib
import signal
import tracemalloc
from typing import Any, Callable

from hypothesis import HealthCheck, settings

from ganforge.errors import GanforgeError

# Few examples, a generous deadline: the suite shares 2 cores with long benchmarks.
settings.register_profile("hostile", max_examples=30, deadline=10_000, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE = settings.get_profile("hostile")
LIMIT_S = 20  # one load of a few-kB input: far more than enough, short of a hang


@contextlib.contextmanager
def time_limit(seconds: int = LIMIT_S):
    """SIGALRM turns a hang into a failure naming it (main thread only, as pytest runs tests)."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def clean(call: Callable[[], Any]) -> Any:
    """The result of `call()`, or the GanforgeError it raised (checked to be one clear line)."""
    with time_limit():
        try:
            return call()
        except GanforgeError as e:
            text = str(e)
            assert text and "\n" not in text and "Traceback" not in text, repr(text)
            return e


def peak_bytes(call: Callable[[], Any]) -> tuple[Any, int]:
    """(clean(call), the peak Python + NumPy allocation it made): NumPy reports its buffers to
    tracemalloc, so an array sized by a lying header shows up here."""
    tracemalloc.start()
    try:
        out = clean(call)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

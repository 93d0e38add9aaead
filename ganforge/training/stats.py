"""Training statistics with hierarchical names (`Loss/D/real`, `Metric/modes`).

`report(name, value)` takes tensors without syncing the host; `flush()` averages what was
reported since the last flush, in one transfer, and hands the dict to every sink.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Callable, Protocol

import torch

from ganforge.atomic import CannotWrite

Sink = Callable[[int, dict[str, float]], None]


class Stats:
    def __init__(self, sinks: list[Sink] | None = None):
        self.sinks: list[Sink] = sinks or []
        self._values: dict[str, list[torch.Tensor]] = defaultdict(list)

    def report(self, name: str, value: torch.Tensor | float) -> None:
        if isinstance(value, torch.Tensor):  # few dispatches: this runs several times a step
            value = value.detach()
            value = value if value.dtype == torch.float32 and value.dim() == 0 else value.float().reshape(())
        else:
            value = torch.tensor(float(value))
        self._values[name].append(value)

    def flush(self, step: int) -> dict[str, float]:
        """collect() then emit(): average, and hand the row to every sink."""
        row = self.collect()
        self.emit(step, row)
        return row

    def emit(self, step: int, row: dict[str, float]) -> None:
        for sink in self.sinks:
            sink(step, row)

    def discard(self) -> None:
        self._values.clear()

    def collect(self) -> dict[str, float]:
        """The mean of each stat reported since the last collect, in one host transfer per device."""
        means = {name: torch.stack(vals).mean() for name, vals in self._values.items()}
        self._values.clear()
        row: dict[str, float] = {}
        for device in {m.device for m in means.values()}:  # one transfer per device
            names = [n for n, m in means.items() if m.device == device]
            row.update(zip(names, torch.stack([means[n] for n in names]).tolist()))
        return {n: row[n] for n in means}  # in the order reported


class JsonlSink:
    """Appends one JSON object per flush to `metrics.jsonl` (non-finite values as null)."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, step: int, row: dict[str, float]) -> None:
        clean = {k: (v if math.isfinite(v) else None) for k, v in row.items()}
        line = memoryview((json.dumps({"step": step, **clean}) + "\n").encode())
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            end = os.lseek(fd, 0, os.SEEK_END)
            while line:
                line = line[os.write(fd, line):]
        except OSError as e:  # a full disk: no half row may stay for the next reader
            with contextlib.suppress(OSError):
                os.ftruncate(fd, end)
            raise CannotWrite(self.path, e) from None
        finally:
            os.close(fd)


class _Bar(Protocol):
    def set_postfix(self, ordered_dict: dict, refresh: bool = ...) -> None: ...


def progress_sink(bar: _Bar, keys: tuple[str, ...] = ("Loss/D", "Loss/G")) -> Sink:
    """Shows the latest losses on the progress bar."""
    def sink(step: int, row: dict[str, float]) -> None:
        shown = {k.split("/", 1)[1].replace("/", "_") if "/" in k else k: f"{row[k]:.3f}"
                 for k in keys if k in row}
        bar.set_postfix(shown, refresh=False)
    return sink

"""Where and how tensors run: device choice, CPU threads, mixed precision, the allocator."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import time

import torch

from ganforge import atomic
from ganforge.errors import GanforgeError


def select_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise GanforgeError(f"unknown device '{name}' (expected auto, cpu, cuda, cuda:N or mps)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanforgeError(f"device '{name}' asked for, but this PyTorch build sees no CUDA GPU")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise GanforgeError(f"device '{name}' asked for, but MPS is not available here")
    return device


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype, or None for full fp32. Only CUDA gains: CPUs without native bf16 run
    it ~100x slower."""
    if mode == "off" or device.type != "cuda":
        return None
    if mode == "fp16":
        return torch.float16
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def memory_format(mode: str, device: torch.device, images: bool, on_cpu: bool = True) -> torch.memory_format:
    """channels_last (NHWC) for image models on CPU and CUDA, where DCGAN's convolutions run
    15-40 % faster in it; 'on'/'off' force it. `on_cpu=False`: auto keeps NCHW on a CPU (the
    translation games' instance and batch norms run slower in NHWC there)."""
    if mode == "off" or not images:
        return torch.contiguous_format
    auto = device.type == "cuda" or device.type == "cpu" and on_cpu
    return torch.channels_last if mode == "on" or auto else torch.contiguous_format


# What counts as torch's own thread setting: its count when ganforge was imported, and the
# last count set_threads chose. Any other count was chosen by the user, who keeps it.
_TORCH_THREADS = torch.get_num_threads()
_ours: int | None = None
# A thread beside another busy process turns every parallel region into a wait for a core: the
# 2-D toys ran 2.5-5x slower with two threads on two cores than with one beside a busy process
# (benchmarks/busy_machine.py); alone, two threads were 1.25x faster than one.
BUSY_WINDOW = 0.2  # seconds over which the other processes' CPU use is measured


def busy_cores(window: float = BUSY_WINDOW) -> float:
    """Cores that other processes kept busy over `window` seconds (the machine's CPU time from
    /proc/stat less this process's own); 0 where /proc/stat cannot be read."""
    def sample() -> tuple[float, float, float]:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        own = os.times()
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK"), own.user + own.system, time.monotonic()
    try:
        busy0, own0, t0 = sample()
        time.sleep(window)
        busy1, own1, t1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, (busy1 - busy0 - (own1 - own0)) / (t1 - t0))


def set_threads(threads: int, processes: int = 1) -> int:
    """`threads` > 0: that many. 0 (auto): the cores that other processes leave free (at least
    one), shared evenly by the `processes` training processes on this machine (torchrun); unless
    the user set a count: torch.set_num_threads after importing ganforge, or OMP_NUM_THREADS in a
    single process (torchrun sets it to 1 for many). Returns the count torch now uses."""
    global _ours
    if threads == 0 and (torch.get_num_threads() not in (_TORCH_THREADS, _ours)
                         or (processes == 1 and "OMP_NUM_THREADS" in os.environ)):
        return torch.get_num_threads()
    if threads == 0:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        free = cores - round(busy_cores()) if cores > 1 else 1
        threads = max(1, free // max(processes, 1))
    _ours = threads
    torch.set_num_threads(_ours)
    return _ours


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def write_run_info(path, device: torch.device, processes: int = 1) -> None:
    """Where a run ran, for its report: device, threads, versions, CPU model."""
    import json
    import platform
    import time

    from ganforge import __version__
    info = {"device": str(device), "threads": torch.get_num_threads(), "cpu": cpu_model(),
            "cores": os.cpu_count(), "torch": torch.__version__, "ganforge": __version__,
            "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "processes": processes}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    atomic.write_text(path, json.dumps(info, indent=2))


def tune_allocator() -> None:
    """Keep freed tensor buffers in the heap instead of handing them back to the OS each
    step. glibc's defaults unmap large blocks on free, which costs ~70k page faults per
    DCGAN iteration on CPU; raising the mmap/trim thresholds removes them (~1.3x)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc (musl, ...): leave it alone
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's maximum on 64-bit
    libc.mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024)
    libc.mallopt(M_TOP_PAD, 64 * 1024 * 1024)

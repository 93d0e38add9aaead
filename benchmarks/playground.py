"""Playground benchmark: training speed of the 2-D lab, frames while training, session memory.

    python benchmarks/playground.py                 # about 3 minutes (1-minute memory run)
    python benchmarks/playground.py --minutes 10    # the issue's 10-minute memory run

1. Speed. The default 2-D model (toy G and D, two hidden layers of 128, z_dim 2, batch 512,
   non-saturating loss, Adam 1e-3 / 2e-3) trained by (a) a plain PyTorch eager loop with
   torch's default threads, (b) the same loop on one thread and (c) the playground's step
   (`Lab.train_step`, one thread, as `ganforge serve` runs it). Identical maths: same
   initial weights, batches, z and update rule (tests/test_playground.py checks the
   parameters agree). Interleaved rounds on fresh copies, medians reported.
2. Frames. A real `ganforge serve` subprocess and a websocket client: frames received per
   second and steps per second while playing, against the bare step in rounds interleaved
   with the stream.
3. Memory. The same server plays for --minutes: one tab reading every frame, then a slow
   tab (reads 10 frames a second of 21, so the server must drop frames), and a second tab opened and
   closed every 30 s. The server's RSS is sampled every 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganforge.losses import LOSSES
from ganforge.playground.lab import Lab, LabSettings


# ----------------------------------------------------------------- 1. speed
class PlainLoop:
    """The trainer's maths written the plain way: two D forwards, .backward(), toggled
    requires_grad, torch.optim.Adam with its defaults (betas as the trainer's)."""

    def __init__(self):
        self.lab = Lab(LabSettings(), lean=False)  # same init, data and noise streams as the playground
        self.obj, _ = LOSSES["non-saturating"]
        s = self.lab.settings
        self.opt_g = torch.optim.Adam(self.lab.G.parameters(), lr=s.lr_g, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.lab.D.parameters(), lr=s.lr_d, betas=(0.5, 0.999))

    def train_step(self) -> None:
        lab, G, D, B = self.lab, self.lab.G, self.lab.D, self.lab.settings.batch_size
        real = lab.dist.sample(B, lab.data_rng)
        z = torch.randn(B, 2, generator=lab.noise)
        with torch.no_grad():
            fake = G(z)
        G.requires_grad_(False)
        D.requires_grad_(True)
        loss = self.obj.d_real(D(real)) + self.obj.d_fake(D(fake))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        G.requires_grad_(True)
        D.requires_grad_(False)
        loss = self.obj.g(D(G(torch.randn(B, 2, generator=lab.noise))))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()


def steps_per_s(step, seconds: float, threads: int) -> float:
    torch.set_num_threads(threads)
    for _ in range(5):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


def bench_speed(rounds: int, seconds: float) -> dict[str, list[float]]:
    default_threads = torch.get_num_threads()
    plain, plain1, lab = PlainLoop(), PlainLoop(), Lab(LabSettings())
    contenders = {f"plain eager loop ({default_threads} threads, torch default)": (plain.train_step, default_threads),
                  "plain eager loop (1 thread)": (plain1.train_step, 1),
                  "playground step (1 thread)": (lab.train_step, 1)}
    results: dict[str, list[float]] = {k: [] for k in contenders}
    for r in range(rounds):
        order = list(contenders.items())
        if r % 2:
            order.reverse()  # neither goes first every time
        for name, (step, threads) in order:
            results[name].append(steps_per_s(step, seconds, threads))
    torch.set_num_threads(default_threads)
    return results


# ----------------------------------------------------------------- server helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", "serve", "--port", str(port), "--runs", str(runs)],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("ganforge serve did not start")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stream(ws, seconds: float, read_every: float = 0.0) -> tuple[int, int, float]:
    """Play for `seconds`; returns (frames received, steps advanced, elapsed)."""
    await ws.send(json.dumps({"type": "play"}))
    frames, first, last, start = 0, None, None, time.perf_counter()
    while time.perf_counter() - start < seconds:
        text = await asyncio.wait_for(ws.recv(), 10)
        if text.startswith('{"type":"frame"'):
            await ws.send('{"type":"ack"}')  # as the page does once it has drawn a frame
            msg = json.loads(text[:200].split(',"extent"')[0] + "}")  # step and playing only
            if msg.get("playing"):
                frames += 1
                first = msg["step"] if first is None else first
                last = msg["step"]
        if read_every:
            await asyncio.sleep(read_every)
    elapsed = time.perf_counter() - start
    await ws.send(json.dumps({"type": "pause"}))
    return frames, (last or 0) - (first or 0), elapsed


# ----------------------------------------------------------------- 2. frames
async def bench_frames(port: int, rounds: int, seconds: float) -> dict[str, list[float]]:
    import websockets

    out: dict[str, list[float]] = {"frames_per_s": [], "streaming_steps_per_s": [], "bare_steps_per_s": []}
    bare = Lab(LabSettings())
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as ws:
        await ws.recv()
        for _ in range(rounds):
            frames, steps, elapsed = await stream(ws, seconds)
            out["frames_per_s"].append(frames / elapsed)
            out["streaming_steps_per_s"].append(steps / elapsed)
            await asyncio.sleep(0.3)  # the server pauses
            out["bare_steps_per_s"].append(steps_per_s(bare.train_step, seconds, 1))
    return out


# ----------------------------------------------------------------- 3. memory
async def bench_memory(port: int, pid: int, minutes: float) -> list[tuple[float, float]]:
    import websockets

    samples: list[tuple[float, float]] = []
    start = time.perf_counter()
    total = minutes * 60

    async def sampler():
        while True:
            samples.append((time.perf_counter() - start, rss_mib(pid)))
            await asyncio.sleep(5)

    async def other_tabs():
        while True:
            await asyncio.sleep(30)
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24, ping_interval=None) as tab:
                await tab.recv()
                await stream(tab, 2.0)

    tasks = [asyncio.create_task(sampler()), asyncio.create_task(other_tabs())]
    # no client pings: a slow reader's pongs wait behind unread frames (that is the point)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24, ping_interval=None) as ws:
        await ws.recv()
        await stream(ws, total / 2)                    # a tab that reads every frame
        await stream(ws, total / 2, read_every=0.1)    # a slow tab: the server drops frames
    for t in tasks:
        t.cancel()
    samples.append((time.perf_counter() - start, rss_mib(pid)))
    return samples


# ----------------------------------------------------------------- report
def med(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=6, help="interleaved rounds per comparison (default 6)")
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per round (default 3)")
    p.add_argument("--minutes", type=float, default=1.0, help="length of the memory run (default 1; the issue asks 10)")
    p.add_argument("--memory-only", action="store_true", help="skip the speed and frame comparisons")
    p.add_argument("--no-speed", action="store_true", help="skip the training-loop comparison")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")

    if not (args.memory_only or args.no_speed):
        compare(args.rounds, args.seconds)
    with tempfile.TemporaryDirectory() as runs:
        proc, port = start_server(Path(runs))
        try:
            if not args.memory_only:
                report_frames(asyncio.run(bench_frames(port, args.rounds, args.seconds)))
            samples = asyncio.run(bench_memory(port, proc.pid, args.minutes))
        finally:
            proc.terminate()
            proc.wait(10)
    warm = [m for t, m in samples if t >= 10] or [samples[-1][1]]
    print(f"\nmemory over a {args.minutes:g}-minute session (server RSS, MiB): first {samples[0][1]:.1f}, "
          f"after 10 s {warm[0]:.1f}, max {max(m for _, m in samples):.1f}, last {samples[-1][1]:.1f} "
          f"({len(samples)} samples)")
    print("samples (s, MiB): " + ", ".join(f"{t:.0f}:{m:.1f}" for t, m in samples))
    return 0


def compare(rounds: int, seconds: float) -> None:
    speed = bench_speed(rounds, seconds)
    names = list(speed)
    print("\n| training loop (default 2-D model, batch 512) | steps/s median | min | max |\n|---|---|---|---|")
    for name, v in speed.items():
        print(f"| {name} | {med(v):.1f} | {min(v):.1f} | {max(v):.1f} |")
    lab = med(speed[names[2]])
    print(f"\nplayground / plain (torch default threads): {lab / med(speed[names[0]]):.2f}x; "
          f"playground / plain (1 thread): {lab / med(speed[names[1]]):.2f}x")
    paired = [b / a for a, b in zip(speed[names[1]], speed[names[2]])]
    print(f"per-round ratio at 1 thread: median {med(paired):.2f}x (min {min(paired):.2f}, max {max(paired):.2f})")


def report_frames(frames: dict[str, list[float]]) -> None:
    fps, s_on, s_off = (med(frames[k]) for k in ("frames_per_s", "streaming_steps_per_s", "bare_steps_per_s"))
    print(f"\n| while playing in `ganforge serve` | median |\n|---|---|\n| frames received / s | {fps:.1f} |"
          f"\n| steps/s while streaming | {s_on:.1f} |\n| steps/s bare step, same rounds | {s_off:.1f} |"
          f"\n| slowdown | {100 * (1 - s_on / s_off):.1f} % |")


if __name__ == "__main__":
    sys.exit(main())

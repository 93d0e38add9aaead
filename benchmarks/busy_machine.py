"""A toy run on a machine that is doing something else: ganforge's automatic thread count
against all cores (what it did before), alone and beside a busy process.

    python benchmarks/busy_machine.py             # ring8, 1,500 steps, 2 interleaved rounds (~7 min)
    python benchmarks/busy_machine.py --steps 4000 --rounds 5

Each cell is the wall time of `ganforge train --preset ring8 --steps N` as a user runs it
(a new process: start-up included), the median of the rounds. "Busy" is another process
started first and kept running: a matrix-multiply loop on one thread (one core busy), or on
all cores (a numeric job left at its library's default). OMP_NUM_THREADS is removed from the
training processes' environment, so the automatic choice is what is measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUSY = {
    "alone": None,
    "beside a 1-thread process": 1,
    "beside an all-cores process": 0,
}
CHOICES = {"all cores (--threads N, the old automatic choice)": str(os.cpu_count() or 1),
           "automatic (--threads 0)": "0"}
SPIN = ("import torch, sys\n"
        "n = int(sys.argv[1])\n"
        "torch.set_num_threads(n) if n else None\n"
        "a = torch.randn(384, 384)\n"
        "while True:\n"
        "    a = torch.tanh(a @ a)\n")


def _train(threads: str, steps: int, out: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    argv = [sys.executable, "-m", "ganforge", "train", "--preset", "ring8", "--steps", str(steps),
            "--threads", threads, "--out", str(out), "--force"]
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"train failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - t0


def _threads_used(out: Path) -> int:
    import json
    return json.loads((out / "run_info.json").read_text())["threads"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    times = {(c, b): [] for c in CHOICES for b in BUSY}
    used = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for busy, spin_threads in BUSY.items():
                spin = None if spin_threads is None else subprocess.Popen(
                    [sys.executable, "-c", SPIN, str(spin_threads)])
                try:
                    time.sleep(1.0 if spin else 0.0)  # (the busy process is running)
                    # alternate the order each round: the second of two back-to-back runs was ~10 % slower
                    for choice, threads in list(CHOICES.items())[::1 if r % 2 == 0 else -1]:
                        out = Path(tmp) / f"run-{r}"
                        times[choice, busy].append(_train(threads, args.steps, out))
                        used[choice, busy] = _threads_used(out)
                        print(f"round {r + 1}: {choice}, {busy}: {times[choice, busy][-1]:.1f} s "
                              f"({used[choice, busy]} threads)", file=sys.stderr)
                finally:
                    if spin is not None:
                        spin.kill()
                        spin.wait()
    print(f"\nring8, {args.steps} steps, median of {args.rounds} rounds (wall s of the whole command; threads used)\n")
    print("| thread choice | " + " | ".join(BUSY) + " | worst / alone |")
    print("|---|" + "---|" * (len(BUSY) + 1))
    for choice in CHOICES:
        med = {b: statistics.median(times[choice, b]) for b in BUSY}
        cells = " | ".join(f"{med[b]:.1f} ({used[choice, b]})" for b in BUSY)
        print(f"| {choice} | {cells} | {max(med.values()) / med['alone']:.2f}x |")


if __name__ == "__main__":
    main()

"""What stats and pictures cost: training throughput with and without them (target: <= 5 %).

    python benchmarks/stats_overhead.py                      # digits-dcgan, 600 steps, 3 rounds (~4 min on 2 cores)
    python benchmarks/stats_overhead.py --steps 300 --rounds 2 --preset ring8

Variants, each a full `Trainer(...).fit()` of the same preset and seed:
  bare        log_every = sample_every = 10^9, health off: only the end-of-run row, pictures and
              export (report() still runs every step: it is a few tensor appends, no host sync)
  stats       the preset's log_every / sample_every (metrics.jsonl rows with D outputs and gradient
              norms on the log steps, the sample grid), health off
  + health    the defaults as shipped: stats, pictures and the health monitor
  + tb        the defaults plus a TensorBoardSink for the scalars (when tensorboard is installed)
Checkpoints and evaluations are set apart (checkpoint_every 10^9, eval_every 0) in every variant:
they are not stats or pictures. Rounds interleave the variants so that machine noise (a shared
CPU) hits all of them; the table gives the median images/s over rounds and its cost against bare.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ganforge.config import merge, preset_config
from ganforge.training.trainer import Trainer

HUGE = 10**9


def every(v: int) -> str:
    return "never" if v >= HUGE else str(v)


def variants(with_tb: bool) -> dict[str, dict]:
    out = {"bare": {"log_every": HUGE, "sample_every": HUGE, "health": False},
           "stats": {"health": False},
           "+ health": {}}
    if with_tb:
        out["+ tb"] = {"tensorboard": True}
    return out


def run_once(preset: str, steps: int, threads: int, overrides: dict, root: Path) -> tuple[float, dict]:
    """One training run; returns (images/s of the training loop, the intervals used and the
    seconds of the one-off end: export, timelapse.gif, curves.png)."""
    tb = overrides.pop("tensorboard", False)
    train = {"steps": steps, "checkpoint_every": HUGE, "eval_every": 0, "threads": threads, **overrides}
    cfg = merge(preset_config(preset), {"train": train})
    run_dir = Path(tempfile.mkdtemp(dir=root))
    trainer = Trainer(cfg, run_dir, progress=False)
    if tb:
        from ganforge.training.tensorboard import TensorBoardSink
        trainer.stats.sinks.append(TensorBoardSink(run_dir / "tensorboard"))
    end_costs = []  # export and the end-of-run pictures: once per run, whatever the intervals

    def timed(fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            out = fn(*a, **k)
            end_costs.append(time.perf_counter() - t0)
            return out
        return wrapper

    trainer.export, trainer.summarise = timed(trainer.export), timed(getattr(trainer, "summarise", lambda: None))
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start - sum(end_costs)
    t = trainer.cfg.train
    return steps * t.batch_size / seconds, {"log_every": t.log_every, "sample_every": t.sample_every,
                                            "health": t.health, "end_s": sum(end_costs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="digits-dcgan")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    ap.add_argument("--no-tensorboard", action="store_true")
    args = ap.parse_args()
    try:
        import tensorboard  # noqa: F401
        with_tb = not args.no_tensorboard
    except ImportError:
        with_tb = False
    plan = variants(with_tb)
    speeds: dict[str, list[float]] = {name: [] for name in plan}
    used: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_once(args.preset, min(args.steps, 50), args.threads, dict(plan["bare"]), root)  # warm-up: caches, allocator
        for r in range(args.rounds):
            order = list(plan) if r % 2 == 0 else list(reversed(plan))  # interleaved, alternating order
            for name in order:
                ips, used[name] = run_once(args.preset, args.steps, args.threads, dict(plan[name]), root)
                speeds[name].append(ips)
                print(f"round {r + 1}: {name:9s} {ips:8.0f} images/s", flush=True)
    base = statistics.median(speeds["bare"])
    print(f"\n{args.preset}, {args.steps} steps per run, {args.rounds} rounds: median images/s of the training "
          f"loop and its cost against bare;\nthe run's end (export, timelapse.gif, curves.png) is timed apart\n")
    print("| variant   | log_every  | sample_every | health | images/s | cost    | end (s) | rounds")
    print("|-----------|------------|--------------|--------|----------|---------|---------|-------")
    for name, vals in speeds.items():
        u, med = used[name], statistics.median(vals)
        print(f"| {name:9s} | {every(u['log_every']):10s} | {every(u['sample_every']):12s} | "
              f"{'on' if u['health'] else 'off':6s} | {med:8.0f} | {100 * (1 - med / base):+6.1f}% | {u['end_s']:7.2f} | "
              + " ".join(f"{v:.0f}" for v in vals))


if __name__ == "__main__":
    main()

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
CPU) hits all of them. The table gives medians over rounds: images/s and CPU ms per step (cost
against bare; on a shared machine these swing by ~10 % from run to run), and the share of the
training loop's wall time spent inside the trainer's stats row (`_log`: collect, health, sinks)
and sample picture (`save_samples`), timed directly: the steadiest of the three measures.
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
INSTRUMENTED = ("_log", "save_samples")  # the trainer's stats row (+ health, sinks) and sample picture


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
            t0, c0 = time.perf_counter(), time.process_time()
            out = fn(*a, **k)
            end_costs.extend([time.perf_counter() - t0, time.process_time() - c0])  # wall, CPU
            return out
        return wrapper

    trainer.export, trainer.summarise = timed(trainer.export), timed(getattr(trainer, "summarise", lambda: None))
    inside = [0.0]  # wall seconds in the stats and picture code itself: a direct measure, robust to noise

    def counted(fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                inside[0] += time.perf_counter() - t0
        return wrapper

    for name in INSTRUMENTED:
        if hasattr(trainer, name):
            setattr(trainer, name, counted(getattr(trainer, name)))
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer.fit()
    seconds = time.perf_counter() - start - sum(end_costs[0::2])
    cpu = time.process_time() - cpu_start - sum(end_costs[1::2])
    t = trainer.cfg.train
    return steps * t.batch_size / seconds, {"log_every": t.log_every, "sample_every": t.sample_every,
                                            "health": t.health, "end_s": sum(end_costs[0::2]),
                                            "cpu_ms": 1000 * cpu / steps, "share": inside[0] / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="digits-dcgan")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: then CPU time measures the work even on a busy machine; 0: all cores)")
    ap.add_argument("--no-tensorboard", action="store_true")
    args = ap.parse_args()
    try:
        import tensorboard  # noqa: F401
        with_tb = not args.no_tensorboard
    except ImportError:
        with_tb = False
    plan = variants(with_tb)
    speeds: dict[str, list[float]] = {name: [] for name in plan}
    cpu: dict[str, list[float]] = {name: [] for name in plan}
    share: dict[str, list[float]] = {name: [] for name in plan}
    used: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_once(args.preset, min(args.steps, 50), args.threads, dict(plan["bare"]), root)  # warm-up: caches, allocator
        for r in range(args.rounds):
            order = list(plan) if r % 2 == 0 else list(reversed(plan))  # interleaved, alternating order
            for name in order:
                ips, used[name] = run_once(args.preset, args.steps, args.threads, dict(plan[name]), root)
                speeds[name].append(ips)
                cpu[name].append(used[name]["cpu_ms"])
                share[name].append(used[name]["share"])
                print(f"round {r + 1}: {name:9s} {ips:8.0f} images/s  {used[name]['cpu_ms']:6.2f} CPU ms/step  {100 * used[name]['share']:5.2f} % in stats/pictures", flush=True)
    base, base_cpu = statistics.median(speeds["bare"]), statistics.median(cpu["bare"])
    print(f"\n{args.preset}, {args.steps} steps per run, {args.threads or 'all'} thread(s), {args.rounds} rounds; "
          "medians of the training loop (the run's end: export, timelapse.gif, curves.png, timed apart)\n")
    print("| variant   | log_every | sample_every | health | images/s | cost (wall) | CPU ms/step | cost (CPU) "
          "| in stats/pictures | end (s)")
    print("|-----------|-----------|--------------|--------|----------|-------------|-------------|------------"
          "|-------------------|--------")
    for name in plan:
        u, med, c = used[name], statistics.median(speeds[name]), statistics.median(cpu[name])
        print(f"| {name:9s} | {every(u['log_every']):9s} | {every(u['sample_every']):12s} | "
              f"{'on' if u['health'] else 'off':6s} | {med:8.0f} | {100 * (1 - med / base):+10.1f}% | "
              f"{c:11.2f} | {100 * (c / base_cpu - 1):+9.1f}% | {100 * statistics.median(share[name]):16.2f}% "
              f"| {u['end_s']:6.2f}")


if __name__ == "__main__":
    main()

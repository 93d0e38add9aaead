"""Scaling out on CPUs: images/s of one training process against N processes under torchrun.

    python benchmarks/scaling.py                       # fashion-dcgan, 1 vs 2 processes, 1 thread each
    python benchmarks/scaling.py --preset digits-dcgan --steps 300 --rounds 3 --sync-batchnorm

Every run is the real CLI (`python -m ganforge train` and `torchrun ... -m ganforge train`)
on the same model and the same global batch (strong scaling: each of N processes trains on
batch/N), with `train.threads 1` per process, interleaved in rounds so that load on the
machine hits both alike. The figure is the median `Speed/images_per_s` of each run's
metrics rows after the first (warm-up) interval; efficiency = speed-up / N. `--weak` keeps
the per-process batch instead (the global batch grows with N).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ganforge.config import preset_config


def run(nproc: int, config: Path, out: Path) -> float:
    train = ["-m", "ganforge", "train", "--config", str(config), "--out", str(out), "--no-progress"]
    cmd = ([sys.executable, *train] if nproc == 1 else
           [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *train])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    speeds = [r["Speed/images_per_s"] for r in rows if "Speed/images_per_s" in r][1:]
    return statistics.median(speeds)


def write_config(args, nproc: int, path: Path) -> Path:
    cfg = preset_config(args.preset)
    t = cfg.train
    t.steps, t.log_every, t.threads, t.device = args.steps, args.steps // 6, 1, "cpu"
    t.sample_every = t.checkpoint_every = args.steps  # pictures and checkpoints once, at the end
    t.eval_every, t.health, t.minutes = 0, False, 0
    t.sync_batchnorm = args.sync_batchnorm
    if args.weak:
        t.batch_size *= nproc
    cfg.save(path)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="fashion-dcgan")
    p.add_argument("--processes", type=int, default=2, help="N, compared with 1")
    p.add_argument("--steps", type=int, default=240, help="steps per run (the first sixth is warm-up)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--weak", action="store_true", help="per-process batch fixed (global batch x N)")
    p.add_argument("--sync-batchnorm", action="store_true")
    args = p.parse_args()

    speeds: dict[int, list[float]] = {1: [], args.processes: []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for r in range(args.rounds):
            for n in speeds:
                config = write_config(args, n, tmp / f"config-{n}.yaml")
                speeds[n].append(run(n, config, tmp / f"run-{n}-{r}"))
                print(f"round {r + 1}: {n} process(es): {speeds[n][-1]:.1f} images/s", file=sys.stderr)

    one, many = statistics.median(speeds[1]), statistics.median(speeds[args.processes])
    batch = preset_config(args.preset).train.batch_size
    print(f"\n{args.preset}, {args.steps} steps, 1 thread per process, "
          f"{'weak' if args.weak else 'strong'} scaling, BatchNorm {'synchronised' if args.sync_batchnorm else 'per process'}")
    print("| processes | global batch | images/s (median) | rounds | speed-up | efficiency |")
    print("|---|---|---|---|---|---|")
    for n, value in ((1, one), (args.processes, many)):
        rounds = ", ".join(f"{s:.1f}" for s in speeds[n])
        gb = batch * n if args.weak else batch
        print(f"| {n} | {gb} | {value:.1f} | {rounds} | {value / one:.2f}x | {value / one / n:.0%} |")


if __name__ == "__main__":
    main()

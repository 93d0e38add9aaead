"""MolGAN's metrics (De Cao & Kipf 2018) of the qm9-molgan presets at reward shares lambda
in {0, 0.5, 1}, beside QM9 itself and the paper's own figures.

    python benchmarks/molecules.py                      # lambda 0, 0.5, 1; each run at most --minutes
    python benchmarks/molecules.py --lambdas 0 --minutes 10
    python benchmarks/molecules.py --parallel 2         # two runs at once (one thread each)
    python benchmarks/molecules.py --quick              # a smoke run: a few steps, a few samples

lambda = 0 is the pure GAN (preset qm9-molgan); lambda > 0 the rewarded game with MolGAN's
reward network on QED (qm9-molgan-qed with --reward-weight lambda; ours is the reward's
share: the paper's lambda = 1 - ours). Each run trains for the preset's steps or --minutes,
whichever ends first, on this CPU; its exported EMA generator then draws --samples molecules
(10,000, as the paper), decoded by argmax and by sampling G's probabilities (MolGAN's
code samples), measured by ganforge.evaluate.evaluate_molecules: valid (sanitises,
one piece), unique (% of valid), novel (% of valid not in QM9), and the mean QED, logP and SA
(raw units: QED 0..1, SA 1 easy..10 hard) of the valid ones. The data row is as many QM9
molecules through the same decoding. MolGAN's own figures are quoted in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from ganforge.config import merge, preset_config

COLUMNS = ("valid", "unique", "novel", "qed", "logp", "sa")


def config(weight: float, minutes: float, steps: int | None, seed: int, quick: bool):
    name = "qm9-molgan" if weight == 0 else "qm9-molgan-qed"
    cfg = preset_config(name)
    over = {"train": {"minutes": minutes, "seed": seed, "threads": 1}}
    if weight:
        over["game"] = {"reward_weight": weight}
    if steps:
        over["train"]["steps"] = steps
    if quick:
        over["train"].update(steps=4, eval_every=0, sample_every=4, checkpoint_every=4)
    return merge(cfg, over)


def train(weight: float, args) -> Path:
    """Train one row's run (in a process of its own: one thread each, so rows can run side by side)."""
    run = args.out / f"lambda-{weight:g}"
    if (run / "model" / "config.json").is_file():  # a finished run of these settings: reuse it
        return run
    cfg = config(weight, args.minutes, args.steps, args.seed, args.quick)
    run.mkdir(parents=True, exist_ok=True)
    cfg.save(run.parent / f"lambda-{weight:g}.yaml")
    return run


def launch(weights: list[float], args) -> None:
    """Train the rows `args.parallel` at a time through `ganforge train --config`."""
    pending = [w for w in weights if not (args.out / f"lambda-{w:g}" / "model" / "config.json").is_file()]
    running: list[tuple[float, subprocess.Popen, float]] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    while pending or running:
        while pending and len(running) < args.parallel:
            w = pending.pop(0)
            run = train(w, args)
            cmd = [sys.executable, "-m", "ganforge", "train", "--config", str(run.parent / f"lambda-{w:g}.yaml"),
                   "--out", str(run), "--force", "--no-progress"]
            running.append((w, subprocess.Popen(cmd, env=env), time.perf_counter()))
        time.sleep(5)
        for item in list(running):
            w, proc, start = item
            if proc.poll() is not None:
                running.remove(item)
                if proc.returncode:  # (its row says so; the other rows are still measured)
                    print(f"the lambda {w:g} run failed (exit {proc.returncode})", flush=True)
                    continue
                minutes = (time.perf_counter() - start) / 60
                (args.out / f"lambda-{w:g}" / "bench-minutes.txt").write_text(f"{minutes:.2f}\n")
                print(f"lambda {w:g}: trained in {minutes:.1f} min", flush=True)


def trained(run: Path) -> tuple[int, float]:
    """(steps, minutes) the run trained: its last logged step, the wall time the benchmark took."""
    import json
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = max((r.get("step", 0) for r in rows), default=0)
    clock = run / "bench-minutes.txt"
    return steps, float(clock.read_text()) if clock.is_file() else math.nan


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lambdas", default="0,0.5,1", help="reward shares to train (default 0,0.5,1)")
    p.add_argument("--minutes", type=float, default=30.0, help="training budget of each run (default 30)")
    p.add_argument("--steps", type=int, help="generator steps (default: the preset's)")
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--decodings", default="argmax,sample", help="how samples become molecules (default both)")
    p.add_argument("--parallel", type=int, default=1, help="runs trained at once, one thread each")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/bench-molecules"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    weights = [float(w) for w in args.lambdas.split(",")]
    samples = 200 if args.quick else args.samples
    launch(weights, args)

    from ganforge.evaluate import evaluate_molecules
    rows: dict[str, dict[str, float]] = {}
    cost: dict[str, str] = {}
    data = None
    for w in weights:
        run = args.out / f"lambda-{w:g}"
        if not (run / "model" / "config.json").is_file():
            rows[f"ours, lambda {w:g}"] = {}
            cost[f"ours, lambda {w:g}"] = "failed: see its run's alarms.jsonl"
            continue
        steps, minutes = trained(run)
        for decode in args.decodings.split(","):
            result = evaluate_molecules(run, n=samples, seed=args.seed, record=False, decode=decode)["metrics"]
            name = f"ours, lambda {w:g}, {decode}"
            rows[name] = {k: result[k] for k in COLUMNS}
            data = {k: result[f"data/{k}"] for k in COLUMNS}
            cost[name] = f"{steps:,} steps, {minutes:.1f} min"
    table = {"QM9 (data)": data or {}, **rows}
    print(f"\nMolGAN's metrics of {samples:,} molecules (valid, unique, novel in %; mean QED, logP, SA of the valid)")
    print(f"| row | {' | '.join(COLUMNS)} | training |")
    print("|---|" + "---:|" * len(COLUMNS) + "---|")
    for name, m in table.items():
        cells = [("n/a" if m.get(k) is None or (isinstance(m.get(k), float) and math.isnan(m[k])) else
                  f"{m[k]:.1f}" if k in ("valid", "unique", "novel") else f"{m[k]:.3f}") for k in COLUMNS]
        print(f"| {name} | {' | '.join(cells)} | {cost.get(name, '')} |")


if __name__ == "__main__":
    main()

"""Classification accuracy score of Fashion-MNIST presets: does a classifier learn from the samples?

    python benchmarks/cas.py                                          # fashion-cgan 5,000, fashion-cgan-cas 45,000
    python benchmarks/cas.py --rows fashion-cgan-cas:24000 --json cas.json
    python benchmarks/cas.py --rows fashion-cgan-cas:15000 --set loss.mode_seeking=1   # a variant
    python benchmarks/cas.py --rows fashion-cgan:200 --n 500 --classifier-steps 200   # a smoke test

Each row trains a conditional Fashion-MNIST preset for the given steps (a fresh run under
--out), then measures the exported EMA generator: CAS (ganforge.metrics.cas: a SmallCNN
trained on N generated samples, uniform classes labelled by the condition, tested on the
official 10,000 test images), the same classifier trained on N real training images, the
gap in points, and the asked-for-class rate (how often the shipped fashion-mnist-cnn sees
the class that was asked for, as benchmarks/fashion.py measures it). Training minutes are
fit()'s wall-clock time (setup, loop, checkpoints, export). Each row is printed as soon as
it is measured and --json is rewritten after every row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import ganforge
from ganforge import atomic
from ganforge.config import merge, preset_config, validate
from ganforge.errors import GanforgeError
from ganforge.metrics.cas import DEFAULT_STEPS, classification_accuracy_score
from ganforge.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fashion import class_accuracy  # noqa: E402  (the asked-for-class rate of benchmarks/fashion.py)

DEFAULT_ROWS = "fashion-cgan:5000,fashion-cgan-cas:45000"
DATA = "fashion-mnist"
HEADER = ("| preset | steps | training min | CAS | real accuracy | gap (points) | asked-for class |\n"
          "|---|---|---|---|---|---|---|")


def fail(message: str) -> None:
    """A user error: one line on stderr, exit status 2 (as the CLI does)."""
    print(f"cas.py: {message}", file=sys.stderr)
    sys.exit(2)


def parse_rows(text: str) -> list[tuple[str, int]]:
    """"preset:steps,..." -> [(preset, steps)], each preset checked before any work."""
    rows = []
    for item in text.split(","):
        preset, _, steps = item.strip().partition(":")
        try:
            steps = int(steps)
        except ValueError:
            fail(f"--rows {item!r}: expected PRESET:STEPS, e.g. fashion-cgan-cas:15000")
        if steps < 1:
            fail(f"--rows {item!r}: steps must be a positive integer")
        cfg = preset_config(preset)  # an unknown name: one line (GanforgeError)
        if cfg.data.source != DATA or not cfg.model.conditional:
            fail(f"--rows {item!r}: CAS here needs a class-conditional {DATA} preset "
                 f"({preset} is {'conditional' if cfg.model.conditional else 'unconditional'} on "
                 f"{cfg.data.source or 'your data'})")
        rows.append((preset, steps))
    return rows


def parse_sets(items: list[str]) -> dict:
    """["loss.mode_seeking=1", ...] -> {"loss": {"mode_seeking": 1}} (values read as YAML)."""
    import yaml

    sections: dict = {}
    for item in items:
        name, eq, value = item.partition("=")
        section, dot, option = name.partition(".")
        if not eq or not dot or not section or not option:
            fail(f"--set {item!r}: expected SECTION.OPTION=VALUE, e.g. loss.mode_seeking=1")
        sections.setdefault(section, {})[option] = yaml.safe_load(value)
    return sections


def config_of(preset: str, overrides: dict):
    return validate(merge(preset_config(preset), overrides))  # a bad option: one line (GanforgeError)


def run_row(preset: str, steps: int, args: argparse.Namespace) -> dict:
    cfg = config_of(preset, args.overrides)
    cfg.train.steps, cfg.train.minutes, cfg.train.threads = steps, 0.0, args.threads
    run = args.out / "-".join([preset, str(steps), *(s.replace("=", "") for s in args.set)])
    t0 = time.perf_counter()
    trainer = Trainer(cfg, run, force=True, progress=True)
    model_dir = trainer.fit()
    minutes = (time.perf_counter() - t0) / 60
    t1 = time.perf_counter()
    result = classification_accuracy_score(ganforge.load(model_dir), DATA, n=args.n, steps=args.classifier_steps,
                                           seed=args.seed, progress=True)
    m = result["metrics"]
    return {"preset": preset, "set": args.set, "steps": trainer.step, "minutes": minutes, "threads": torch.get_num_threads(),
            "cas": m["cas"], "real_accuracy": m["real_accuracy"], "gap": m["cas_gap"],
            "per_class_cas": [m[f"cas_class_{k}"] for k in range(10)],
            "class_rate": class_accuracy(model_dir), "eval_seconds": time.perf_counter() - t1,
            "cas_settings": result["settings"]}


def fmt(r: dict) -> str:
    label = r["preset"] + "".join(f" {s}" for s in r.get("set", []))
    return (f"| {label} | {r['steps']} | {r['minutes']:.1f} | {100 * r['cas']:.2f} % | "
            f"{100 * r['real_accuracy']:.2f} % | {r['gap']:.2f} | {100 * r['class_rate']:.1f} % |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default=DEFAULT_ROWS, help=f"PRESET:STEPS,... (default {DEFAULT_ROWS})")
    p.add_argument("--n", type=int, default=10_000, help="generated samples, and real training images (default 10,000)")
    p.add_argument("--classifier-steps", type=int, default=DEFAULT_STEPS,
                   help=f"the classifier's optimiser steps (default {DEFAULT_STEPS:,})")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples, the real subset and the classifier")
    p.add_argument("--threads", type=int, default=0, help="torch threads for training (0: ganforge's default)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.OPTION=VALUE",
                   help="change an option of every row's preset (repeatable), e.g. loss.mode_seeking=1")
    p.add_argument("--out", type=Path, default=Path("runs/bench-cas"))
    p.add_argument("--json", type=Path, help="write settings and rows here (rewritten after each row)")
    args = p.parse_args()
    try:
        rows = parse_rows(args.rows)
        args.overrides = parse_sets(args.set)
        for preset, _ in rows:
            config_of(preset, args.overrides)
        if not 10 <= args.n <= 60_000:
            fail(f"--n must be in 10..60000 (a sample of each class, at most the training split), got {args.n}")
        if args.classifier_steps < 1:
            fail(f"--classifier-steps must be a positive integer, got {args.classifier_steps}")
        result = {"settings": {"n": args.n, "classifier_steps": args.classifier_steps, "seed": args.seed,
                               "data": DATA, "threads": args.threads, "set": args.set}, "rows": []}
        print(HEADER, flush=True)
        for preset, steps in rows:
            row = run_row(preset, steps, args)
            result["rows"].append(row)
            if args.json is not None:
                atomic.write_text(args.json, json.dumps(result, indent=1))
            print(fmt(row), flush=True)
    except GanforgeError as e:
        fail(str(e))
    print(f"\nCAS: SmallCNN, {args.classifier_steps:,} steps, trained on {args.n:,} samples (real: {args.n:,} "
          f"training images), tested on the {DATA} test split; seed {args.seed}")
    print(HEADER)
    for r in result["rows"]:
        print(fmt(r))


if __name__ == "__main__":
    main()

"""MuseGAN's metrics (Dong et al. 2018, Tables 1-2) of the bach-chorales preset's three models
against the chorales themselves.

    python benchmarks/music.py                            # jamming, composer, hybrid at the preset's steps
    python benchmarks/music.py --models hybrid --steps 1500
    python benchmarks/music.py --quick                    # a smoke run: a few steps, a few phrases

For each model (the preset with --multitrack MODEL, the same seed and steps) the exported EMA
generator writes --samples phrases of 4 bars (20,000 bars by default) through ComposePipeline,
binarised by threshold (MuseGAN's hard thresholding) and by the monophonic decoding (each
voice plays its strongest pitch, if any); 16-bar pieces show what the temporal generator does
past the 4 bars it was trained on (bars 5-16 measured alone). The data row is the training
phrases as the models see them (untransposed). Every metric is printed with its relative gap
to the data row; percentages under 1 % in the data (empty bars, polyphony of one-line
voices) get the gap in percentage points instead, as a relative gap to ~0 means nothing.
Generation speed: bars a second of the hybrid model, batch 256, on this CPU.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import torch

from ganforge.config import merge, preset_config
from ganforge.data import load_data
from ganforge.domains.music import PERCENTAGES
from ganforge.metrics.music import music_metrics
from ganforge.pipelines.compose import ComposePipeline
from ganforge.training.trainer import Trainer

SUMMARY = ("EB", "UPC", "QN", "PP", "TD", "IK")  # metric families, averaged over tracks / pairs


def family_means(m: dict[str, float]) -> dict[str, float]:
    """{"EB": mean over tracks, ..., "TD": mean over pairs, "IK": ...}."""
    out = {}
    for fam in SUMMARY:
        values = [v for k, v in m.items() if k.split("/")[0] == fam and not math.isnan(v)]
        out[fam] = sum(values) / len(values) if values else math.nan
    return out


def gap(value: float, data: float, family: str) -> str:
    if math.isnan(value):
        return "n/a"
    if family in PERCENTAGES and abs(data) < 1.0:
        return f"{value - data:+.1f} pp"
    return f"{100 * (value - data) / data:+.0f} %"


def train(model: str, steps: int, out: Path, seed: int, quick: bool) -> tuple[Path, float]:
    run = out / model
    if (run / "model" / "config.json").is_file():  # reuse a finished run of these settings
        return run, math.nan
    cfg = merge(preset_config("bach-chorales"), {"model": {"multitrack": model},
                                                 "train": {"steps": steps, "seed": seed, "eval_every": 0}})
    if quick:
        cfg = merge(cfg, {"train": {"sample_every": steps, "checkpoint_every": steps}})
    start = time.perf_counter()
    Trainer(cfg, run, force=run.exists()).fit()
    return run, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="hybrid,composer,jamming")
    p.add_argument("--steps", type=int, help="generator steps (default: the preset's)")
    p.add_argument("--samples", type=int, default=5000, help="4-bar phrases per model (default 5,000 = 20,000 bars)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/bench-music"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    steps = 4 if args.quick else args.steps or preset_config("bach-chorales").train.steps
    samples = 64 if args.quick else args.samples
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))

    data = load_data("bach-chorales", cache_dir=args.out / ".ganforge-cache")
    reference = family_means(music_metrics(data.x > 0, data.low, data.track_names))
    rows = [("chorales (training data)", "", f"{len(data) * data.x.shape[2]:,} bars", reference)]
    speed = None
    for model in args.models.split(","):
        run, seconds = train(model, steps, args.out, args.seed, args.quick)
        pipe = ComposePipeline.from_pretrained(run)
        when = f"{steps} steps" + (f", {seconds / 60:.1f} min" if not math.isnan(seconds) else "")
        for binarize in ("threshold", "monophonic"):
            rolls = pipe(samples, seed=1, batch_size=256, binarize=binarize)
            rows.append((f"{model}, {binarize}", when, f"{samples * rolls.shape[2]:,} bars",
                         family_means(music_metrics(rolls, data.low, data.track_names))))
        long = pipe(max(1, samples // 4), bars=16, seed=2, batch_size=64)
        rows.append((f"{model}, bars 5-16 of 16", when, f"{long.shape[0] * 12:,} bars",
                     family_means(music_metrics(long[:, :, 4:], data.low, data.track_names))))
        if model == "hybrid":
            start = time.perf_counter()
            pipe(samples, seed=3, batch_size=256)
            speed = samples * 4 / (time.perf_counter() - start)

        print_table(rows, reference, speed)  # after each model: a long run's partial results stay readable


def print_table(rows: list, reference: dict[str, float], speed: float | None) -> None:
    print("| rows | training | measured on | " + " | ".join(SUMMARY) + " |")
    print("|" + "---|" * (3 + len(SUMMARY)))
    for name, when, what, m in rows:
        cells = [f"{m[f]:.2f}" + ("" if name.startswith("chorales") else f" ({gap(m[f], reference[f], f)})")
                 for f in SUMMARY]
        print(f"| {name} | {when} | {what} | " + " | ".join(cells) + " |")
    if speed is not None:
        print(f"\ngeneration: {speed:,.0f} bars/s (hybrid, batch 256, {torch.get_num_threads()} threads)")
    print(flush=True)


if __name__ == "__main__":
    main()

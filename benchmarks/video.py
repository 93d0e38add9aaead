"""MoCoGAN (Tulyakov et al. 2018) on moving Fashion-MNIST items, measured as MoCoGAN and FVD
measure clips, with networks that ship offline (ganforge/metrics/video.py): a Fréchet distance
in the features of the moving-fashion 3-D classifier (FVD's idea; metrics/video_classifier.py),
per-frame FID in the fashion-mnist-cnn features of each frame's item, and content consistency
(the share of clips whose item keeps its fashion class from the first frame to the last).

    python benchmarks/video.py                      # trains the moving-fashion preset (30 minutes), measures
    python benchmarks/video.py --run runs/moving-fashion     # measures a finished run instead
    python benchmarks/video.py --minutes 15 --samples 1000
    python benchmarks/video.py --quick              # a smoke run: a few steps, a few clips

Rows: other real clips of the recipe (clip seed 2: the ceiling of every measure), an untrained
MoCoGAN (the floor), then the preset trained for --minutes (its EMA generator; its steps and
wall time), and the same G run on for twice the trained frames (per-frame FID and consistency:
does the item survive longer motion?). The reference is the 5,000 training clips.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path

import torch

from ganforge import modeling
from ganforge.config import merge, preset_config
from ganforge.data.video import load_video
from ganforge.metrics.video import generated_clips, load_extractors, measure, scores
from ganforge.models import build_models
from ganforge.training.trainer import Trainer


def train(minutes: float, run: Path, seed: int, quick: bool) -> Path:
    """The preset trained for `minutes` (or 4 steps, --quick); a finished run is reused."""
    if not (run / "model" / "config.json").is_file():
        overrides = {"train": {"minutes": minutes, "seed": seed, "eval_every": 0}}
        if quick:
            overrides = {"data": {"clips": 64}, "train": {"steps": 4, "seed": seed, "sample_every": 4,
                                                          "checkpoint_every": 4}}
        Trainer(merge(preset_config("moving-fashion"), overrides), run, force=run.exists()).fit()
    return run


def trained(run: Path) -> str:
    """"N steps, M min" from the run's metrics and its start-to-export wall time."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = max((r["step"] for r in rows if "step" in r), default=-1)
    started = json.loads((run / "run_info.json").read_text())["started"]
    start = datetime.strptime(started, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    minutes = ((run / "model" / "config.json").stat().st_mtime - start) / 60
    return f"{steps:,} steps, {minutes:.1f} min"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, help="a finished moving-fashion run to measure (default: train one in --out)")
    p.add_argument("--minutes", type=float, default=30.0, help="the preset's time budget (default 30)")
    p.add_argument("--samples", type=int, default=1000, help="generated (and other real) clips a row (default 1,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/bench-video"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    n = 64 if args.quick else args.samples
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    cfg = preset_config("moving-fashion")
    d = cfg.data
    video_classifier, fashion = load_extractors()
    reference = measure(load_video(d.source, d.resolution, 1, d.frames, d.sprites, 200 if args.quick else d.clips).x,
                        video_classifier, fashion)
    other = load_video(d.source, d.resolution, 1, d.frames, d.sprites, n, seed=2).x
    rows = [("real clips, clip seed 2 (ceiling)", "", n, scores(reference, measure(other, video_classifier, fashion)))]
    torch.manual_seed(args.seed)
    untrained, _ = build_models(cfg, "video", (1, d.frames, d.resolution, d.resolution), 10)
    rows.append(("untrained MoCoGAN (floor)", "0 steps", n,
                 scores(reference, measure(generated_clips(untrained, n, 1), video_classifier, fashion))))
    run = args.run or train(args.minutes, args.out / "moving-fashion", args.seed, args.quick)
    G = modeling.load(run)
    when = trained(run)
    rows.append(("moving-fashion (EMA G)", when, n, scores(reference, measure(generated_clips(G, n, 1),
                                                                           video_classifier, fashion))))
    longer = scores(reference, measure(generated_clips(G, n, 1, frames=2 * G.frames), video_classifier, fashion))
    longer["fvd_3d"] = float("nan")  # the 3-D classifier's features are of 16 frames
    rows.append((f"  run on to {2 * G.frames} frames", when, n, longer))
    print_table(rows, video_classifier.metadata)


def print_table(rows: list, meta: dict) -> None:
    print("| rows | training | clips | FVD (3-D classifier) | per-frame FID (fashion-mnist-cnn) | content consistency |")
    print("|---|---|---|---|---|---|")
    for name, when, n, m in rows:
        fvd = "—" if m["fvd_3d"] != m["fvd_3d"] else f"{m['fvd_3d']:.2f}"
        print(f"| {name} | {when} | {n:,} | {fvd} | {m['fid_frames']:.2f} | {100 * m['consistency']:.1f} % |")
    print(f"\n3-D classifier: {100 * meta['test_accuracy']:.1f} % of 80 classes (class "
          f"{100 * meta['class_accuracy']:.1f} %, direction {100 * meta['direction_accuracy']:.1f} %) on "
          f"{meta['test_split']}; {torch.get_num_threads()} thread(s)\n", flush=True)


if __name__ == "__main__":
    main()

"""Mode coverage of the 2-D toy presets over several seeds, beside the published tables.

    python benchmarks/toy2d.py                 # ring8 and grid25, seeds 0-9 (~20 min on 2 cores)
    python benchmarks/toy2d.py --seeds 3 --presets ring8

Each run trains the preset exactly as `ganforge train --preset NAME --seed S` would, then
scores 2,500 samples of the exported EMA generator (PacGAN/VEEGAN protocol: a sample is
high quality within 3 std of its nearest mode; a mode is captured when a high-quality
sample is nearest to it; reverse KL of the mode histogram against uniform).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ganforge.config import preset_config
from ganforge.evaluate import evaluate_mode_coverage
from ganforge.training.trainer import Trainer

PUBLISHED = {  # (modes, high-quality %, reverse KL); None where the paper gives none
    "ring8": [("PacGAN4 (PacGAN Table 1)", 7.8, 95.9, 0.07), ("VEEGAN (VEEGAN Table 1)", 8.0, 52.9, None)],
    "grid25": [("PacGAN4 (PacGAN Table 1)", 24.8, 93.6, 0.04), ("VEEGAN (VEEGAN Table 1)", 24.6, 40.0, None)],
}
TARGETS = {"ring8": (8.0, 98.0, 0.03), "grid25": (25.0, 95.0, 0.03)}


def run(preset: str, seed: int, root: Path) -> dict:
    cfg = preset_config(preset)
    cfg.train.seed = seed
    t0 = time.perf_counter()
    trainer = Trainer(cfg, root / f"{preset}-{seed}", progress=False)
    trainer.fit()
    seconds = time.perf_counter() - t0
    metrics = evaluate_mode_coverage(trainer.run_dir, seed=seed)["metrics"]
    return {**metrics, "seconds": seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--presets", default="ring8,grid25")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            results = []
            for seed in range(args.seeds):
                r = run(preset, seed, Path(tmp))
                results.append(r)
                print(f"{preset} seed {seed}: modes {r['modes']:.0f}  HQ {r['hq_percent']:.1f}%  "
                      f"rev-KL {r['reverse_kl']:.4f}  {r['seconds']:.1f} s", flush=True)
            rows.append((preset, results))
    print("\n| data | method | modes (mean, min) | high quality % (mean, min) | reverse KL (mean, max) | s/run (max) |")
    print("|---|---|---|---|---|---|")
    for preset, results in rows:
        col = lambda k: [r[k] for r in results]  # noqa: E731
        print(f"| {preset} | ganforge preset, {len(results)} seeds | {statistics.mean(col('modes')):.2f}, "
              f"{min(col('modes')):.0f} | {statistics.mean(col('hq_percent')):.1f}, {min(col('hq_percent')):.1f} "
              f"| {statistics.mean(col('reverse_kl')):.4f}, {max(col('reverse_kl')):.4f} "
              f"| {statistics.mean(col('seconds')):.1f} ({max(col('seconds')):.1f}) |")
        for name, modes, hq, kl in PUBLISHED[preset]:
            print(f"| {preset} | {name} | {modes} | {hq} | {kl if kl is not None else '-'} | - |")
        m, h, k = TARGETS[preset]
        print(f"| {preset} | target | {m} on every seed | >= {h} | <= {k} | <= 60 |")


if __name__ == "__main__":
    main()

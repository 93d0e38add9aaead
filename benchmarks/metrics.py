"""Speed and memory of the metric mathematics at the sizes of a real evaluation.

    python benchmarks/metrics.py           # 3-10 min on 2 cores; scipy's sqrtm at 2048-d alone takes 16-90 s
    python benchmarks/metrics.py --quick   # scipy baseline at 512-d, PR and DC only together
    python benchmarks/metrics.py --rows fid,distance   # some rows only

Rows:
- FID from 10,000 x 2,048 features per side (statistics of both sides + Fréchet distance),
  and the Fréchet distance alone (what a cached reference leaves to do);
- the baseline: np.cov + scipy.linalg.sqrtm (pytorch-fid's recipe, float64), with the
  relative difference of the two FID values;
- precision/recall (k=3) + density/coverage (k=5) on 10k x 10k at 2,048-d, in one pass
  (`prdc`) and as two calls.

Each row runs in a fresh child process so that its peak resident memory (VmHWM from
/proc/self/status) is its own; "delta" is that peak minus the resident memory just
before the call (inputs already in memory). CPU s is the process's CPU time for the call:
on a CPU shared with other jobs, wall time grows with the load and CPU time much less
(two threads on an idle 2-core machine give wall ~ CPU / 2 for the BLAS-bound rows).
Features are synthetic float32 Gaussians, fake ~ N(0.01, 1.01^2) against real ~ N(0, 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

N, D = 10_000, 2048


def memory_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def features(n: int, d: int, seed: int):
    import torch
    gen = torch.Generator().manual_seed(seed)
    real = torch.randn(n, d, generator=gen)
    fake = torch.randn(n, d, generator=gen) * 1.01 + 0.01  # near the real distribution, as for a good model
    return real, fake


def child(task: str, d: int) -> dict:
    """One measurement, in this (fresh) process -> {"seconds", "peak_mb", "delta_mb", "value"}."""
    import numpy as np
    import scipy.linalg

    from ganforge.metrics import feature_statistics, fid, frechet_distance, prdc
    from ganforge.metrics.prdc import density_coverage, precision_recall
    real, fake = features(N, d, seed=0)
    stats = (*feature_statistics(real), *feature_statistics(fake)) if task == "distance" else None
    before = memory_kb("VmRSS")
    t0, cpu0 = time.perf_counter(), time.process_time()
    if task == "fid":
        value = fid(real, fake)
    elif task == "distance":
        value = frechet_distance(*stats)
    elif task == "scipy":
        x, y = real.double().numpy(), fake.double().numpy()
        s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        value = float(((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    elif task == "prdc":
        value = prdc(real, fake, k_pr=3, k_dc=5)
    elif task == "pr+dc":
        value = {**precision_recall(real, fake, k=3), **density_coverage(real, fake, k=5)}
    else:
        raise SystemExit(f"unknown task {task!r}")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak = memory_kb("VmHWM")
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024, "delta_mb": (peak - before) / 1024,
            "value": value}


def measure(task: str, d: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", task, "--dim", str(d)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k[0].upper()} {x:.4f}" for k, x in v.items())
    return f"{v:.4f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="scipy baseline at 512-d; PR and DC only in one pass")
    p.add_argument("--rows", help="comma-separated subset of: fid, distance, scipy, prdc, pr+dc")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--dim", type=int, default=D, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dim)))
        return
    scipy_d = 512 if args.quick else D
    rows = [("FID, features -> value (ganforge)", "fid", D, "<= 5 s"),
            ("FID, cached statistics -> value (ganforge)", "distance", D, "-"),
            ("FID, np.cov + scipy sqrtm (baseline)", "scipy", scipy_d, "-")]
    if args.quick:
        rows.insert(3, ("FID, features -> value (ganforge)", "fid", scipy_d, "-"))
    rows += [("PR (k=3) + DC (k=5), one pass", "prdc", D, "<= 60 s, <= 2 GB")]
    if not args.quick:
        rows += [("PR (k=3) then DC (k=5), two calls", "pr+dc", D, "<= 60 s, <= 2 GB")]
    if args.rows:
        rows = [r for r in rows if r[1] in args.rows.split(",")]
    load = os.getloadavg()[0]
    print(f"# {N:,} x {N:,} samples, torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}, "
          f"{os.cpu_count()} CPUs, load average at start {load:.1f}", flush=True)
    print("| measurement | dim | wall s | CPU s | peak RSS MB (delta) | value | target |")
    print("|---|---|---|---|---|---|---|")
    for name, task, d, target in rows:
        r = measure(task, d)
        print(f"| {name} | {d} | {r['seconds']:.2f} | {r['cpu']:.1f} | {r['peak_mb']:.0f} ({r['delta_mb']:+.0f}) | "
              f"{fmt(r['value'])} | {target} |", flush=True)
    print(f"# load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

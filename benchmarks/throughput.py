"""Images/s of ganforge's trainer against a plain PyTorch loop, on the same DCGAN.

    python benchmarks/throughput.py                # 3 interleaved rounds, ~4 minutes on 2 cores
    python benchmarks/throughput.py --rounds 1 --iters 100

The model is the DCGAN of the seeds' PyTorch example family (PyTorch-GAN `dcgan.py`):
G = linear to 128x8x8, two (upsample x2, conv3x3, BatchNorm(eps=0.8), LeakyReLU) blocks,
conv3x3 to C, tanh; D = four stride-2 conv3x3 blocks 16-32-64-128 (LeakyReLU, Dropout2d
0.25, BatchNorm(eps=0.8) after all but the first), linear to one logit; batch 64 of 32x32x1
(Fashion-MNIST), Adam 2e-4 (0.5, 0.999), the non-saturating BCE loss.

(a) reference: the loop as that example writes it: a DataLoader, z from numpy each step,
    one fake batch; the G step, then the D step on the detached fakes, averaged real/fake
    loss; Sigmoid + BCELoss; `.item()` printed every step; NCHW; glibc's default malloc.
(b) ganforge: `Trainer` on the same networks (D returns the logit: BCE-with-logits is the
    same loss as Sigmoid + BCELoss), `reuse_fakes` (the same one fake batch a step),
    channels_last, the allocator tuned, stats without per-step host syncs, no EMA.
Each run is its own process (the allocator setting is per process), rounds interleave
(a) and (b) so that machine noise hits both. GFLOP/s come from torch's FLOP counter on one
iteration, against the fp32 torch.mm peak measured in this run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

BATCH, Z_DIM, RES, CHANNELS = 64, 100, 32, 1


class Generator(nn.Module):
    z_dim, c_dim, resolution, channels = Z_DIM, 0, RES, CHANNELS

    def __init__(self):
        super().__init__()
        self.init_size = RES // 4
        self.l1 = nn.Linear(Z_DIM, 128 * self.init_size**2)
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 128, 3, 1, 1), nn.BatchNorm2d(128, 0.8), nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, 1, 1), nn.BatchNorm2d(64, 0.8), nn.LeakyReLU(0.2),
            nn.Conv2d(64, CHANNELS, 3, 1, 1), nn.Tanh())

    def forward(self, z, c=None):
        return self.conv_blocks(self.l1(z).view(z.shape[0], 128, self.init_size, self.init_size))


class Discriminator(nn.Module):
    """Returns the logit; `sigmoid=True` adds the example's Sigmoid layer."""

    c_dim, resolution, channels = 0, RES, CHANNELS

    def __init__(self, sigmoid: bool = False):
        super().__init__()

        def block(cin, cout, bn=True):
            layers = [nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]
            return layers + ([nn.BatchNorm2d(cout, 0.8)] if bn else [])

        self.model = nn.Sequential(*block(CHANNELS, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128))
        self.adv_layer = nn.Sequential(nn.Linear(128 * (RES // 16) ** 2, 1), *([nn.Sigmoid()] if sigmoid else []))

    def forward(self, x, c=None):
        return self.adv_layer(self.model(x).flatten(1)).squeeze(1)


def weights_init_normal(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0.0)


def real_images() -> torch.Tensor:
    from ganforge.data import load_data
    return load_data("fashion-mnist", RES, CHANNELS).x  # (60000, 1, 32, 32) uint8


# ----------------------------------------------------------------- (a) the reference loop
def run_reference(warmup: int, iters: int) -> float:
    import numpy as np

    torch.manual_seed(0)
    x = real_images().float() / 127.5 - 1
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=BATCH, shuffle=True,
                                         drop_last=True)
    G, D = Generator(), Discriminator(sigmoid=True)
    G.apply(weights_init_normal)
    D.apply(weights_init_normal)
    bce = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    done, t0 = 0, None
    while True:
        for (imgs,) in loader:
            if done == warmup:
                t0 = time.perf_counter()
            valid, fake = torch.ones(imgs.shape[0]), torch.zeros(imgs.shape[0])
            opt_g.zero_grad()
            z = torch.tensor(np.random.normal(0, 1, (imgs.shape[0], Z_DIM)), dtype=torch.float32)
            gen_imgs = G(z)
            g_loss = bce(D(gen_imgs), valid)
            g_loss.backward()
            opt_g.step()
            opt_d.zero_grad()
            real_loss = bce(D(imgs), valid)
            fake_loss = bce(D(gen_imgs.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            opt_d.step()
            print(f"[Batch {done}] [D loss: {d_loss.item():f}] [G loss: {g_loss.item():f}]", file=sys.stderr)
            done += 1
            if done == warmup + iters:
                return iters * BATCH / (time.perf_counter() - t0)


# ----------------------------------------------------------------- (b) ganforge's trainer
def run_ganforge(warmup: int, iters: int) -> float:
    from ganforge.config import Config, merge
    from ganforge.training.trainer import Trainer

    cfg = merge(Config(), {
        "data": {"source": "fashion-mnist", "resolution": RES, "channels": CHANNELS},
        "loss": {"name": "non-saturating"},
        "optim": {"lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999},
        "train": {"steps": warmup + iters, "batch_size": BATCH, "seed": 0, "ema_half_life": 0,
                  "reuse_fakes": True, "log_every": warmup, "sample_every": 10**9,
                  "checkpoint_every": 10**9}})
    G, D = Generator(), Discriminator()
    G.apply(weights_init_normal)
    D.apply(weights_init_normal)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, f"{tmp}/run", progress=False, models=(G, D))
        times = {}
        original = trainer.train_step

        def timed_step():  # the clock starts after the warm-up steps, as for (a)
            if trainer.step == warmup:
                times["t0"] = time.perf_counter()
            original()
            if trainer.step == warmup + iters:
                times["t1"] = time.perf_counter()

        trainer.train_step = timed_step
        trainer.fit()
    return iters * BATCH / (times["t1"] - times["t0"])


# ----------------------------------------------------------------- FLOPs and the peak
def flops_per_iteration() -> float:
    """FLOPs of one reference iteration (G forward, D on fakes/reals, both backwards)."""
    from torch.utils.flop_counter import FlopCounterMode

    G, D = Generator(), Discriminator(sigmoid=True)
    bce = nn.BCELoss()
    x, z = torch.randn(BATCH, CHANNELS, RES, RES), torch.randn(BATCH, Z_DIM)
    with FlopCounterMode(display=False) as counter:
        fake = G(z)
        bce(D(fake), torch.ones(BATCH)).backward()
        ((bce(D(x), torch.ones(BATCH)) + bce(D(fake.detach()), torch.zeros(BATCH))) / 2).backward()
    return float(counter.get_total_flops())


def mm_peak(threads: int, n: int = 2048, repeats: int = 15) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def child(which: str, warmup: int, iters: int, threads: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", which, "--warmup", str(warmup),
                          "--iters", str(iters), "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="interleaved (a), (b) pairs")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--iters", type=int, default=150)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", choices=("reference", "ganforge"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        torch.set_num_threads(args.threads)
        fn = run_reference if args.child == "reference" else run_ganforge
        print(json.dumps({"images_per_s": fn(args.warmup, args.iters)}))
        return

    flops = flops_per_iteration()
    peaks, results = [], {"reference": [], "ganforge": []}
    for r in range(args.rounds):
        peaks.append(mm_peak(args.threads))
        for which in results:
            results[which].append(child(which, args.warmup, args.iters, args.threads))
            print(f"round {r + 1}: {which:9s} {results[which][-1]:7.1f} images/s", flush=True)
    peak = statistics.median(peaks)
    print(f"\nthreads {args.threads}, batch {BATCH}, {args.iters} timed iterations after {args.warmup} warm-up, "
          f"{args.rounds} rounds; {flops / BATCH / 1e6:.0f} MFLOP per image per iteration; "
          f"torch.mm peak (2048^2, median) {peak:.1f} GFLOP/s")
    print("| loop | images/s (median) | min-max | GFLOP/s | of mm peak | vs reference |")
    print("|---|---|---|---|---|---|")
    base = statistics.median(results["reference"])
    for which, values in results.items():
        med = statistics.median(values)
        gflops = med / BATCH * flops / 1e9
        print(f"| {which} | {med:.1f} | {min(values):.1f}-{max(values):.1f} | {gflops:.1f} | "
              f"{100 * gflops / peak:.0f} % | {med / base:.2f}x |")


if __name__ == "__main__":
    main()

"""Training speed of pix2pix and CycleGAN: ganforge's Trainer against a plain loop written the
way pytorch-CycleGAN-and-pix2pix writes its models, on the same networks.

    python benchmarks/translation_speed.py                    # 4 sizes, 3 interleaved rounds, ~10 min on 2 cores
    python benchmarks/translation_speed.py --cases edges2fashion --rounds 1
    python benchmarks/translation_speed.py --variants         # + ganforge in NHWC; the plain loop in NHWC, tuned malloc
    python benchmarks/translation_speed.py --profile cycle-64 # torch.profiler: the top ops of each side

Sizes (networks from ganforge.models, built once per process from the same seed for both sides):
  pix2pix-64      unet (depth 6) + 70x70 PatchGAN (3 layers), width 64, 3 -> 3 channels, 64 px, batch 8
  edges2fashion   the preset: unet width 32 + PatchGAN 2 layers, 1 -> 1 channel, 32 px, batch 32
  cycle-64        translator_pair (ResNet, 6 blocks) + two 3-layer PatchGANs, width 64, RGB, 64 px, batch 4
  sneaker2boot    the preset: width 16, 6 blocks, 2-layer PatchGANs, grey, 28 px, batch 16

(a) plain: the loop as pytorch-CycleGAN-and-pix2pix's models write it (written here from its
    description, not copied): pix2pix_model.optimize_parameters = forward (fake_B = G(A));
    set_requires_grad(D, True); backward_D: BCE-with-logits of D(cat(A, fake_B).detach()) against
    0 and of D(cat(A, B)) against 1, times 0.5; D step; set_requires_grad(D, False); backward_G:
    GAN + 100 L1; G step. cycle_gan_model.optimize_parameters = forward (fake_B, rec_A, fake_A,
    rec_B); G step with D_A, D_B frozen: LSGAN terms + 10 cycle each way + identity (0.5 x 10);
    D step on 50-image history pools, each D's loss times 0.5. torch.optim.Adam with its
    defaults (lr 2e-4, betas 0.5/0.999); NCHW tensors; glibc's default malloc. Its data: a
    DataLoader (no workers) over the same uint8 images, each item converted to [-1, 1] floats
    (the reference's ToTensor + Normalize, without its PIL decoding: a cheaper baseline).
(b) ganforge: `Trainer` on the same networks (models=), as a run trains them: the tuned
    allocator, fused Adam, the layout `--channels-last auto` picks (NCHW for the translation
    games on a CPU, where NHWC measured slower: see --variants), health checks and stats at the
    preset's log interval; no pictures or checkpoints inside the timed steps.
Each measurement is a fresh process (the allocator is per process; peak RSS is its own); the
rounds alternate (a) and (b), both with the same --threads. Memory: the peak resident set
(getrusage ru_maxrss) of the process, and the peak minus the resident memory just before
the first step (imports, data and networks loaded): what the training steps add.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

CASES = {
    "pix2pix-64": dict(game="pix2pix", res=64, batch=8, channels=3, width=64, d_layers=3, warmup=5, iters=30,
                       data={"source": "digits", "pairs": "downscale:2"}),
    "edges2fashion": dict(game="pix2pix", preset="edges2fashion", warmup=10, iters=80),
    "cycle-64": dict(game="cycle", res=64, batch=4, channels=3, width=64, d_layers=3, blocks=6, warmup=3, iters=10,
                     data={"source": "digits:0", "source_b": "digits:1"}),
    "sneaker2boot": dict(game="cycle", preset="sneaker2boot", warmup=5, iters=40),
}


def case_config(name: str):
    """The ganforge Config of a case (a preset, or the edges2fashion / sneaker2boot recipe at 64 px)."""
    from ganforge.config import merge, preset_config
    c = CASES[name]
    if "preset" in c:
        cfg = preset_config(c["preset"])
    else:
        base = "edges2fashion" if c["game"] == "pix2pix" else "sneaker2boot"
        cfg = merge(preset_config(base), {
            "data": {**c["data"], "resolution": c["res"], "channels": c["channels"], "holdout": -1},
            "model": {"width": c["width"], "d_layers": c["d_layers"], "blocks": c.get("blocks", 0)},
            "train": {"batch_size": c["batch"]}})
    return cfg


def networks(cfg):
    """The networks the game builds for this config (ganforge.models), seeded: (G, D)."""
    from ganforge.games.cycle import PatchGANPair
    from ganforge.models import patchgan, translator_pair, unet
    torch.manual_seed(0)
    m, d = cfg.model, cfg.data
    c = d.channels
    if cfg.game.name == "pix2pix":
        G = unet.Generator(c, c, d.resolution, width=m.width, norm="batch")
        return G, patchgan.Discriminator(c, cond_channels=c, width=m.width, layers=m.d_layers, norm="batch")
    G = translator_pair.Generator(c, c, d.resolution, width=m.width, blocks=m.blocks or None, norm="instance")
    critic = lambda: patchgan.Discriminator(c, width=m.width, layers=m.d_layers, norm="instance")  # noqa: E731
    return G, PatchGANPair(critic(), critic())


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ----------------------------------------------------------------- (a) the plain loop
def set_requires_grad(nets, requires_grad: bool) -> None:
    for net in nets if isinstance(nets, list) else [nets]:
        for p in net.parameters():
            p.requires_grad = requires_grad


class GANLoss(nn.Module):
    """The target tensor expanded to the prediction's shape; BCE-with-logits or MSE (lsgan)."""

    def __init__(self, mode: str):
        super().__init__()
        self.loss = nn.MSELoss() if mode == "lsgan" else nn.BCEWithLogitsLoss()

    def forward(self, prediction, target_is_real: bool):
        target = torch.tensor(1.0 if target_is_real else 0.0).expand_as(prediction)
        return self.loss(prediction, target)


class ImagePool:
    """A history of generated images; half the time an old one is returned in a new one's place."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                i = random.randint(0, self.size - 1)
                old = self.images[i].clone()
                self.images[i] = image
                out.append(old)
            else:
                out.append(image)
        return torch.cat(out, 0)


class ItemDataset(torch.utils.data.Dataset):
    """Per-item conversion of stored uint8 images to [-1, 1] floats (ToTensor + Normalize)."""

    def __init__(self, *sides):
        self.sides = sides

    def __len__(self):
        return min(len(s) for s in self.sides)

    def __getitem__(self, i):
        return tuple(s[i % len(s)].float() / 127.5 - 1 for s in self.sides)


def plain_loop(cfg, data, G, D, warmup: int, iters: int, channels_last: bool, prof=None) -> dict:
    torch.manual_seed(0)
    random.seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    pix2pix = cfg.game.name == "pix2pix"
    sides = (data.a, data.b) if pix2pix else (data.a.x, data.b.x)
    loader = torch.utils.data.DataLoader(ItemDataset(*sides), batch_size=cfg.train.batch_size, shuffle=True,
                                         drop_last=True)
    G.to(memory_format=fmt)
    D.to(memory_format=fmt)
    criterionGAN, criterionL1 = GANLoss(cfg.loss.name), nn.L1Loss()
    if pix2pix:
        netG, netD = G, D.net  # D.net sees cat(A, B), as the reference's netD
        optimizer_G = torch.optim.Adam(netG.parameters(), lr=cfg.optim.lr_g, betas=(0.5, 0.999))
        optimizer_D = torch.optim.Adam(netD.parameters(), lr=cfg.optim.lr_d, betas=(0.5, 0.999))
    else:
        netG_A, netG_B, netD_A, netD_B = G.a2b, G.b2a, D.b, D.a  # the reference's D_A judges B images
        optimizer_G = torch.optim.Adam(itertools.chain(netG_A.parameters(), netG_B.parameters()),
                                       lr=cfg.optim.lr_g, betas=(0.5, 0.999))
        optimizer_D = torch.optim.Adam(itertools.chain(netD_A.parameters(), netD_B.parameters()),
                                       lr=cfg.optim.lr_d, betas=(0.5, 0.999))
        fake_A_pool, fake_B_pool = ImagePool(cfg.game.pool_size), ImagePool(cfg.game.pool_size)
        lambda_A = lambda_B = cfg.game.cycle_weight
        lambda_idt = cfg.game.identity_weight
    done, t0, before = 0, None, rss_mb()
    while True:
        for real_A, real_B in loader:
            if done == warmup:
                t0 = _start(prof)
            real_A, real_B = real_A.contiguous(memory_format=fmt), real_B.contiguous(memory_format=fmt)
            if pix2pix:
                fake_B = netG(real_A)                                         # forward
                set_requires_grad(netD, True)                                 # D
                optimizer_D.zero_grad()
                pred_fake = netD(torch.cat((real_A, fake_B), 1).detach())
                pred_real = netD(torch.cat((real_A, real_B), 1))
                loss_D = (criterionGAN(pred_fake, False) + criterionGAN(pred_real, True)) * 0.5
                loss_D.backward()
                optimizer_D.step()
                set_requires_grad(netD, False)                                # G
                optimizer_G.zero_grad()
                pred_fake = netD(torch.cat((real_A, fake_B), 1))
                loss_G = criterionGAN(pred_fake, True) + criterionL1(fake_B, real_B) * cfg.game.l1_weight
                loss_G.backward()
                optimizer_G.step()
            else:
                fake_B = netG_A(real_A)                                       # forward
                rec_A = netG_B(fake_B)
                fake_A = netG_B(real_B)
                rec_B = netG_A(fake_A)
                set_requires_grad([netD_A, netD_B], False)                    # G_A and G_B
                optimizer_G.zero_grad()
                idt_A = netG_A(real_B)
                loss_idt_A = criterionL1(idt_A, real_B) * lambda_B * lambda_idt
                idt_B = netG_B(real_A)
                loss_idt_B = criterionL1(idt_B, real_A) * lambda_A * lambda_idt
                loss_G_A = criterionGAN(netD_A(fake_B), True)
                loss_G_B = criterionGAN(netD_B(fake_A), True)
                loss_cycle_A = criterionL1(rec_A, real_A) * lambda_A
                loss_cycle_B = criterionL1(rec_B, real_B) * lambda_B
                loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
                loss_G.backward()
                optimizer_G.step()
                set_requires_grad([netD_A, netD_B], True)                     # D_A and D_B
                optimizer_D.zero_grad()
                for netD, real, fake in ((netD_A, real_B, fake_B_pool.query(fake_B)),
                                         (netD_B, real_A, fake_A_pool.query(fake_A))):
                    loss_D = (criterionGAN(netD(real), True) + criterionGAN(netD(fake.detach()), False)) * 0.5
                    loss_D.backward()
                optimizer_D.step()
            done += 1
            if done == warmup + iters:
                return {"seconds": _stop(prof) - t0, "rss_before": before}


# ----------------------------------------------------------------- (b) ganforge's Trainer
def _start(prof) -> float:
    if prof is not None:
        prof.start()
    return time.perf_counter()


def _stop(prof) -> float:
    t = time.perf_counter()
    if prof is not None:
        prof.stop()
    return t


def ganforge_loop(cfg, G, D, warmup: int, iters: int, prof=None) -> dict:
    from ganforge.config import merge
    from ganforge.training.trainer import Trainer
    cfg = merge(cfg, {"train": {"steps": warmup + iters, "sample_every": 10**9, "checkpoint_every": 10**9,
                                "eval_every": 0}})
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, f"{tmp}/run", progress=False, models=(G, D))
        marks, original = {}, trainer.train_step

        def timed_step():  # the clock runs from the first timed step to the last, the loop's work between included
            if trainer.step == 0:
                marks["rss_before"] = rss_mb()
            if trainer.step == warmup:
                marks["t0"] = _start(prof)
            original()
            if trainer.step == warmup + iters:
                marks["t1"] = _stop(prof)

        trainer.train_step = timed_step
        trainer._loop(_NoBar(), lambda: False)  # the loop without the end's export and report
    return {"seconds": marks["t1"] - marks["t0"], "rss_before": marks["rss_before"]}


class _NoBar:
    n = total = 0

    def update(self, k):
        pass

    def refresh(self):
        pass


def load_case_data(cfg):
    from ganforge.games import GAMES
    return GAMES[cfg.game.name].load_data(cfg)


def child(args) -> None:
    torch.set_num_threads(args.threads)
    cfg = case_config(args.case)
    cfg.train.threads = args.threads
    if args.channels_last:
        cfg.train.channels_last = args.channels_last
    if args.malloc and args.child == "plain":
        from ganforge.training.runtime import tune_allocator
        tune_allocator()
    c = CASES[args.case]
    warmup, iters = args.warmup or c["warmup"], args.iters or c["iters"]
    G, D = networks(cfg)
    if args.child == "plain":
        r = plain_loop(cfg, load_case_data(cfg), G, D, warmup, iters, args.channels_last == "on")
    else:
        r = ganforge_loop(cfg, G, D, warmup, iters)
    batch = cfg.train.batch_size
    print(json.dumps({"images_per_s": iters * batch / r["seconds"], "s_per_step": r["seconds"] / iters,
                      "peak_mb": peak_mb(), "step_mb": peak_mb() - r["rss_before"]}))


def run_child(side: str, case: str, args, channels_last: str = "", malloc: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--case", case, "--threads", str(args.threads)]
    if args.warmup:
        cmd += ["--warmup", str(args.warmup)]
    if args.iters:
        cmd += ["--iters", str(args.iters)]
    if channels_last:
        cmd += ["--channels-last", channels_last]
    if malloc:
        cmd.append("--malloc")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------- profiling
def profile(args) -> None:
    """torch.profiler over a few steps of each side, in this process (top ops by self CPU time)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile
    torch.set_num_threads(args.threads)
    cfg = case_config(args.profile)
    warmup, iters = 3, args.iters or max(3, CASES[args.profile]["iters"] // 4)
    for side in ("plain", "ganforge"):
        G, D = networks(cfg)
        prof = torch_profile(activities=[ProfilerActivity.CPU])  # started and stopped around the timed steps
        if side == "plain":
            r = plain_loop(cfg, load_case_data(cfg), G, D, warmup, iters, False, prof)
        else:
            r = ganforge_loop(cfg, G, D, warmup, iters, prof)
        ms = 1000 * r["seconds"] / iters
        print(f"\n== {side} ({args.profile}, {iters} steps profiled after {warmup}: {ms:.0f} ms/step under the profiler)")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.profile_rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    p.add_argument("--rounds", type=int, default=3, help="interleaved (a), (b) pairs per case")
    p.add_argument("--warmup", type=int, default=0, help="untimed steps (0: the case's default)")
    p.add_argument("--iters", type=int, default=0, help="timed steps (0: the case's default)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--variants", action="store_true",
                   help="also: ganforge forced to channels_last; the plain loop in channels_last, with tuned malloc")
    p.add_argument("--profile", choices=tuple(CASES), help="profile both sides of one case instead")
    p.add_argument("--profile-rows", type=int, default=25)
    p.add_argument("--child", choices=("plain", "ganforge"), help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--channels-last", default="", help=argparse.SUPPRESS)
    p.add_argument("--malloc", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    if args.profile:
        return profile(args)

    sides = [("plain", "", False), ("ganforge", "", False)]
    if args.variants:
        sides += [("ganforge", "on", False), ("plain", "on", False), ("plain", "", True), ("plain", "on", True)]
    label = {("plain", "", False): "plain loop (NCHW, default malloc)",
             ("ganforge", "", False): "ganforge Trainer (as a run trains)",
             ("ganforge", "on", False): "ganforge Trainer, channels_last forced on",
             ("plain", "on", False): "plain loop + channels_last",
             ("plain", "", True): "plain loop + tuned malloc",
             ("plain", "on", True): "plain loop + channels_last + tuned malloc"}
    t_start = time.perf_counter()
    tables = []
    for case in args.cases.split(","):
        results = {s: [] for s in sides}
        for r in range(args.rounds):
            for s in sides:
                results[s].append(run_child(s[0], case, args, s[1], s[2]))
                print(f"{case} round {r + 1}: {label[s]:50s} {results[s][-1]['images_per_s']:8.2f} images/s",
                      flush=True)
        tables.append((case, results))

    print(f"\nthreads {args.threads}, {args.rounds} interleaved rounds; images/s = timed steps x batch / seconds; "
          f"memory: peak RSS of the process (getrusage), and its rise over the RSS before the first step")
    print("| case | loop | images/s (median) | rounds | ms/step | vs plain | per-round ratio | peak RSS MB | "
          "steps' RSS rise MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case, results in tables:
        base = results[sides[0]]
        base_med = statistics.median(r["images_per_s"] for r in base)
        for s, rs in results.items():
            ips = [r["images_per_s"] for r in rs]
            med = statistics.median(ips)
            ratios = ", ".join(f"{a['images_per_s'] / b['images_per_s']:.2f}" for a, b in zip(rs, base))
            print(f"| {case} | {label[s]} | {med:.2f} | {', '.join(f'{v:.1f}' for v in ips)} | "
                  f"{1000 * statistics.median(r['s_per_step'] for r in rs):.0f} | {med / base_med:.2f}x | "
                  f"{ratios if s != sides[0] else '-'} | {statistics.median(r['peak_mb'] for r in rs):.0f} | "
                  f"{statistics.median(r['step_mb'] for r in rs):.0f} |")
    print(f"\nwall time {(time.perf_counter() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()

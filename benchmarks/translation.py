"""Quality of the translation presets: pix2pix (edges2fashion) and CycleGAN (sneaker2boot).

    python benchmarks/translation.py                  # both parts at the presets' steps, ~30-40 min on 2 cores
    python benchmarks/translation.py --part a --steps 1000
    python benchmarks/translation.py --quick          # a smoke run: a few steps, a few hundred images

(a) edges2fashion (pix2pix: Fashion-MNIST edge maps -> clothes at 32 px). Three runs with the
    same seed and steps: L1 only (game.gan_weight = 0), cGAN only (game.l1_weight = 0) and
    L1 + cGAN (the preset). Each exported model translates held-out pairs made from the
    official Fashion-MNIST *test* split (`load_paired(..., split="test")`, never trained on):
    L1, PSNR and SSIM against the targets; FID between outputs and targets in the shipped
    fashion-mnist-cnn features; and the classifier's accuracy on the outputs against the
    targets' labels (the pix2pix paper's FCN-score idea, Table 1). Rows for the inputs
    themselves (the floor) and the real targets (the ceiling) frame them.
(b) sneaker2boot (CycleGAN: sneakers <-> ankle boots at 28 px), the preset, capped by
    --minutes. On the test split's sneakers and ankle boots: the share of translations the
    classifier calls the target class, FID to the target class's test images, cycle L1 both
    ways; the untranslated inputs and the real target images as reference rows.

Conventions: images in [0, 1] for L1 (mean absolute error), PSNR (dB, per image, then
averaged) and SSIM (per image, then averaged). SSIM is written in torch here (scikit-image
is not installed): Wang et al. 2004, an 11x11 Gaussian window of sigma 1.5, valid
convolution (no padding), K1 = 0.01, K2 = 0.03, data range 1. The classifier takes 32 px
images as its features module expects them: bilinear (align_corners=False, no antialias)
down to its 28 px input (ganforge.metrics.classifiers.to_classifier_input), done inside
`extract`. Models are evaluated as exported (eval mode: BatchNorm running statistics, no
dropout), through TranslatePipeline, as `ganforge translate` runs them.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganforge.config import merge, preset_config
from ganforge.metrics.features import extract, get_extractor
from ganforge.metrics.fid import fid
from ganforge.pipelines.translate import TranslatePipeline
from ganforge.training.batches import to_model_range
from ganforge.training.trainer import Trainer

VARIANTS = {  # name -> game overrides on the edges2fashion preset
    "L1 only": {"gan_weight": 0.0},
    "cGAN only": {"l1_weight": 0.0},
    "L1 + cGAN (preset)": {},
}


# ----------------------------------------------------------------- image measures
def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    g = torch.exp(-((torch.arange(size, dtype=torch.float64) - (size - 1) / 2) ** 2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()[None, None]  # (1, 1, size, size)


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-image SSIM of (N, C, H, W) images in [0, 1] (C averaged), valid convolution: (N,)."""
    c1, c2 = 0.01**2, 0.03**2
    n, c = x.shape[:2]
    w = gaussian_window(window, sigma).to(x).expand(c, 1, window, window)
    filt = lambda t: F.conv2d(t, w, groups=c)  # noqa: E731
    mx, my = filt(x), filt(y)
    sxx, syy, sxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s.reshape(n, -1).mean(1)


def pixel_scores(out: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """L1, PSNR, SSIM of outputs against targets, both (N, C, H, W) in [-1, 1]."""
    x, y = (out.clamp(-1, 1) + 1) / 2, (target + 1) / 2
    mse = (x - y).square().flatten(1).mean(1).clamp(min=1e-10)
    return {"l1": float((x - y).abs().mean()), "psnr": float((-10 * mse.log10()).mean()),
            "ssim": float(ssim(x, y).mean())}


def class_scores(ext, images: torch.Tensor, labels: torch.Tensor, real_features) -> dict[str, float]:
    """FID against the real features, and the share the classifier calls `labels`."""
    f = extract(ext, images, batch_size=250, progress=False)
    return {"fid": fid(real_features.features, f.features),
            "acc": float((f.logits.argmax(1) == labels).float().mean())}


# ----------------------------------------------------------------- training
def train(preset: str, overrides: dict, run_dir: Path) -> tuple[Path, int, float]:
    """Train a preset with overrides; (exported model dir, steps done, seconds)."""
    cfg = merge(preset_config(preset), overrides)
    t0 = time.perf_counter()
    trainer = Trainer(cfg, run_dir, force=run_dir.exists(), progress=False)
    model_dir = trainer.fit()
    return model_dir, trainer.step, time.perf_counter() - t0


def common_overrides(args, steps: int) -> dict:
    t = {"steps": steps, "seed": args.seed}
    if args.quick:
        half = max(1, steps // 2)
        t.update(sample_every=half, checkpoint_every=steps, eval_every=steps, log_every=half)
    return t


# ----------------------------------------------------------------- (a) edges2fashion
def part_a(args, ext) -> None:
    from ganforge.data.paired import load_paired

    steps = args.steps or (20 if args.quick else preset_config("edges2fashion").train.steps)
    n = 200 if args.quick else args.n
    test = load_paired("fashion-mnist", 32, 1, pairs="edges", split="test")
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n]
    a, b, y = to_model_range(test.a[pick]), to_model_range(test.b[pick]), test.y[pick]  # (n, 1, 32, 32)
    real = extract(ext, b, batch_size=250, progress=False)
    rows = []
    for name, game in VARIANTS.items():
        run_dir = args.out / ("edges2fashion-" + name.split(" (")[0].replace(" + ", "+").replace(" ", "-").lower())
        model_dir, done, secs = train("edges2fashion", {"game": game, "train": common_overrides(args, steps)}, run_dir)
        out = TranslatePipeline.from_pretrained(model_dir)(a, batch_size=250)
        rows.append((name, done, secs, {**pixel_scores(out, b), **class_scores(ext, out, y, real)}))
        print(f"  trained {name}: {done} steps in {secs:.0f} s", flush=True)
    rows.append(("inputs (edge maps, the floor)", None, None, {**pixel_scores(a, b), **class_scores(ext, a, y, real)}))
    rows.append(("real targets (the ceiling)", None, None, {**pixel_scores(b, b), **class_scores(ext, b, y, real)}))
    # FID's sampling floor at this n: the same number of *training* images against the test targets
    from ganforge.data import load_data
    train_x = load_data("fashion-mnist", 32, 1).x
    other = to_model_range(train_x[torch.randperm(len(train_x), generator=torch.Generator().manual_seed(1))[:n]])
    floor = fid(real.features, extract(ext, other, batch_size=250, progress=False).features)

    print(f"\n(a) edges2fashion: pix2pix, {steps} steps each, seed {args.seed}; {n} held-out pairs from the "
          f"Fashion-MNIST test split; FID and accuracy with fashion-mnist-cnn features")
    print("| model | steps | train s | L1 | PSNR dB | SSIM | FID | classifier accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for name, done, secs, s in rows:
        st = "-" if done is None else str(done)
        tm = "-" if secs is None else f"{secs:.0f}"
        print(f"| {name} | {st} | {tm} | {s['l1']:.4f} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['fid']:.2f} | "
              f"{100 * s['acc']:.1f} % |")
    print(f"FID floor at this sample size: {n} training images against the {n} test targets: {floor:.2f}")


# ----------------------------------------------------------------- (b) sneaker2boot
def part_b(args, ext) -> None:
    from ganforge.data.unpaired import load_unpaired

    cfg = preset_config("sneaker2boot")
    steps = args.steps or (10 if args.quick else cfg.train.steps)
    overrides = {"train": {**common_overrides(args, steps), "minutes": 0.0 if args.quick else args.minutes}}
    model_dir, done, secs = train("sneaker2boot", overrides, args.out / "sneaker2boot")
    print(f"  trained sneaker2boot: {done} steps in {secs:.0f} s", flush=True)

    test = load_unpaired(cfg.data.source, cfg.data.source_b, 28, 1, split="test")
    names = [c.replace(" ", "-").lower() for c in test.a.class_names]  # 'Ankle boot' -> 'ankle-boot'
    ia, ib = names.index("sneaker"), names.index("ankle-boot")
    limit = 200 if args.quick else None
    xa, xb = to_model_range(test.a.x[:limit]), to_model_range(test.b.x[:limit])  # sneakers, ankle boots
    real_a, real_b = (extract(ext, x, batch_size=250, progress=False) for x in (xa, xb))
    pipe = TranslatePipeline.from_pretrained(model_dir)
    ab, ba = pipe(xa, direction="a2b", batch_size=250), pipe(xb, direction="b2a", batch_size=250)
    aba, bab = pipe(ab, direction="b2a", batch_size=250), pipe(ba, direction="a2b", batch_size=250)
    cyc = lambda x, back: float(((back + 1) / 2 - (x + 1) / 2).abs().mean())  # noqa: E731  [0, 1] units

    def called(x, cls, real):
        s = class_scores(ext, x, torch.full((len(x),), cls), real)
        return f"{100 * s['acc']:.1f} %", f"{s['fid']:.2f}"

    rows = [("CycleGAN (preset)", *called(ab, ib, real_b), f"{cyc(xa, aba):.4f}",
             *called(ba, ia, real_a), f"{cyc(xb, bab):.4f}"),
            ("untranslated inputs (baseline)", *called(xa, ib, real_b), "-", *called(xb, ia, real_a), "-"),
            ("real target-class images (ceiling)", *called(xb, ib, real_b), "-", *called(xa, ia, real_a), "-")]
    print(f"\n(b) sneaker2boot: CycleGAN, {done} of {steps} steps in {secs / 60:.1f} min (cap {args.minutes:g} min); "
          f"test split: {len(xa)} sneakers (A), {len(xb)} ankle boots (B); fashion-mnist-cnn features")
    print("| images | A->B called ankle boot | FID to test boots | cycle L1 A->B->A | B->A called sneaker | "
          "FID to test sneakers | cycle L1 B->A->B |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    # the same-size sampling floor of FID: half the target class against its other half is not
    # the same n, so the ceiling row's FID (0) is exact, not a floor; the note gives one
    half = len(xb) // 2
    fa = extract(ext, xb[:half], progress=False).features
    fb = extract(ext, xb[half:], progress=False).features
    print(f"FID between two halves of the test boots ({half} each): {fid(fa, fb):.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=0, help="training steps of every run (0: the presets')")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny steps and sample counts")
    p.add_argument("--out", type=Path, default=Path("runs/benchmarks/translation"), help="run directories")
    p.add_argument("--part", choices=("a", "b", "both"), default="both")
    p.add_argument("--n", type=int, default=2000, help="(a): held-out test pairs")
    p.add_argument("--minutes", type=float, default=30.0, help="(b): training time cap")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    ext = get_extractor("fashion-mnist-cnn")
    t0 = time.perf_counter()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores", flush=True)
    if args.part in ("a", "both"):
        part_a(args, ext)
    if args.part in ("b", "both"):
        part_b(args, ext)
    print(f"\nwall time {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()

"""Colourisation on held-out photos: the grey input, the L1-only model and the gray2color GAN.

    python benchmarks/colorize.py --l1 runs/gray2color-l1 --gan runs/gray2color
    python benchmarks/colorize.py --l1 RUN --gan RUN --picture benchmarks/colorize.jpg

The runs: `ganforge train --preset gray2color` (pix2pix: U-Net + 70x70 PatchGAN, GAN + 100 L1)
and the same with `--gan-weight 0` (L1 only: no D), same seed and steps. Held out: the colour
photos among scikit-image's held-out ones (chelsea, rocket; ganforge.data.patches), never cut
into training tiles. Two sets:
  whole photos  chelsea (451x300) and rocket (640x427) at their own size, made grey by
                Pillow's RGB -> L as `ganforge translate` makes a colour photo grey; the
                models run as translate runs them (TranslatePipeline, uint8 out): in 64 px
                windows (the default for a U-Net, its training size) and whole at once
                (--tile 0), to show which the default should be;
  tiles         the 36 held-out 64 px tiles the game measures (centre crops of the 96 px
                tiles of the two photos, flat ones left out): fixed, no seed involved.
Rows: the grey input copied to 3 channels (the baseline), each model, and the originals.
PSNR and SSIM by skimage.metrics on RGB, data range 255, per image then averaged (SSIM:
channel_axis, its default 7x7 window). PSNR rewards a greyish guess (an unsure model's
safest colour is none), so colourfulness (Hasler & Suesstrunk 2003, M3: sigma_rgyb + 0.3
mu_rgyb on 0..255 RGB; about 0 for grey, ~30-60 for everyday photos) shows how much colour
each method puts in, beside the originals'. "L kept" is the PSNR of the output's luminance
against the grey input (an RGB-output model may change the brightness it was given).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ganforge.data.paired import center_crop, load_paired
from ganforge.data.superres import photo
from ganforge.pipelines.translate import TranslatePipeline

HELD = ("chelsea", "rocket")


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk's M3 of uint8 (H, W, 3)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def grey_of(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> (H, W): Pillow's RGB -> L (the gray recipe's and translate's)."""
    return np.asarray(Image.fromarray(rgb).convert("L"))


def scores(outs: list[np.ndarray], targets: list[np.ndarray]) -> dict[str, float]:
    """Means over the images of uint8 (H, W, 3) outputs against targets ("kept": inf for the
    grey input itself)."""
    psnr = [peak_signal_noise_ratio(t, o, data_range=255) for o, t in zip(outs, targets)]
    ssim = [structural_similarity(t, o, data_range=255, channel_axis=2) for o, t in zip(outs, targets)]
    kept = [np.inf if np.array_equal(grey_of(t), grey_of(o))
            else peak_signal_noise_ratio(grey_of(t), grey_of(o), data_range=255) for o, t in zip(outs, targets)]
    return {"psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim)), "kept": float(np.mean(kept)),
            "colour": float(np.mean([colourfulness(o) for o in outs]))}


def as_input(grey: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) -> float (1, H, W) in [-1, 1], as translate reads it."""
    return torch.from_numpy(grey.copy())[None].float() / 127.5 - 1


def run_steps(run: Path) -> str:
    """The steps a run trained, from its metrics.jsonl (the last step logged)."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return f"{max(r['step'] for r in rows if 'step' in r)} steps"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--l1", type=Path, required=True, help="the L1-only run (--preset gray2color --gan-weight 0)")
    p.add_argument("--gan", type=Path, required=True, help="the gray2color run")
    p.add_argument("--picture", type=Path, help="write grey | L1 | GAN | original of the whole photos here (.png, .jpg)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: as OMP_NUM_THREADS / all cores)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    pipes = {"L1 only": TranslatePipeline.from_pretrained(args.l1),
             "gray2color (GAN + 100 L1)": TranslatePipeline.from_pretrained(args.gan)}
    steps = {"L1 only": run_steps(args.l1), "gray2color (GAN + 100 L1)": run_steps(args.gan)}

    # whole photos
    photos = [photo(name) for name in HELD]                           # uint8 (H, W, 3)
    greys = [grey_of(x) for x in photos]
    rows = {"grey input (copied to RGB)": ([np.repeat(g[..., None], 3, 2) for g in greys], "-", "")}
    outs_by = {}
    for name, pipe in pipes.items():
        pipe(as_input(greys[0][:64, :64])[None])  # warm up before timing
        for tile, how in ((pipe.default_tile(), f"{pipe.default_tile()} px windows"), (0, "whole at once")):
            t0 = time.perf_counter()
            outs = [pipe(as_input(g)[None], tile=tile, output_type="np")[0] for g in greys]
            secs = (time.perf_counter() - t0) / len(greys)
            rows[f"{name}, {how}"] = (outs, steps[name], f"{secs:.2f}")
            outs_by.setdefault(name, outs)  # the windows: translate's default
    rows["originals"] = (photos, "-", "")
    print(f"\nwhole held-out photos ({', '.join(f'{n} {x.shape[1]}x{x.shape[0]}' for n, x in zip(HELD, photos))}), "
          "means over the two")
    print("| output | trained | s / photo | PSNR dB | SSIM | colourfulness | L kept dB |")
    print("|---|---|---|---|---|---|---|")
    for label, (outs, st, secs) in rows.items():
        if label == "originals":
            print(f"| {label} | - | - | - | - | {np.mean([colourfulness(x) for x in photos]):.1f} | - |")
            continue
        s = scores(outs, photos)
        print(f"| {label} | {st} | {secs or '-'} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['colour']:.1f} | "
              f"{s['kept']:.2f} |")
    for i, n in enumerate(HELD):  # per photo: PSNR dB / colourfulness
        cells = [f"{label} {scores([outs[i]], [photos[i]])['psnr']:.2f} / {colourfulness(outs[i]):.1f}"
                 for label, (outs, _, _) in rows.items() if label != "originals"]
        print(f"{n} (PSNR dB / colourfulness; original {colourfulness(photos[i]):.1f}): " + "; ".join(cells))

    # held-out tiles
    data = load_paired("photos", 64, pairs="gray")
    held = data.subset(torch.nonzero(data.held)[:, 0])
    a, b = center_crop(held.a, 64), center_crop(held.b, 64)         # (36, 1, 64, 64), (36, 3, 64, 64) uint8
    targets = list(b.permute(0, 2, 3, 1).numpy())
    grey_rgb = list(a.repeat(1, 3, 1, 1).permute(0, 2, 3, 1).numpy())
    x = a.float() / 127.5 - 1
    tile_rows = {"grey input (copied to RGB)": grey_rgb}
    tile_rows.update({name: list(pipe(x, output_type="np")) for name, pipe in pipes.items()})
    print(f"\nheld-out 64 px tiles ({len(targets)}: centre crops of chelsea's and rocket's 96 px tiles), means")
    print("| output | PSNR dB | SSIM | colourfulness |")
    print("|---|---|---|---|")
    for label, outs in tile_rows.items():
        s = scores(outs, targets)
        print(f"| {label} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['colour']:.1f} |")
    print(f"| originals | - | - | {np.mean([colourfulness(t) for t in targets]):.1f} |")

    if args.picture:
        strips = [np.concatenate([np.repeat(g[..., None], 3, 2), *(o[i] for o in outs_by.values()), photos[i]], 1)
                  for i, g in enumerate(greys)]
        w = max(s.shape[1] for s in strips)
        board = np.concatenate([np.pad(s, ((0, 4), (0, w - s.shape[1]), (0, 0)), constant_values=255) for s in strips])
        Image.fromarray(board).resize((board.shape[1] // 2, board.shape[0] // 2), Image.Resampling.LANCZOS) \
            .save(args.picture)
        print(f"\nwrote {args.picture}: grey | {' | '.join(outs_by)} | original, at half size")


if __name__ == "__main__":
    main()

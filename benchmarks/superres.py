"""x4 super-resolution on held-out photos: bicubic, the L1 model (SRResNet) and the GAN model (ESRGAN stage).

    python benchmarks/superres.py --l1 runs/photos-srresnet-x4 --gan runs/photos-esrgan-x4
    python benchmarks/superres.py --l1 RUN --gan RUN --no-speed     # quality only (a few seconds)
    python benchmarks/superres.py --l1 RUN --speed-only             # 2,000 x 1,500 input: MP/s, peak RSS

Quality: scikit-image's held-out photos (ganforge.data.superres.HELD_OUT: chelsea, rocket,
camera, coins; never cut into training tiles), each cropped to a multiple of the scale and
made small as in training (Pillow BICUBIC, antialiased). Bicubic is Pillow's BICUBIC back up.
PSNR and SSIM by skimage.metrics, as the SR papers report them: on Y (ITU-R BT.601, 16..235,
skimage.color.rgb2ycbcr) and on RGB, both with a border of `scale` pixels cropped, per image
then averaged; data range 255. The models run as `ganforge upscale` runs them
(UpscalePipeline, uint8 out). A side-by-side crop (input | bicubic | L1 | GAN | original)
is written to --crop.

Speed: one 2,000 x 1,500 input (chelsea enlarged to that size) upscaled by the first model
given, with the default tiles, in a fresh process: seconds, input and output megapixels a
second, and the process's peak resident memory (ru_maxrss) against its size before.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganforge.data.superres import HELD_OUT, bicubic_resize, downscale, photo
from ganforge.pipelines.upscale import DEFAULT_TILE, UpscalePipeline

SPEED_SIZE = (1500, 2000)  # (h, w) of the speed test's input
CROP = ("chelsea", 60, 140, 96)  # photo, top, left, side (output pixels) of the side-by-side crop


def scores(out: np.ndarray, ref: np.ndarray, border: int) -> dict[str, float]:
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    out, ref = out[border:-border, border:-border], ref[border:-border, border:-border]
    y_out, y_ref = rgb2ycbcr(out)[..., 0], rgb2ycbcr(ref)[..., 0]  # float, 16..235
    return {"psnr_y": peak_signal_noise_ratio(y_ref, y_out, data_range=255),
            "ssim_y": structural_similarity(y_ref, y_out, data_range=255),
            "psnr_rgb": peak_signal_noise_ratio(ref, out, data_range=255),
            "ssim_rgb": structural_similarity(ref, out, data_range=255, channel_axis=-1)}


def upscaler(pipe: UpscalePipeline):
    def run(small: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(small.copy()).permute(2, 0, 1).float() / 127.5 - 1
        return pipe(x, output_type="np")
    return run


def quality(models: dict[str, UpscalePipeline], scale: int, crop_path: Path) -> None:
    methods = {"bicubic": lambda small: bicubic_resize(small, (small.shape[0] * scale, small.shape[1] * scale)),
               **{name: upscaler(pipe) for name, pipe in models.items()}}
    results: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    shown: list[np.ndarray] = []
    for name in HELD_OUT:
        image = photo(name, 3)
        small = downscale(image, scale)
        ref = image[:small.shape[0] * scale, :small.shape[1] * scale]
        outs = {method: run(small) for method, run in methods.items()}
        for method, out in outs.items():
            results[method].append(scores(out, ref, scale))
        if name == CROP[0]:  # the input with its pixels shown (nearest), each method, the original
            shown = [np.kron(small, np.ones((scale, scale, 1), np.uint8)), *outs.values(), ref]
    print(f"x{scale} on {', '.join(HELD_OUT)} (held out), border {scale} px cropped; per image, then the mean")
    print("| method | PSNR Y | SSIM Y | PSNR RGB | SSIM RGB |\n|---|---|---|---|---|")
    for method, rows in results.items():
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        print(f"| {method} | {mean['psnr_y']:.2f} | {mean['ssim_y']:.4f} | {mean['psnr_rgb']:.2f} | "
              f"{mean['ssim_rgb']:.4f} |")
    _, top, left, side = CROP
    tiles = [im[top:top + side, left:left + side] for im in shown]
    strip = np.concatenate([np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in tiles], axis=1)
    Image.fromarray(strip).resize((strip.shape[1] * 2, strip.shape[0] * 2), Image.Resampling.NEAREST).save(crop_path)
    print(f"side by side ({' | '.join(['input (pixels shown)', *methods, 'original'])}): {crop_path}")


def speed(model: str) -> dict[str, float]:
    """In this (fresh) process: upscale one 2,000 x 1,500 image; time and peak memory."""
    pipe = UpscalePipeline.from_pretrained(model)
    image = bicubic_resize(photo(CROP[0], 3), SPEED_SIZE)
    x = torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 127.5 - 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux reports kB)
    start = time.perf_counter()
    out = pipe(x, tile=DEFAULT_TILE, output_type="np", progress=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mp_in = SPEED_SIZE[0] * SPEED_SIZE[1] / 1e6
    return {"seconds": seconds, "input_mp_per_s": mp_in / seconds, "output_mp_per_s": out.shape[0] * out.shape[1] / 1e6 / seconds,
            "rss_before_mb": before, "peak_rss_mb": peak, "output": f"{out.shape[1]}x{out.shape[0]}",
            "threads": torch.get_num_threads(), "tile": DEFAULT_TILE}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--l1", help="the L1 (PSNR-oriented) model: an export or run")
    p.add_argument("--gan", help="the GAN-stage model")
    p.add_argument("--crop", type=Path, default=Path("benchmarks/superres_crop.png"))
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--speed-only", action="store_true")
    p.add_argument("--speed-child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.speed_child:
        print(json.dumps(speed(args.speed_child)))
        return
    models = {n: UpscalePipeline.from_pretrained(m) for n, m in (("L1 model", args.l1), ("GAN model", args.gan)) if m}
    if not models:
        p.error("give --l1 and/or --gan")
    scales = {pipe.scale for pipe in models.values()}
    if len(scales) != 1:
        p.error(f"the models upscale by different factors: {sorted(scales)}")
    if not args.speed_only:
        quality(models, scales.pop(), args.crop)
    if not args.no_speed:
        model = args.l1 or args.gan
        child = subprocess.run([sys.executable, __file__, "--speed-child", model], capture_output=True, text=True,
                               check=True)
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"speed ({model}): {SPEED_SIZE[1]}x{SPEED_SIZE[0]} -> {r['output']} in {r['seconds']:.1f} s: "
              f"{r['input_mp_per_s']:.3f} input MP/s, {r['output_mp_per_s']:.2f} output MP/s; peak RSS "
              f"{r['peak_rss_mb']:.0f} MB ({r['rss_before_mb']:.0f} MB before); tile {r['tile']}, "
              f"{r['threads']} thread(s)")


if __name__ == "__main__":
    main()

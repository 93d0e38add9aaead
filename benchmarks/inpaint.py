"""Repair (inpainting) on held-out Fashion-MNIST: biharmonic, the L1-only network and the GAN.

    python benchmarks/inpaint.py --l1 runs/fashion-repair-l1 --gan runs/fashion-repair
    python benchmarks/inpaint.py --l1 RUN --gan RUN --n 200          # quicker

Images: the first --n of Fashion-MNIST's test split (never seen in training: the runs train
on the train split). Fixed masks, the same for every method, made by code, not files
(ganforge.data.masks.fixed): `centre`, the centre 14 x 14 square (a quarter of the image,
context encoders' test), and `strokes`, free-form strokes drawn from seed 1.
Methods: skimage.restoration.inpaint_biharmonic (the classical baseline), and the models as
`ganforge repair` runs them (RepairPipeline: known pixels kept bitwise); a "grey" row is the
holed input itself (hole at 128), the floor.
Scores, on 0..255 images: relative L1 = sum |out - ref| / sum |ref| over the region (all
images pooled: per image it is unbounded where the hole is black background); PSNR per image
(MSE over the region), then the mean; SSIM by skimage.metrics (7 x 7 windows, data range
255): the whole image's, and its SSIM map averaged over the hole. Class kept: the share of
images whose repaired version the shipped fashion-mnist classifier (ganforge/metrics)
puts in the class it gives the original.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ganforge.data import load_data, masks
from ganforge.metrics.classifiers import load_classifier
from ganforge.pipelines.repair import RepairPipeline

KINDS = ("centre", "strokes")


def biharmonic(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic
    out = inpaint_biharmonic(image.astype(np.float64) / 255, mask)
    return np.where(mask, (out * 255).round().clip(0, 255), image).astype(np.uint8)


def grey(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 128, image).astype(np.uint8)


def scores(outs: np.ndarray, refs: np.ndarray, holes: np.ndarray) -> dict[str, float]:
    """outs, refs uint8 (N, H, W), holes bool (N, H, W)."""
    from skimage.metrics import structural_similarity
    o, r = outs.astype(np.float64), refs.astype(np.float64)
    err = np.abs(o - r)
    rows = {"rel_l1_hole": err[holes].sum() / max(r[holes].sum(), 1.0), "rel_l1": err.sum() / max(r.sum(), 1.0)}
    sq = (o - r) ** 2
    mse_hole = np.array([s[h].mean() for s, h in zip(sq, holes)])
    mse = sq.reshape(len(sq), -1).mean(1)
    psnr = lambda m: float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(m, 1e-10))))  # noqa: E731
    rows["psnr_hole"], rows["psnr"] = psnr(mse_hole), psnr(mse)
    ssim, ssim_hole = [], []
    for a, b, h in zip(outs, refs, holes):
        value, full = structural_similarity(b, a, data_range=255, full=True)
        ssim.append(value)
        ssim_hole.append(full[h].mean())
    rows["ssim_hole"], rows["ssim"] = float(np.mean(ssim_hole)), float(np.mean(ssim))
    return rows


@torch.no_grad()
def class_kept(classifier, outs: np.ndarray, refs: np.ndarray) -> float:
    pred = lambda x: classifier(torch.from_numpy(x)[:, None]).argmax(1)  # noqa: E731  (uint8 (N, 1, H, W))
    return float((pred(outs) == pred(refs)).float().mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--l1", help="the L1-only model (train --preset fashion-repair --gan-weight 0)")
    p.add_argument("--gan", help="the GAN model (train --preset fashion-repair)")
    p.add_argument("--n", type=int, default=1000, help="test images (default 1000)")
    args = p.parse_args()
    data = load_data("fashion-mnist", 28, 1, split="test")
    refs = data.x[:args.n, 0].numpy()                                       # (N, 28, 28) uint8
    classifier = load_classifier("fashion-mnist")
    methods = {"grey (holed input)": grey, "biharmonic": biharmonic}
    for name, run in (("L1 network", args.l1), ("GAN", args.gan)):
        if run:
            pipe = RepairPipeline.from_pretrained(run)
            methods[name] = lambda image, mask, pipe=pipe: pipe(image, mask)
    base = class_kept(classifier, refs, refs)
    labels = (classifier(torch.from_numpy(refs)[:, None]).argmax(1) == data.y[:args.n]).float().mean()
    print(f"Fashion-MNIST test images 0..{args.n - 1}, 28 px; the classifier is right on {float(labels):.1%} of "
          f"the originals (class kept {base:.0%} by definition); {torch.get_num_threads()} thread(s)")
    print("| masks | method | rel. L1 hole | rel. L1 all | PSNR hole | PSNR all | SSIM hole | SSIM all | "
          "class kept | s |\n|---|---|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        holes = masks.fixed(kind, args.n, 28, 28, seed=1).numpy()
        for name, method in methods.items():
            start = time.perf_counter()
            outs = np.stack([method(im, m) for im, m in zip(refs, holes)])
            seconds = time.perf_counter() - start
            assert (outs[~holes] == refs[~holes]).all(), name  # only the hole may change
            s = scores(outs, refs, holes)
            print(f"| {kind} ({holes.mean():.0%}) | {name} | {s['rel_l1_hole']:.3f} | {s['rel_l1']:.3f} | "
                  f"{s['psnr_hole']:.2f} | {s['psnr']:.2f} | {s['ssim_hole']:.3f} | {s['ssim']:.3f} | "
                  f"{class_kept(classifier, outs, refs):.1%} | {seconds:.1f} |")


if __name__ == "__main__":
    main()

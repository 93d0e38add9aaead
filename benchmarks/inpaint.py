"""Repair (inpainting) on held-out Fashion-MNIST: biharmonic, the L1-only network and the GAN.

    python benchmarks/inpaint.py --l1 runs/fashion-repair-l1 --gan runs/fashion-repair
    python benchmarks/inpaint.py --l1 RUN --gan RUN --n 200          # quicker
    python benchmarks/inpaint.py --photos-l1 RUN --photos-gan RUN    # held-out photos (photos-repair)

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

Photos (--photos-l1/--photos-gan, models of the photos-repair preset): scikit-image's held-out
photos (chelsea, rocket, camera, coins: never cut into training tiles) at their own size, RGB;
masks `box`, the centre 64 x 64 square (the training patch's side), and `strokes`, strokes of a
128 x 128 canvas (seed 1) placed at the centre. The models fill them as `ganforge repair` does
(cells of the training size around the hole). Scores as above (SSIM over RGB, channel_axis).
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
    rgb = {"channel_axis": -1} if image.ndim == 3 else {}
    out = inpaint_biharmonic(image.astype(np.float64) / 255, mask, **rgb)
    hole = mask[..., None] if image.ndim == 3 else mask
    return np.where(hole, (out * 255).round().clip(0, 255), image).astype(np.uint8)


def grey(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask[..., None] if image.ndim == 3 else mask, 128, image).astype(np.uint8)


def photo_masks(kind: str, h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    if kind == "box":
        mask[h // 2 - 32:h // 2 + 32, w // 2 - 32:w // 2 + 32] = True
    else:
        mask[h // 2 - 64:h // 2 + 64, w // 2 - 64:w // 2 + 64] = masks.fixed("strokes", 1, 128, 128, seed=1)[0].numpy()
    return mask


def photos(runs: dict[str, str]) -> None:
    from ganforge.data.superres import HELD_OUT, photo
    refs = [photo(name, 3) for name in HELD_OUT]
    methods = {"grey (holed input)": grey, "biharmonic": biharmonic}
    for name, run in runs.items():
        if run:
            pipe = RepairPipeline.from_pretrained(run)
            methods[name] = lambda image, mask, pipe=pipe: pipe(image, mask)
    print(f"photos held out ({', '.join(HELD_OUT)}), at their own size, RGB; {torch.get_num_threads()} thread(s)")
    print("| masks | method | rel. L1 hole | rel. L1 all | PSNR hole | PSNR all | SSIM hole | SSIM all | s |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for kind in ("box", "strokes"):
        holes = [photo_masks(kind, *r.shape[:2]) for r in refs]
        for name, method in methods.items():
            start = time.perf_counter()
            outs = [method(im, m) for im, m in zip(refs, holes)]
            seconds = time.perf_counter() - start
            assert all((o[~m] == r[~m]).all() for o, r, m in zip(outs, refs, holes)), name
            s = scores(outs, refs, holes)
            share = np.mean([m.mean() for m in holes])
            print(f"| {kind} ({share:.1%}) | {name} | {s['rel_l1_hole']:.3f} | {s['rel_l1']:.3f} | "
                  f"{s['psnr_hole']:.2f} | {s['psnr']:.2f} | {s['ssim_hole']:.3f} | {s['ssim']:.3f} | {seconds:.1f} |")


def scores(outs, refs, holes) -> dict[str, float]:
    """outs, refs uint8 (N, H, W) or a list of (H, W, 3); holes bool (N, H, W) or a list."""
    from skimage.metrics import structural_similarity
    o, r = [x.astype(np.float64) for x in outs], [x.astype(np.float64) for x in refs]
    err = [np.abs(a - b) for a, b in zip(o, r)]
    rows = {"rel_l1_hole": sum(e[h].sum() for e, h in zip(err, holes)) / max(sum(b[h].sum() for b, h in zip(r, holes)), 1),
            "rel_l1": sum(e.sum() for e in err) / max(sum(b.sum() for b in r), 1.0)}
    sq = [e ** 2 for e in err]
    mse_hole = np.array([s[h].mean() for s, h in zip(sq, holes)])
    mse = np.array([s.mean() for s in sq])
    psnr = lambda m: float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(m, 1e-10))))  # noqa: E731
    rows["psnr_hole"], rows["psnr"] = psnr(mse_hole), psnr(mse)
    ssim, ssim_hole = [], []
    for a, b, h in zip(outs, refs, holes):
        rgb = {"channel_axis": -1} if a.ndim == 3 else {}
        value, full = structural_similarity(b, a, data_range=255, full=True, **rgb)
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
    p.add_argument("--photos-l1", help="an L1-only photos-repair model")
    p.add_argument("--photos-gan", help="a photos-repair GAN model")
    args = p.parse_args()
    if args.photos_l1 or args.photos_gan:
        photos({"L1 network": args.photos_l1, "GAN": args.photos_gan})
    if not (args.l1 or args.gan):
        return
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

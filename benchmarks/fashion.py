"""Time to quality on Fashion-MNIST: each preset trains for a fixed wall-clock budget.

    python benchmarks/fashion.py                          # fashion-dcgan and fashion-cgan, 10 min each
    python benchmarks/fashion.py --minutes 3 --presets fashion-dcgan

For each preset it prints the steps and images/s reached in the budget and the quality of
the exported EMA generator, measured as `ganforge evaluate` does with the shipped
Fashion-MNIST classifier's features (`fashion-mnist-cnn`, named in the table): FID and KID
against 10,000 training images, classes covered and reverse KL of the predicted-class
histogram, and for the conditional preset the accuracy of the classifier on its samples
of each asked-for class. Sample grids (one row per class for cGAN) are kept under --out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ganforge.config import preset_config
from ganforge.evaluate import evaluate
from ganforge.training.trainer import Trainer


@torch.no_grad()
def class_accuracy(model_dir: Path, n_per_class: int = 500) -> float:
    """Conditional models: how often the domain classifier sees the class that was asked for."""
    import ganforge
    from ganforge.metrics.features import get_extractor

    G = ganforge.load(model_dir)
    classifier = get_extractor("fashion-mnist-cnn")
    labels = torch.arange(G.c_dim).repeat_interleave(n_per_class)
    z = torch.randn(len(labels), G.z_dim, generator=torch.Generator().manual_seed(0))
    hits = 0
    for i in range(0, len(labels), 500):
        _, logits = classifier(G(z[i:i + 500], labels[i:i + 500]))
        hits += int((logits.argmax(1) == labels[i:i + 500]).sum())
    return hits / len(labels)


def real_floor(n: int) -> float:
    """FID of real test images against the real training reference: the best a model can hope for."""
    from ganforge.data import load_data
    from ganforge.metrics import fid
    from ganforge.metrics.features import extract
    from ganforge.metrics.reference import reference_stats

    reference = reference_stats("fashion-mnist", "fashion-mnist-cnn", n=n, resolution=28, channels=1)
    test = load_data("fashion-mnist", 28, 1, split="test").x[:n].float() / 127.5 - 1
    return fid(reference.features, extract("fashion-mnist-cnn", test).features)


def run(preset: str, minutes: float, out: Path, n: int) -> dict:
    cfg = preset_config(preset)
    cfg.train.minutes, cfg.train.steps = minutes, 10**9  # the budget decides where it stops
    cfg.train.sample_every = 250
    t0 = time.perf_counter()
    trainer = Trainer(cfg, out / preset, force=True, progress=True)
    model_dir = trainer.fit()
    seconds = time.perf_counter() - t0
    quality = evaluate(out / preset, ["fid", "kid", "modes"], n=n)["metrics"]
    row = {"preset": preset, "steps": trainer.step, "seconds": seconds,
           "images_per_s": trainer.step * cfg.train.batch_size / seconds, **quality}
    if trainer.G.c_dim:
        row["class_accuracy"] = class_accuracy(model_dir)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="training budget per preset (default 10)")
    p.add_argument("--presets", default="fashion-dcgan,fashion-cgan")
    p.add_argument("--n", type=int, default=10_000, help="samples per side for the metrics")
    p.add_argument("--out", type=Path, default=Path("runs/bench-fashion"))
    args = p.parse_args()
    rows = [run(preset, args.minutes, args.out, args.n) for preset in args.presets.split(",")]
    for row in rows:
        print(json.dumps(row))
    print(f"\n{args.minutes:g} min per preset on {torch.get_num_threads()} threads; metrics on {args.n} samples "
          f"per side with fashion-mnist-cnn features; real test images score FID {real_floor(args.n):.2f} "
          "against the same training reference (the floor)")
    print("| preset | steps | images/s | FID | KID | classes covered | reverse KL | class accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        acc = f"{100 * r['class_accuracy']:.1f} %" if "class_accuracy" in r else "-"
        print(f"| {r['preset']} | {r['steps']} | {r['images_per_s']:.0f} | {r['fid']:.2f} | {r['kid_mean']:.4f} | "
              f"{r['classes_covered']:.0f}/10 | {r['reverse_kl']:.3f} | {acc} |")
    print(f"\nsample grids: {args.out}/<preset>/samples/latest.png")


if __name__ == "__main__":
    main()

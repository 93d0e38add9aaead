"""Does a class-conditional GAN make a small labelled set worth more? (issue 18)

Fashion-MNIST at 60 and 600 labelled images per class: the same small CNN
(ganforge/augmentation/classifier.py) trained on real, real + classical augmentation,
real + GAN samples, real + classical + GAN, tested on the official 10,000-image test split;
mean ± sd over subset seeds (each seed: its own subset, GAN, synthetic samples, classifiers).
Then which filter helped (none, discriminator, classifier at 60/class, first seed, real + GAN),
and one class (shirt, 6) cut to 5 % of the others at 600/class: its recall with and without
synthetic samples. Every finished section is printed at once (a stopped run keeps them).

    OMP_NUM_THREADS=1 nice python benchmarks/augment.py --seeds 5 --seeds-600 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

from ganforge.augmentation import classifier, evaluate
from ganforge.pipelines.augment import AugmentPipeline, AugmentSettings


def pipeline(tmp: str, **kw) -> AugmentPipeline:
    return AugmentPipeline(AugmentSettings("fashion-mnist", out=f"{tmp}/{time.time_ns()}", **kw))


def four_rows(tmp: str, per_class: int, seeds: int, keep_first: bool = False):
    pipe, per_seed, first = pipeline(tmp, per_class=per_class), [], None
    for seed in range(seeds):
        t = time.perf_counter()
        run = pipe.run_seed(seed, need_real_model=True)
        rows = evaluate.rows_for_seed(run.real, run.synthetic, (pipe.data.test.x, pipe.data.test.y), 10,
                                      pipe.flips, seed, real_model=run.real_model)
        per_seed.append(rows)
        print(f"# {per_class}/class seed {seed}: " + ", ".join(f"{r} {v['accuracy']:.2f}" for r, v in rows.items())
              + f" (GAN {run.gan_seconds:.0f} s, seed total {time.perf_counter() - t:.0f} s)", flush=True)
        first = first or (pipe, run)
    table = evaluate.summarise(per_seed)
    print(f"\n## Fashion-MNIST, {per_class} labelled images per class\n{evaluate.format_table(table)}")
    gap = [s["real + GAN"]["accuracy"] - s["real + classical"]["accuracy"] for s in per_seed]
    both = [s["real + classical + GAN"]["accuracy"] - s["real + classical"]["accuracy"] for s in per_seed]
    print(f"GAN - classical: {sum(gap) / len(gap):+.2f} points; classical + GAN - classical: "
          f"{sum(both) / len(both):+.2f} points\n", flush=True)
    return table, first


def filters(pipe: AugmentPipeline, run) -> dict:
    test = (pipe.data.test.x, pipe.data.test.y)
    out = {}
    print("## Filters, 60/class, seed 0, real + GAN (keep 0.5 of those generated)")
    for name in ("none", "discriminator", "classifier"):
        syn = pipe.synthesise(run.G, run.D, run.real_model, run.seed, filter=name, keep=0.5)
        model = classifier.fit(*run.real, 10, run.seed, flips=pipe.flips, synthetic=syn)
        out[name] = classifier.scores(model, *test, 10)["accuracy"]
        print(f"{name:<14}{out[name]:6.2f}", flush=True)
    return out


def minority(tmp: str, per_class: int, cls: int = 6) -> dict:
    pipe = pipeline(tmp, per_class=per_class, minority=cls, minority_share=0.05)
    run = pipe.run_seed(0, need_real_model=True)
    test = (pipe.data.test.x, pipe.data.test.y)
    without = classifier.scores(run.real_model, *test, 10)
    model = classifier.fit(*run.real, 10, 0, flips=pipe.flips, synthetic=run.synthetic)
    with_syn = classifier.scores(model, *test, 10)
    name = pipe.data.class_names[cls]
    print(f"## Imbalance: {name} cut to {pipe.counts[cls]} of {per_class} (5 %), seed 0; "
          f"{pipe.wanted()[cls]} synthetic {name}s, {pipe.wanted()[0]} of each other class")
    print(f"real only   : accuracy {without['accuracy']:.2f}, recall of {name} {without['recall'][cls]:.1f}")
    print(f"real + GAN  : accuracy {with_syn['accuracy']:.2f}, recall of {name} {with_syn['recall'][cls]:.1f}",
          flush=True)
    return {"without": without, "with": with_syn}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=5, help="subset seeds at 60 per class")
    p.add_argument("--seeds-600", type=int, default=5, help="subset seeds at 600 per class")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    print(f"torch threads {torch.get_num_threads()}; GAN: preset augment-cgan; classifier: "
          f"{classifier.STEPS} steps, shifts up to {classifier.SHIFT:.3f} of the side, synthetic share of a batch "
          f"{classifier.SYNTHETIC_SHARE}", flush=True)
    start, results = time.perf_counter(), {}
    with tempfile.TemporaryDirectory() as tmp:
        results["60"], (pipe, run) = four_rows(tmp, 60, args.seeds)
        results["filters"] = filters(pipe, run)
        results["minority"] = minority(tmp, 600)
        results["600"], _ = four_rows(tmp, 600, args.seeds_600)
    print(f"whole benchmark: {(time.perf_counter() - start) / 60:.1f} minutes")
    if args.json:
        open(args.json, "w").write(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

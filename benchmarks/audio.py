"""WaveGAN and SpecGAN (Donahue et al. 2019, Table 1) on the spoken digits, measured as the
paper measures SC09 models: the Inception score of a digit classifier and a feature distance,
with ganforge's spoken-digit classifier (ganforge/metrics/speech_classifier.py).

    python benchmarks/audio.py                          # digits-wavegan and digits-specgan, 30 minutes each
    python benchmarks/audio.py --models wavegan --minutes 60
    python benchmarks/audio.py --steps 1500             # a step budget instead: what an idle machine reaches
                                                        # in the time, on a machine shared with other work
    python benchmarks/audio.py --quick                  # a smoke run: a few steps, a few clips
    python benchmarks/audio.py --models ""              # the data rows only (no training)

Rows: the training clips themselves (their own IS: what a perfect generator would score),
other clips of the same recipe (FID's floor: two samples of one distribution), the training
clips through SpecGAN's representation and back (Griffin-Lim: the ceiling of any SpecGAN), then each preset trained for --minutes (its time budget) with --seed, its exported
EMA generator writing --samples clips through AudioPipeline. Columns: IS (10 splits), FID in
the classifier's 64-d features against the training clips, the classifier's accuracy on the
held-out synthetic voices and on Asterisk's 10 real digits (how far the classifier itself
carries), steps trained, and generation speed (clips a second, batch 256).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch

from ganforge.config import merge, preset_config
from ganforge.data import load_data
from ganforge.data.spectrogram import SpectrogramCoder
from ganforge.metrics.audio import audio_metrics, clip_features
from ganforge.metrics.speech_classifier import load_speech_classifier
from ganforge.pipelines.audio import AudioPipeline
from ganforge.training.trainer import Trainer

PRESETS = {"wavegan": "digits-wavegan", "specgan": "digits-specgan"}


def train(model: str, minutes: float, steps: int, out: Path, seed: int, quick: bool) -> tuple[Path, int, float]:
    """The preset trained for `minutes`, or `steps` when given (or 4 steps, --quick); a finished run
    is reused. Returns the run, the steps it trained and the minutes they took (NaN if reused)."""
    run = out / model
    start, trained_now = time.perf_counter(), not (run / "model" / "config.json").is_file()
    if trained_now:
        budget = {"steps": steps, "minutes": 0.0} if steps else {"minutes": minutes}
        overrides = {"train": {**budget, "seed": seed, "eval_every": 0}}
        if quick:
            overrides = {"data": {"clips_per_word": 20},
                         "train": {"steps": 4, "seed": seed, "eval_every": 0, "eval_samples": 32,
                                   "sample_every": 4, "checkpoint_every": 4}}
        Trainer(merge(preset_config(PRESETS[model]), overrides), run, force=run.exists()).fit()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    minutes_taken = (time.perf_counter() - start) / 60 if trained_now else math.nan
    return run, max((r["step"] for r in rows if "step" in r), default=-1), minutes_taken


def row(name: str, when: str, clips: torch.Tensor, rate: int, classifier, real: torch.Tensor,
        speed: float | None = None) -> tuple:
    m = audio_metrics(*clip_features(classifier, clips, rate), real)
    return name, when, len(clips), m["is_mean"], m["is_std"], m["fid"], speed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="wavegan,specgan")
    p.add_argument("--minutes", type=float, default=30.0, help="each preset's time budget (default 30)")
    p.add_argument("--steps", type=int, default=0, help="train each preset this many steps instead of --minutes")
    p.add_argument("--samples", type=int, default=5000, help="generated clips per model (default 5,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/bench-audio"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    samples = 200 if args.quick else args.samples
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))

    per_word = 20 if args.quick else preset_config("digits-wavegan").data.clips_per_word
    data = load_data("spoken-digits", clips_per_word=per_word, cache_dir=args.out / ".ganforge-cache")
    classifier = load_speech_classifier()
    real, _ = clip_features(classifier, data.x, data.sample_rate)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))  # (IS splits: mixed digits)
    rows = [row("spoken digits (training clips; FID: themselves)", "", data.x[order], data.sample_rate, classifier,
                real)]
    from ganforge.metrics.train_speech_classifier import synthetic
    other, _ = synthetic(max(1, samples // 10), seed=1)  # other voice, speed and pitch draws
    rows.append(row("  other clips of the same recipe (synthesis seed 1)", "", other[torch.randperm(len(other))],
                    data.sample_rate, classifier, real))
    coder = SpectrogramCoder.fit(data.x)
    through = coder.decode(coder.encode(data.x[order][:samples]))
    rows.append(row("  the same through spectrograms + Griffin-Lim", "", through, data.sample_rate, classifier, real))
    for model in [m for m in args.models.split(",") if m]:
        run, steps, minutes = train(model, args.minutes, args.steps, args.out, args.seed, args.quick)
        pipe = AudioPipeline.from_pretrained(run)
        start = time.perf_counter()
        clips = pipe(samples, seed=1, batch_size=256)
        speed = samples / (time.perf_counter() - start)
        rows.append(row(PRESETS[model], f"{steps} steps, {minutes:.1f} min", clips, pipe.sample_rate, classifier, real, speed))
        print_table(rows, classifier.metadata)  # after each model: a long run's partial results stay readable
    if not [m for m in args.models.split(",") if m]:
        print_table(rows, classifier.metadata)


def print_table(rows: list, meta: dict) -> None:
    print("| rows | training | clips | IS | FID (classifier features) | generation |")
    print("|---|---|---|---|---|---|")
    for name, when, n, is_mean, is_std, fid, speed in rows:
        fid_text = "n/a" if math.isnan(fid) else f"{fid:.2f}"
        gen = f"{speed:,.0f} clips/s" if speed else ""
        print(f"| {name} | {when} | {n:,} | {is_mean:.2f} ± {is_std:.2f} | {fid_text} | {gen} |")
    real = meta.get("asterisk_accuracy")
    real = f"{100 * real:.0f} % of Asterisk's 10 real digits" if real is not None else "Asterisk's digits not installed"
    print(f"\nclassifier: {100 * meta['test_accuracy']:.1f} % on {meta['test_split']}; {real}; "
          f"{torch.get_num_threads()} thread(s)\n", flush=True)


if __name__ == "__main__":
    main()

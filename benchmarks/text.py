"""Language GANs against maximum likelihood, measured as Caccia et al. (2020) ask: every method
at sampling temperatures 0.5..1.5, beside an MLE model of the same size.

    python benchmarks/text.py oracle            # SeqGAN's synthetic oracle: NLL_oracle, NLL_test
    python benchmarks/text.py shakespeare       # characters: BLEU-2..4 vs held-out lines, self-BLEU
    python benchmarks/text.py fortunes          # words: the same
    python benchmarks/text.py oracle --quick    # a smoke run: a few steps, a few samples
    python benchmarks/text.py shakespeare --methods random,mle --mle-steps 300 --samples 1000

Rows (the presets text-oracle, shakespeare-chars, fortunes-words give the models and rates):
  random   the untrained G
  mle      G by maximum likelihood alone (`--mle-steps`)
  seqgan   that MLE G, then D pre-training and SeqGAN's policy gradient (`--adv-steps`)
  gumbel   that MLE G, then the Gumbel-softmax GAN with RSGAN's loss (`--adv-steps` x 4: its
           steps are ~4x cheaper than SeqGAN's roll-outs)
The GAN rows start from the MLE row's exported G (Trainer(models=...)), so they share its
pre-training exactly; their training time includes it. Each model draws --samples sequences
(10,000 on the oracle, as SeqGAN) at each temperature: NLL_oracle is the oracle's NLL per token
of them, NLL_test the model's (tempered) NLL per token of the 2,000 held-out oracle sequences.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch

from ganforge import modeling
from ganforge.config import merge, preset_config
from ganforge.domains.text import TextDomain, TextEvaluation
from ganforge.training.trainer import Trainer

PRESET = {"oracle": "text-oracle", "shakespeare": "shakespeare-chars", "fortunes": "fortunes-words"}
TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5)
PAPER = {"random": 10.310, "mle": 9.038, "seqgan": 8.736}  # SeqGAN's Table 1, NLL_oracle on its oracle


def config(task: str, game: str, steps: int, args, **game_cfg):
    over = {"game": {"name": game, "pretrain_steps": 0, **game_cfg},
            "train": {"steps": steps, "seed": args.seed, "threads": 1, "sample_every": max(1, steps // 4),
                      "checkpoint_every": steps, "eval_every": 0, "eval_samples": 2}}
    return merge(preset_config(PRESET[task]), over)


def train(cfg, run: Path, models=None):
    """(the exported G, seconds, the trainer's data)"""
    start = time.perf_counter()
    trainer = Trainer(cfg, run, force=True, progress=False, models=models)
    trainer.fit()
    return modeling.load(run / "model"), time.perf_counter() - start, trainer.data, trainer


def rows(task: str, args):
    """Yield (method, G, training seconds, data) for each method."""
    mle_steps, adv = (20, 2) if args.quick else (args.mle_steps, args.adv_steps)
    cfg = config(task, "mle", mle_steps, args)
    G_mle, t_mle, data, trainer = train(cfg, args.out / task / "mle")
    torch.manual_seed(args.seed)
    G0, _ = type(trainer.game)(trainer.ctx, data).networks()  # a fresh, untrained G of the same size
    yield "random", G0, 0.0, data
    yield "mle", G_mle, t_mle, data
    for game, steps, extra in (("seqgan", adv, {"d_pretrain_steps": 10 if args.quick else 100}),
                               ("gumbel", 4 * adv, {})):
        if game not in args.methods:
            continue
        cfg = config(task, game, steps + extra.get("d_pretrain_steps", 0), args, **extra)
        _, D = type(trainer.game)(trainer.ctx, data).networks()  # a fresh D
        G, t, _, _ = train(cfg, args.out / task / game, models=(copy.deepcopy(G_mle).train(), D))
        yield game, G, t_mle + t, data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=tuple(PRESET))
    p.add_argument("--mle-steps", type=int, default=1000)
    p.add_argument("--adv-steps", type=int, default=50)
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--temperatures", default=",".join(map(str, TEMPERATURES)))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/bench-text"))
    p.add_argument("--methods", default="random,mle,seqgan,gumbel", help="rows to measure (mle is always trained)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    args.methods = args.methods.split(",")
    torch.set_num_threads(1)
    temps = [float(t) for t in args.temperatures.split(",")]
    n = 200 if args.quick else args.samples
    oracle = args.task == "oracle"
    cols = ("nll_oracle", "nll_test") if oracle else ("bleu2", "bleu3", "bleu4", "self_bleu2", "self_bleu3",
                                                      "self_bleu4", "nll_test")
    print(f"| method | T | {' | '.join(cols)} | train s | measured s |")
    print("|" + "---|" * (len(cols) + 4))
    for method, G, seconds, data in rows(args.task, args):
        if method not in args.methods:
            continue
        evaluation = TextEvaluation(TextDomain(data), 0, n, args.seed)
        for t in temps:
            start = time.perf_counter()
            r = evaluation._measure(G.eval(), temperature=t)
            took = time.perf_counter() - start
            print(f"| {method} | {t:g} | {' | '.join(f'{r[c]:.3f}' for c in cols)} | {seconds:.0f} | {took:.0f} |",
                  flush=True)
    if oracle:
        print("\nSeqGAN's paper (its own oracle), NLL_oracle: " + ", ".join(f"{k} {v}" for k, v in PAPER.items()))


if __name__ == "__main__":
    main()

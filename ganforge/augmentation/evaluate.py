"""The downstream check: the same classifier (classifier.py) trained four ways, each tested
on the untouched test split; over N subset seeds, mean ± sd; and the minority class's recall
when one class was cut down."""

from __future__ import annotations

import statistics

import torch

from ganforge.augmentation import classifier

ROWS = ("real", "real + classical", "real + GAN", "real + classical + GAN")


def rows_for_seed(real: tuple[torch.Tensor, torch.Tensor], synthetic: tuple[torch.Tensor, torch.Tensor],
                  test: tuple[torch.Tensor, torch.Tensor], classes: int, flips: bool, seed: int,
                  steps: int = classifier.STEPS, synthetic_share: float | None = classifier.SYNTHETIC_SHARE,
                  real_model=None) -> dict[str, dict]:
    """{row: {"accuracy": %, "recall": [% per class]}} for one subset seed. `real_model`:
    the real-only classifier when already trained (the classifier filter trains it)."""
    out = {}
    for row in ROWS:
        gan, aug = "GAN" in row, "classical" in row
        if row == "real" and real_model is not None:
            model = real_model
        else:
            model = classifier.fit(*real, classes, seed, augment=aug, flips=flips,
                                   synthetic=synthetic if gan else None, synthetic_share=synthetic_share, steps=steps)
        out[row] = classifier.scores(model, *test, classes)
    return out


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(per_seed: list[dict[str, dict]], minority: int | None = None) -> list[dict]:
    """One record per row: accuracy mean, sd, the seeds' values; the minority's recall."""
    table = []
    for row in per_seed[0]:
        acc = [s[row]["accuracy"] for s in per_seed]
        rec = {"row": row, "seeds": len(acc), "accuracy": _mean_sd(acc), "values": acc}
        if minority is not None:
            rec["minority_recall"] = _mean_sd([s[row]["recall"][minority] for s in per_seed])
        table.append(rec)
    return table


def format_table(table: list[dict], minority_name: str | None = None) -> str:
    head = f"{'training set':<26}{'accuracy % (mean ± sd)':>24}"
    if minority_name is not None:
        head += f"{'recall of ' + minority_name:>28}"
    lines = [head, "-" * len(head)]
    for r in table:
        m, sd = r["accuracy"]
        line = f"{r['row']:<26}{f'{m:.2f} ± {sd:.2f}':>24}"
        if "minority_recall" in r:
            mr, msd = r["minority_recall"]
            line += f"{f'{mr:.1f} ± {msd:.1f}':>28}"
        lines.append(line)
    seeds = table[0]["seeds"]
    lines.append(f"({seeds} subset seed{'s' * (seeds > 1)}; sd over seeds)")
    return "\n".join(lines)

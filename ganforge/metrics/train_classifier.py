"""Train a domain classifier, seeded and deterministic, and write its shipped weights.

    python -m ganforge.metrics.train_classifier fashion-mnist
    python -m ganforge.metrics.train_classifier digits --epochs 40 --seed 0

writes ``ganforge/metrics/weights/NAME.safetensors`` with metadata: test accuracy, seed,
epochs, dataset, split sizes, ganforge and torch versions, the training time.

Splits: Fashion-MNIST uses its official 60k train / 10k test files. scikit-learn's digits
have no official split; every 4th image (index 0, 4, 8, ...: 450 images) is held out as the
test split and the other 1347 train (see `load_split`).

Runs are bit-for-bit repeatable for a given torch build and thread count (``--threads``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm.auto import tqdm

from ganforge import __version__
from ganforge.data.transforms import resize_images
from ganforge.errors import GanforgeError
from ganforge.metrics.classifiers import (
    SPECS,
    DomainClassifier,
    build_classifier,
    weights_path,
)

DIGITS_TEST_EVERY = 4  # digits: images 0, 4, 8, ... are the held-out test split
# Sizes at which the test split is also scored (loaded as `load_data(..., resolution=R)`
# would serve it to a GAN), recorded in the metadata as test_accuracy_at.
EVAL_SIZES = {"digits": (16, 32), "fashion-mnist": (32, 64)}


@dataclass(frozen=True)
class Recipe:
    """How a domain classifier is trained (also used by CAS on generated samples)."""

    epochs: int
    batch_size: int = 128
    lr: float = 3e-3             # peak of the one-cycle schedule (AdamW)
    weight_decay: float = 5e-4
    flip: bool = False           # random horizontal flips (clothes, not digits)
    shift: int = 0               # random translations of up to this many pixels
    rescale: tuple[int, ...] = ()  # sizes a batch may round-trip through (see `fit`)


RECIPES: dict[str, Recipe] = {
    "digits": Recipe(epochs=40, batch_size=64, shift=1, rescale=(16, 24, 32)),
    "fashion-mnist": Recipe(epochs=10, flip=True, shift=1),
}


def load_split(name: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A domain's split as (uint8 images (N, 1, R, R), int64 labels (N,))."""
    from ganforge.data import load_data  # data loaders import scikit-learn lazily

    if split not in ("train", "test"):
        raise GanforgeError(f"unknown split {split!r} (expected 'train' or 'test')")
    if name not in SPECS:
        raise GanforgeError(f"no domain classifier for {name!r} (expected one of: {', '.join(SPECS)})")
    if name == "digits":
        data = load_data("digits")
        held_out = torch.arange(len(data)) % DIGITS_TEST_EVERY == 0
        keep = held_out if split == "test" else ~held_out
        return data.x[keep], data.y[keep]
    data = load_data(name, split=split)
    return data.x, data.y


def augment(x: torch.Tensor, recipe: Recipe, gen: torch.Generator) -> torch.Tensor:
    """Random flips and translations of a float batch (B, 1, R, R) in [-1, 1]."""
    b, _, r, _ = x.shape
    if recipe.flip:
        flip = torch.rand(b, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    s = recipe.shift
    if s > 0:
        padded = F.pad(x, (s, s, s, s), value=-1.0)  # (B, 1, R+2s, R+2s), background is -1
        dy, dx = torch.randint(0, 2 * s + 1, (2, b), generator=gen)
        rows = dy[:, None] + torch.arange(r)          # (B, R)
        cols = dx[:, None] + torch.arange(r)          # (B, R)
        x = padded[torch.arange(b)[:, None, None], 0, rows[:, :, None], cols[:, None, :]]
        x = x.unsqueeze(1)                            # (B, 1, R, R)
    return x


def _rescale(x: torch.Tensor, recipe: Recipe, native: int, gen: torch.Generator) -> torch.Tensor:
    """With probability len(rescale) / (len(rescale) + 1), serve a uint8 batch the way
    `load_data(..., resolution=R)` serves data to a GAN trained at R px: resized to R (the
    model's input step then brings it back to its native size)."""
    if not recipe.rescale or x.dtype != torch.uint8:
        return x
    size = ((native,) + recipe.rescale)[int(torch.randint(len(recipe.rescale) + 1, (1,), generator=gen))]
    return x if size == native else resize_images(x, size)


def fit(name: str, x: torch.Tensor, y: torch.Tensor, recipe: Recipe, seed: int = 0,
        progress: bool = True, on_epoch: Callable[[int, DomainClassifier], None] | None = None
        ) -> DomainClassifier:
    """Train a fresh `name` classifier on images ``x`` (any supported input, see
    `classifiers`) and labels ``y``; returns it in eval mode. The caller's global RNG is
    left untouched (initialisation and dropout draw from a forked, seeded one)."""
    if len(x) != len(y) or len(x) == 0:
        raise GanforgeError(f"training a classifier needs as many labels as images (>0), got {len(x)} and {len(y)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_classifier(name).to(memory_format=torch.channels_last)
        gen = torch.Generator().manual_seed(seed)

        def batch(idx: torch.Tensor) -> torch.Tensor:
            xb = augment(model.prepare(_rescale(x[idx], recipe, model.resolution, gen)), recipe, gen)
            return xb.contiguous(memory_format=torch.channels_last)
        return train_loop(model, batch, y, recipe.batch_size, recipe.lr, recipe.weight_decay, recipe.epochs, gen,
                          f"train {name} classifier", progress, on_epoch)


def train_loop(model: torch.nn.Module, batch: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor,
               batch_size: int, lr: float, weight_decay: float, epochs: int, gen: torch.Generator, desc: str,
               progress: bool = True, on_epoch: Callable[[int, torch.nn.Module], None] | None = None):
    """The classifiers' training: AdamW with a one-cycle rate over `epochs` reshuffled passes
    (order drawn from `gen`) of cross-entropy on `batch(indices)` against y[indices]; returns
    the model in eval mode, frozen. (The shipped weights are trained by it: keep its order of
    random draws, or retrain them.)"""
    steps = -(-len(y) // batch_size)  # ceil
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps)
    bar = tqdm(total=epochs * steps, desc=desc, unit="batch", disable=not progress,
               mininterval=0.5 if sys.stderr.isatty() else 5.0)
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(batch_size):
            loss = F.cross_entropy(model(batch(idx)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update()
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if on_epoch is not None:
            on_epoch(epoch, model.eval())
    bar.close()
    return model.eval().requires_grad_(False)


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of ``model``'s logits on images ``x`` with labels ``y``."""
    was_training = model.training
    model.eval()
    correct = sum(int((model(x[i:i + batch_size]).argmax(1).cpu() == y[i:i + batch_size]).sum())
                  for i in range(0, len(x), batch_size))
    model.train(was_training)
    return correct / len(x)


def train_and_save(name: str, seed: int = 0, epochs: int | None = None, threads: int = 1,
                   out: str | Path | None = None, progress: bool = True) -> dict:
    """Train the `name` classifier, evaluate it on the test split, write the weights file;
    returns the metadata written with it."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    recipe = RECIPES[name] if epochs is None else replace(RECIPES[name], epochs=epochs)
    x_train, y_train = load_split(name, "train")
    x_test, y_test = load_split(name, "test")
    start = time.perf_counter()
    model = fit(name, x_train, y_train, recipe, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    acc = accuracy(model, x_test, y_test)
    acc_at = {str(r): round(accuracy(model, resize_images(x_test, r), y_test), 6) for r in EVAL_SIZES[name]}
    metadata = {"dataset": name, "test_accuracy": round(acc, 6), "test_accuracy_at": acc_at,
                "seed": seed, "epochs": recipe.epochs,
                "train_size": len(x_train), "test_size": len(x_test),
                "test_split": "official t10k" if name == "fashion-mnist" else
                              f"every {DIGITS_TEST_EVERY}th image (index % {DIGITS_TEST_EVERY} == 0)",
                "recipe": asdict(recipe), "architecture": asdict(SPECS[name]), "threads": threads,
                "train_seconds": round(seconds, 1), "ganforge_version": __version__,
                "torch_version": torch.__version__}
    return save_weights(model, Path(out) if out is not None else weights_path(name), metadata)


def save_weights(model: torch.nn.Module, path: Path, metadata: dict) -> dict:
    """A classifier's weights as safetensors with its training record (JSON values) as metadata;
    returns the record with the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={k: json.dumps(v) for k, v in metadata.items()})
    return {**metadata, "path": str(path)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ganforge.metrics.train_classifier",
        description="Train a domain classifier for offline metrics (seeded, deterministic).",
        epilog="examples:\n  python -m ganforge.metrics.train_classifier fashion-mnist\n"
               "  python -m ganforge.metrics.train_classifier digits --out /tmp/digits.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(SPECS), help="the dataset the classifier learns")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="default: the dataset's recipe")
    # One thread by default: on a busy 2-core machine a second thread spin-waits and made
    # an epoch 17x slower; the network is too small to gain from more.
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (results depend on it)")
    parser.add_argument("--out", default=None, help="weights file (default: the shipped one)")
    args = parser.parse_args(argv)
    try:
        if args.epochs is not None and args.epochs < 1:
            raise GanforgeError(f"--epochs must be at least 1, got {args.epochs}")
        meta = train_and_save(args.name, args.seed, args.epochs, max(1, args.threads), args.out)
    except GanforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(f"{meta['dataset']}: test accuracy {100 * meta['test_accuracy']:.2f}% on {meta['test_size']} "
          f"images after {meta['epochs']} epochs ({meta['train_seconds']:.0f} s) -> {meta['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the moving-fashion 3-D classifier, seeded and deterministic, and write its shipped weights.

    python -m ganforge.metrics.train_video_classifier     # -> ganforge/metrics/weights/moving-fashion-3d.safetensors

It learns the clips the moving-fashion preset trains on (one item on 32 px, 16 frames, clip
seed 0, 5,000 clips), each label the item's class and the sector it sets off in; it is tested
on 1,000 clips of clip seed 1 (other items, places and velocities). The test accuracies (of
the 80 joint classes, of the class alone, of the direction alone) go into the metadata.

Runs are bit-for-bit repeatable for a given torch build and thread count.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from ganforge import __version__
from ganforge.data.video import load_video
from ganforge.errors import GanforgeError
from ganforge.metrics.train_classifier import save_weights, train_loop
from ganforge.metrics.video_classifier import DIRECTIONS, VideoClassifier, direction_labels, weights_path

EPOCHS, BATCH, LR, WEIGHT_DECAY = 10, 64, 3e-3, 5e-4
TRAIN_CLIPS, TEST_CLIPS, TEST_SEED = 5000, 1000, 1


def labelled_clips(clips: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Moving-fashion clips (N, 1, 16, 32, 32) uint8 and their joint labels class * 8 + direction."""
    data = load_video("moving-fashion", 32, 1, 16, 1, clips, seed)
    return data.x, data.y * DIRECTIONS + direction_labels(data.paths)


@torch.no_grad()
def accuracies(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 250) -> dict[str, float]:
    predicted = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    share = lambda a, b: round(float((a == b).float().mean()), 6)  # noqa: E731
    return {"test_accuracy": share(predicted, y), "class_accuracy": share(predicted // DIRECTIONS, y // DIRECTIONS),
            "direction_accuracy": share(predicted % DIRECTIONS, y % DIRECTIONS)}


def train_and_save(seed: int = 0, epochs: int = EPOCHS, threads: int = 1, out: str | Path | None = None,
                   clips: int = TRAIN_CLIPS, test_clips: int = TEST_CLIPS, progress: bool = True) -> dict:
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    x, y = labelled_clips(clips, 0)
    x_test, y_test = labelled_clips(test_clips, TEST_SEED)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, gen = VideoClassifier(), torch.Generator().manual_seed(seed)
        model = train_loop(model, lambda idx: x[idx], y, BATCH, LR, WEIGHT_DECAY, epochs, gen,
                           "train the moving-fashion 3-D classifier", progress)
    seconds = time.perf_counter() - start
    metadata = {"dataset": "moving-fashion (1 item, 32 px, 16 frames)", **accuracies(model, x_test, y_test),
                "test_split": f"{len(x_test)} clips of clip seed {TEST_SEED}", "labels": "class * 8 + direction",
                "seed": seed, "epochs": epochs, "train_size": len(x), "threads": threads,
                "train_seconds": round(seconds, 1), "ganforge_version": __version__, "torch_version": torch.__version__}
    return save_weights(model, Path(out) if out is not None else weights_path(), metadata)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganforge.metrics.train_video_classifier",
                                     description="Train the moving-fashion 3-D classifier (seeded, deterministic).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--clips", type=int, default=TRAIN_CLIPS, help="training clips (default 5000)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (results depend on it)")
    parser.add_argument("--out", default=None, help="weights file (default: the shipped one)")
    args = parser.parse_args(argv)
    try:
        meta = train_and_save(args.seed, args.epochs, max(1, args.threads), args.out, args.clips)
    except GanforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(f"moving-fashion-3d: test accuracy {100 * meta['test_accuracy']:.2f}% of 80 classes (class "
          f"{100 * meta['class_accuracy']:.2f}%, direction {100 * meta['direction_accuracy']:.2f}%) on "
          f"{TEST_CLIPS} held-out clips, after {meta['epochs']} epochs ({meta['train_seconds']:.0f} s) -> {meta['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the spoken-digit classifier, seeded and deterministic, and write its shipped weights.

    python -m ganforge.metrics.train_speech_classifier            # -> ganforge/metrics/weights/spoken-digits.safetensors

It learns the spoken-digits set that the GANs learn (espeak-ng, synthesis seed 0, 500 clips a
word), each clip moved by up to 0.1 s at random; it is tested on 1,000 clips of other
recipes (synthesis seed 1: other voice, variant, speed and pitch draws) and on Asterisk's ten
real recorded digits (one speaker, recorded at 8 kHz: a check of how far synthetic voices
carry to a real one). Both accuracies go into the weights' metadata.

Runs are bit-for-bit repeatable for a given torch build, espeak-ng and thread count.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganforge import __version__
from ganforge.errors import GanforgeError
from ganforge.metrics.speech_classifier import LENGTH, RATE, WIDTHS, SpeechDigitClassifier, weights_path
from ganforge.metrics.train_classifier import save_weights, train_loop

EPOCHS, BATCH, LR, WEIGHT_DECAY = 5, 64, 3e-3, 5e-4
SHIFT = RATE // 10          # random time shifts up to 0.1 s
TEST_SEED, TEST_PER_WORD = 1, 100


def synthetic(per_word: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Spoken-digit clips (N, 1, 16384) at 16 kHz and labels, from a synthesis seed."""
    from ganforge.data.audio import _summarise, synthesise
    clips = synthesise(RATE, LENGTH, per_word, seed)
    _summarise("spoken-digits", clips)
    return torch.from_numpy(clips.x.astype("float32") / 32767)[:, None], torch.tensor(clips.labels)


def shift(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Move each clip (B, 1, L) by its own random -SHIFT..SHIFT samples (zeros shifted in)."""
    b, _, length = x.shape
    by = torch.randint(-SHIFT, SHIFT + 1, (b,), generator=gen)
    index = (torch.arange(length)[None] - by[:, None]).clamp(-1, length)   # (B, L); out of range: the pad
    padded = F.pad(x[:, 0], (1, 1))                                          # (B, L + 2): a zero each end
    return padded.gather(1, index + 1)[:, None]


def fit(x: torch.Tensor, y: torch.Tensor, seed: int = 0, epochs: int = EPOCHS, progress: bool = True):
    """A fresh classifier trained on clips x (N, 1, 16384) and labels y; in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, gen = SpeechDigitClassifier(), torch.Generator().manual_seed(seed)
        return train_loop(model, lambda idx: shift(x[idx], gen), y, BATCH, LR, WEIGHT_DECAY, epochs, gen,
                          "train the spoken-digit classifier", progress)


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> float:
    return sum(int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch)) / len(x)


def real_check(model: torch.nn.Module) -> dict:
    """Accuracy on Asterisk's recorded digits, or a note when the package is absent."""
    from ganforge.data import load_data
    try:
        data = load_data("asterisk-digits")
    except GanforgeError as e:
        return {"asterisk_accuracy": None, "asterisk_note": str(e)}
    with torch.no_grad():
        predicted = model(data.x).argmax(1).tolist()
    return {"asterisk_accuracy": accuracy(model, data.x, data.y), "asterisk_predicted": predicted}


def train_and_save(seed: int = 0, per_word: int = 500, epochs: int = EPOCHS, threads: int = 1,
                   out: str | Path | None = None, progress: bool = True, test_per_word: int = TEST_PER_WORD) -> dict:
    """Train, test and write the weights (with their metadata); returns the metadata."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    x, y = synthetic(per_word, 0)
    x_test, y_test = synthetic(test_per_word, TEST_SEED)
    start = time.perf_counter()
    model = fit(x, y, seed, epochs, progress)
    seconds = time.perf_counter() - start
    metadata = {"dataset": "spoken-digits", "test_accuracy": round(accuracy(model, x_test, y_test), 6),
                "test_split": f"{len(x_test)} clips of synthesis seed {TEST_SEED} (other voice, speed, pitch draws)",
                **real_check(model), "seed": seed, "epochs": epochs, "train_size": len(x),
                "train_split": f"spoken-digits, synthesis seed 0, {per_word} a word", "widths": list(WIDTHS),
                "threads": threads, "train_seconds": round(seconds, 1), "ganforge_version": __version__,
                "torch_version": torch.__version__}
    return save_weights(model, Path(out) if out is not None else weights_path(), metadata)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganforge.metrics.train_speech_classifier",
                                     description="Train the spoken-digit classifier (seeded, deterministic).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--per-word", type=int, default=500, help="training clips of each word (default 500)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (results depend on it)")
    parser.add_argument("--out", default=None, help="weights file (default: the shipped one)")
    args = parser.parse_args(argv)
    try:
        meta = train_and_save(args.seed, args.per_word, args.epochs, max(1, args.threads), args.out)
    except GanforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    real = meta["asterisk_accuracy"]
    real = f"{100 * real:.0f}% of Asterisk's 10 real digits" if real is not None else meta["asterisk_note"]
    print(f"spoken-digits: test accuracy {100 * meta['test_accuracy']:.2f}% on {TEST_PER_WORD * 10} held-out clips, "
          # (the held-out clips: other draws of espeak-ng's voices, not other speakers)
          f"{real}, after {meta['epochs']} epochs ({meta['train_seconds']:.0f} s) -> {meta['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

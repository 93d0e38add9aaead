"""The labelled data `augment` starts from: its train and test parts, and a seeded subset of
the train part (N per class, or a fraction), optionally with one class cut down (imbalance).

Fashion-MNIST is tested on its official test split, untouched. Data without one (digits, a
folder, an .npz) is split once, by a fixed seed independent of --seed, a quarter per class
held out for testing: every subset seed and every row is scored on the same images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ganforge.data import Dataset, load_data
from ganforge.errors import GanforgeError

HOLDOUT = 0.25        # test share of each class where the data has no official test split
HOLDOUT_SEED = 20181  # fixed: the test images never depend on --seed
FOLDER_RESOLUTION = 32  # an image folder's side when --resolution is not given


@dataclass(eq=False)
class Labelled:
    """Train and test parts of one labelled image dataset, uint8 (N, C, H, W) + (N,) labels."""

    name: str
    train: Dataset
    test: Dataset
    test_split: str                 # "official test split" or "held-out quarter (fixed seed)"
    class_names: list[str]


def _check_labelled(data: Dataset, source: str) -> None:
    if data.kind != "images":
        raise GanforgeError(f"--data {source}: augment needs labelled images, got {data.kind}")
    if data.y is None:
        raise GanforgeError(f"--data {source}: the images carry no labels (augment needs a folder with one "
                            "sub-folder per class, or an .npz with x and y arrays)")
    k = data.num_classes
    if len(data) < k:
        raise GanforgeError(f"--data {source}: {len(data)} labelled images for {k} classes "
                            "(augment needs at least one image of every class)")
    counts = torch.bincount(data.y, minlength=k)
    if k < 2:
        raise GanforgeError(f"--data {source}: one class only (augment needs at least two to classify)")
    empty = torch.nonzero(counts == 0).flatten()
    if len(empty):
        c = int(empty[0])
        raise GanforgeError(f"--data {source}: class {_name(data, c)} has no image "
                            "(every class needs labelled images)")


def _name(data: Dataset, c: int) -> str:
    names = data.class_names
    return f"{c} ({names[c]})" if names and c < len(names) and names[c] != str(c) else str(c)


def _held_out(data: Dataset) -> tuple[Dataset, Dataset]:
    """A fixed, stratified split: HOLDOUT of each class for testing (at least one image of a
    class with two or more stays in each part)."""
    g = torch.Generator().manual_seed(HOLDOUT_SEED)
    train, test = [], []
    for c in range(data.num_classes):
        idx = torch.nonzero(data.y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = min(len(idx) - 1, max(1, round(HOLDOUT * len(idx)))) if len(idx) > 1 else 0
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    tr, te = torch.cat(train).sort().values, torch.cat(test).sort().values
    part = lambda i: Dataset(data.name, "images", data.x[i].contiguous(), data.y[i], data.class_names)  # noqa: E731
    return part(tr), part(te)


def load_labelled(source: str, resolution: int | None = None) -> Labelled:
    """fashion-mnist, digits, an image folder with one sub-folder per class, an .npz (x, y), or
    a directory of IDX files; a one-line GanforgeError for data `augment` cannot use."""
    path = Path(source).expanduser()
    is_folder = path.is_dir()
    res = resolution or (FOLDER_RESOLUTION if is_folder else None)
    data = load_data(source, res)
    _check_labelled(data, source)
    names = list(data.class_names or [str(c) for c in range(data.num_classes)])
    if source == "fashion-mnist":
        test = load_data(source, res, split="test")
        return Labelled(source, data, test, "official test split (10,000 images)", names)
    train, test = _held_out(data)
    return Labelled(source, train, test, f"held-out {HOLDOUT:.0%} of each class (fixed seed {HOLDOUT_SEED})", names)


def subset_counts(data: Dataset, per_class: int | None, fraction: float | None,
                  minority: int | None = None, minority_share: float = 0.05) -> list[int]:
    """Images to take of each class; one-line errors when the data holds fewer."""
    k = data.num_classes
    have = torch.bincount(data.y, minlength=k).tolist()
    if (per_class is None) == (fraction is None):
        raise GanforgeError("give --per-class N or --fraction F (one of them)")
    if per_class is not None:
        if per_class < 1:
            raise GanforgeError(f"--per-class must be at least 1, got {per_class}")
        short = [c for c in range(k) if have[c] < per_class]
        if short:
            c = short[0]
            raise GanforgeError(f"--per-class {per_class}: class {_name(data, c)} has only {have[c]} training "
                                f"images (at most {min(have)} per class here)")
        counts = [per_class] * k
    else:
        if not 0 < fraction <= 1:
            raise GanforgeError(f"--fraction must be in (0, 1], got {fraction}")
        counts = [max(1, round(fraction * h)) for h in have]
    if minority is not None:
        if not 0 <= minority < k:
            raise GanforgeError(f"--minority {minority}: expected a class index in 0..{k - 1}")
        if not 0 < minority_share <= 1:
            raise GanforgeError(f"--minority-share must be in (0, 1], got {minority_share}")
        others = max(counts[c] for c in range(k) if c != minority)
        counts[minority] = max(1, round(minority_share * others))
    return counts


def class_index(names: list[str], text: int | str) -> int:
    """A class given by name (any case) or by index -> its index; one line when it is neither."""
    lowered = [n.lower() for n in names]
    if str(text).lower() in lowered:
        return lowered.index(str(text).lower())
    if str(text).isdigit() and int(text) < len(names):
        return int(text)
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    raise GanforgeError(f"--minority {text}: no such class; expected a name ({shown}) or an index in "
                        f"0..{len(names) - 1}")


def take_subset(data: Dataset, counts: list[int], seed: int) -> torch.Tensor:
    """Indices (sum(counts),) of a seeded per-class subset: the first counts[c] of a seeded
    shuffle of class c (a larger count keeps the smaller one's images)."""
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c, n in enumerate(counts):
        idx = torch.nonzero(data.y == c).flatten()
        chosen.append(idx[torch.randperm(len(idx), generator=g)][:n])
    return torch.cat(chosen)

"""ganforge.data.paired / recipes / classes / unpaired and ganforge.training.pair_batches:
pix2pix pairs (A/B folders, side-by-side images, recipes), CycleGAN's two sets, and their batches."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import Dataset, load_data
from ganforge.data.idx import FASHION_CLASSES, FASHION_MNIST_ROOT
from ganforge.data.paired import PairedDataset, center_crop, load_paired
from ganforge.data.recipes import HOLE_VALUE, RECIPES, hole_masks
from ganforge.data.unpaired import UnpairedDataset, load_unpaired, match_class, select_class
from ganforge.errors import GanforgeError
from ganforge.training.pair_batches import PairedBatches, UnpairedBatches

CPU = torch.device("cpu")
needs_fashion = pytest.mark.skipif(not FASHION_MNIST_ROOT.is_dir(), reason="dataset-fashion-mnist not installed")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def png(path: Path, pixels: np.ndarray) -> Path:
    """Write uint8 (H, W) or (H, W, 3) as a PNG, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(path)
    return path


def solid(value: int, h: int = 8, w: int = 8) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def ab_folder(root: Path, values: list[int], suffix_b: str = ".png") -> Path:
    """root/A/<i>.png solid value, root/B/<i><suffix_b> solid 255 - value."""
    for i, v in enumerate(values):
        png(root / "A" / f"{i:04d}.png", solid(v))
        png(root / "B" / f"{i:04d}{suffix_b}", solid(255 - v))
    return root


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] batches back to exact uint8 values."""
    return ((x + 1) * 127.5).round().to(torch.uint8)


# ---------------------------------------------------------------- A/ and B/ folders

def test_ab_folders_pair_by_file_stem_whatever_the_extension(tmp_path):
    root = ab_folder(tmp_path / "pairs", [10, 60, 200], suffix_b=".bmp")
    data = load_paired(str(root), 8)
    assert isinstance(data, PairedDataset) and data.kind == "pairs" and len(data) == 3
    assert data.a.dtype == torch.uint8 and data.a.shape == (3, 3, 8, 8) and data.shape == data.a_shape == (3, 8, 8)
    assert data.a[:, 0, 0, 0].tolist() == [10, 60, 200]
    assert (data.a.int() + data.b.int() == 255).all()  # every A sits beside its own B
    assert data.y is None and data.num_classes == 0 and data.recipe is None
    swapped = load_paired(str(root), 8, pairs="swap", channels=1)
    assert swapped.a.shape == (3, 1, 8, 8) and swapped.a[:, 0, 0, 0].tolist() == [245, 195, 55]


def test_split_folders_as_pytorch_cyclegan_and_pix2pix_lays_them_out(tmp_path):
    ab_folder(tmp_path / "ds" / "train", [10, 20])
    ab_folder(tmp_path / "ds" / "test", [30])
    assert len(load_paired(str(tmp_path / "ds"), 8)) == 2
    assert load_paired(str(tmp_path / "ds"), 8, split="test").a[0, 0, 0, 0] == 30
    with pytest.raises(GanforgeError, match=r"no val/ folder .*found train/, test/"):
        load_paired(str(tmp_path / "ds"), 8, split="val")
    for i, v in enumerate([50, 60, 70]):  # combine_A_and_B.py's input: A/train, B/train
        png(tmp_path / "raw" / "A" / "train" / f"{i}.png", solid(v))
        png(tmp_path / "raw" / "B" / "train" / f"{i}.png", solid(v + 1))
    assert load_paired(str(tmp_path / "raw"), 8).b[:, 0, 0, 0].tolist() == [51, 61, 71]


def test_an_a_without_its_b_names_the_file_the_folder_and_how_many_more(tmp_path):
    root = ab_folder(tmp_path / "pairs", [10, 20])
    png(root / "A" / "extra1.png", solid(1))
    png(root / "A" / "extra2.png", solid(2))
    with pytest.raises(GanforgeError, match=r"extra1\.png: no image named extra1\.\* in .*B to pair it with "
                                            r"\(and 1 more without a partner\)") as e:
        load_paired(str(root), 8)
    assert "\n" not in str(e.value)
    (root / "A" / "extra1.png").unlink()
    (root / "A" / "extra2.png").unlink()
    png(root / "B" / "lonely.png", solid(3))
    with pytest.raises(GanforgeError, match=r"lonely\.png: no image named lonely\.\* in .*A to pair"):
        load_paired(str(root), 8)


def test_a_pair_of_different_sizes_names_both_files_and_sizes(tmp_path):
    root = ab_folder(tmp_path / "pairs", [10])
    png(root / "B" / "0000.png", solid(5, h=8, w=12))
    with pytest.raises(GanforgeError, match=r"A/0000\.png is 8x8 but its pair .*B/0000\.png is 12x8 \(width x height\)"):
        load_paired(str(root), 8)


def test_an_undecodable_image_skips_its_pair_with_one_warning(tmp_path, caplog):
    root = ab_folder(tmp_path / "pairs", [10, 20, 30])
    (root / "B" / "0001.png").write_bytes(b"not a png")
    (root / "A" / "notes.txt").write_text("not an image")  # not an image by its name: ignored
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_paired(str(root), 8)
    assert data.a[:, 0, 0, 0].tolist() == [10, 30]
    pair_warnings = [r.getMessage() for r in caplog.records if "skipped the pair" in r.getMessage()]
    assert len(pair_warnings) == 1 and "B/0001.png is not a decodable image" in pair_warnings[0]


def test_a_without_b_folder_and_missing_sources_are_one_line_errors(tmp_path):
    png(tmp_path / "half" / "A" / "0.png", solid(1))
    with pytest.raises(GanforgeError, match="found A/ but no B/ folder"):
        load_paired(str(tmp_path / "half"), 8)
    with pytest.raises(GanforgeError, match=r"digits: not a folder of pairs .*pick a pairs recipe: edges"):
        load_paired("digits", 8)
    with pytest.raises(GanforgeError, match="a resolution is required"):
        load_paired(str(tmp_path / "half"), None)


# ---------------------------------------------------------------- side-by-side A|B images

def side_by_side(path: Path, left: int, right: int, h: int = 8, w: int = 16) -> Path:
    pixels = np.concatenate([solid(left, h, w // 2), solid(right, h, w - w // 2)], axis=1)
    return png(path, pixels)


def test_side_by_side_images_split_into_a_left_and_b_right(tmp_path, caplog):
    side_by_side(tmp_path / "facades" / "train" / "1.png", 10, 200)
    side_by_side(tmp_path / "facades" / "train" / "2.png", 40, 90)
    side_by_side(tmp_path / "facades" / "train" / "odd.png", 1, 2, w=15)
    side_by_side(tmp_path / "facades" / "test" / "3.png", 70, 80)
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_paired(str(tmp_path / "facades"), 8)
    assert data.a.shape == data.b.shape == (2, 3, 8, 8)
    assert data.a[:, :, 0, 0].tolist() == [[10] * 3, [40] * 3] and data.b[:, 0, 7, 7].tolist() == [200, 90]
    assert any("odd.png" in r.getMessage() and "width 15 is odd" in r.getMessage() for r in caplog.records)
    swapped = load_paired(str(tmp_path / "facades"), "4x8", pairs="swap", split="test")
    assert swapped.shape == (3, 8, 4) and (swapped.a[0, 0, 0, 0], swapped.b[0, 0, 0, 0]) == (80, 70)


def test_side_by_side_without_usable_images_is_one_line_error(tmp_path):
    side_by_side(tmp_path / "odd" / "1.png", 1, 2, w=9)
    with pytest.raises(GanforgeError, match=r"no side-by-side A\|B images among 1 files"):
        load_paired(str(tmp_path / "odd"), 8)


def test_side_by_side_decode_is_cached(tmp_path, monkeypatch):
    side_by_side(tmp_path / "sbs" / "1.png", 10, 200)
    first = load_paired(str(tmp_path / "sbs"), 8, cache_dir=tmp_path / "run")
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded again"))
    again = load_paired(str(tmp_path / "sbs"), 8, cache_dir=tmp_path / "run")
    assert torch.equal(first.a, again.a) and torch.equal(first.b, again.b)


def test_load_size_stores_bigger_and_center_crop_takes_the_middle(tmp_path):
    ab_folder(tmp_path / "pairs", [10, 20])
    data = load_paired(str(tmp_path / "pairs"), 8, load_size=9)
    assert data.shape == (3, 9, 9)
    x = torch.arange(2 * 9 * 9).view(2, 1, 9, 9)
    assert torch.equal(center_crop(x, 8), x[..., :8, :8]) and torch.equal(center_crop(x, "3x5"), x[..., 2:7, 3:6])
    with pytest.raises(GanforgeError, match="smaller than the resolution"):
        load_paired(str(tmp_path / "pairs"), 8, load_size=7)
    with pytest.raises(GanforgeError, match="must fit inside"):
        center_crop(x, 10)


# ---------------------------------------------------------------- recipes

@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_data("digits")


@pytest.mark.parametrize("recipe, a_channels", [("edges", 1), ("downscale:2", 1), ("mask", 1)])
def test_recipes_on_digits_keep_shapes_and_labels_and_are_deterministic(digits, recipe, a_channels):
    data = load_paired("digits", None, pairs=recipe)
    assert data.recipe == recipe and data.shape == (1, 8, 8) and data.a_shape == (a_channels, 8, 8)
    assert torch.equal(data.b, digits.x) and torch.equal(data.y, digits.y)
    assert data.class_names == digits.class_names and data.num_classes == 10
    assert torch.equal(load_paired("digits", None, pairs=recipe).a, data.a)  # the same input every time
    assert not torch.equal(data.a, data.b)


def test_edges_are_black_lines_on_white_over_15_to_20_percent(digits):
    data = load_paired("digits", 16, pairs="edges")
    assert set(data.a.unique().tolist()) == {0, 255}
    fraction = (data.a == 0).float().mean(dim=(1, 2, 3))  # (N,) per image
    assert 0.14 < fraction.mean() < 0.2 and fraction.max() <= 0.2



def npy(path: Path, x: torch.Tensor) -> str:
    np.save(path, x.numpy())
    return str(path)


def test_edges_follow_the_changes_and_a_flat_image_has_none(tmp_path):
    x = torch.zeros(2, 1, 16, 16, dtype=torch.uint8)
    x[1, :, :, 8:] = 255  # one vertical step between columns 7 and 8
    edges = load_paired(npy(tmp_path / "x.npy", x), None, pairs="edges").a
    assert (edges[0] == 255).all()  # flat: no lines at all
    lines = (edges[1, 0] == 0).nonzero()[:, 1].unique().tolist()
    assert set(lines) <= {6, 7, 8, 9} and {7, 8} <= set(lines)


@needs_fashion
def test_edges_of_fashion_mnist_and_a_class_of_it():
    data = load_paired("fashion-mnist:ankle boot", 28, pairs="edges", split="test")
    assert len(data) == 1000 and (data.y == 9).all() and data.a_shape == (1, 28, 28)
    fraction = (data.a == 0).float().mean()
    assert 0.12 < fraction < 0.2
    assert (data.a[:, :, 0, :] == 255).float().mean() > 0.9  # the black background draws no lines


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.double() - b.double()).pow(2).mean()
    return float(10 * torch.log10(255 ** 2 / mse))


@pytest.mark.parametrize("factor", [2, 4])
def test_downscale_loses_detail(tmp_path, factor):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8))  # detail at every pixel
    data = load_paired(npy(tmp_path / "x.npy", x), None, pairs=f"downscale:{factor}")
    assert data.a.shape == data.b.shape == (4, 3, 32, 32)
    assert np.isfinite(psnr(data.a, data.b)) and psnr(data.a, data.b) < 40
    digits = load_paired("digits", 16, pairs=f"downscale:{factor}")
    assert 0 < psnr(digits.a, digits.b) < 40


def test_mask_fills_1_to_3_grey_holes_over_10_to_25_percent(digits):
    data = load_paired("digits", 16, pairs="mask")
    holes = hole_masks(torch.arange(len(data)), 16, 16)  # (N, 16, 16)
    assert (data.a[:, 0][holes] == HOLE_VALUE).all() and torch.equal(data.a[:, 0][~holes], data.b[:, 0][~holes])
    cover = holes.float().mean(dim=(1, 2))
    assert cover.min() > 0.09 and cover.max() < 0.29 and 0.15 < cover.mean() < 0.2  # ~10-25 %, 16 px rounding
    assert torch.equal(hole_masks(torch.arange(5), 16, 16), holes[:5])  # seeded by index only
    assert not torch.equal(holes[0], holes[1])


def test_gray_makes_grey_inputs_for_colour_targets_and_refuses_grey_data(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        png(tmp_path / "photos" / f"{i}.png", rng.integers(0, 256, (8, 8, 3)))
    data = load_paired(str(tmp_path / "photos"), 8, pairs="gray")
    assert data.a_shape == (1, 8, 8) and data.shape == (3, 8, 8)
    luma = (data.b.float() * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    assert (data.a.float() - luma).abs().max() <= 0.5001
    with pytest.raises(GanforgeError, match="already grey, so grey -> colour would be an identity task"):
        load_paired("digits", None, pairs="gray")
    with pytest.raises(GanforgeError, match="channels must be 3"):
        load_paired(str(tmp_path / "photos"), 8, pairs="gray", channels=1)


def test_unknown_recipes_list_every_recipe_with_its_syntax():
    with pytest.raises(GanforgeError) as e:
        load_paired("digits", None, pairs="sketch")
    message = str(e.value)
    assert "'sketch' is not known" in message and "\n" not in message
    assert all(name in message for name in RECIPES) and "downscale:N" in message and "swap" in message
    for bad in ("downscale:x", "downscale", "downscale:9", "downscale:1"):
        with pytest.raises(GanforgeError, match=r"downscale:N takes an integer N from 2 to 8"):
            load_paired("digits", None, pairs=bad)
    with pytest.raises(GanforgeError, match="needs images at least 8 px on each side"):
        load_paired("digits", 4, pairs="downscale:8")
    with pytest.raises(GanforgeError, match="2-D points, not images"):
        load_paired("ring8", None, pairs="edges")


def test_paired_split_holds_out_a_seeded_random_subset():
    x = torch.arange(50, dtype=torch.uint8).view(50, 1, 1, 1).expand(50, 1, 2, 2).contiguous()
    data = PairedDataset("t", x, 255 - x, torch.arange(50), recipe="edges")
    train, held = data.split(10, seed=3)
    assert (len(train), len(held)) == (40, 10) and held.recipe == "edges"
    assert sorted(train.y.tolist() + held.y.tolist()) == list(range(50))  # disjoint, together all
    assert torch.equal(held.a[:, 0, 0, 0].long(), held.y) and torch.equal(held.b, 255 - held.a)
    assert torch.equal(data.split(10, seed=3)[1].y, held.y) and not torch.equal(data.split(10, seed=4)[1].y, held.y)
    assert held.y.tolist() != list(range(10))  # random, not the first ten
    with pytest.raises(GanforgeError, match="cannot hold out 50 of its 50 examples"):
        data.split(50)


# ---------------------------------------------------------------- classes and unpaired sets

def test_select_class_splits_dataset_and_class_but_not_an_existing_path(tmp_path):
    assert select_class("fashion-mnist:sneaker") == ("fashion-mnist", "sneaker")
    assert select_class("fashion-mnist:Ankle boot") == ("fashion-mnist", "Ankle boot")
    assert select_class("digits:3") == ("digits", "3")
    assert select_class("digits") == ("digits", None)
    odd = tmp_path / "runs:2024"
    odd.mkdir()
    assert select_class(str(odd)) == (str(odd), None)
    with pytest.raises(GanforgeError, match="expected DATASET:CLASS"):
        select_class("digits:")


@pytest.mark.parametrize("spec, index", [("Ankle boot", 9), ("ankle-boot", 9), ("ankleboot", 9), ("ANKLE_BOOT", 9),
                                         ("sneaker", 7), ("t-shirt", 0), ("top", 0), ("T-shirt/top", 0), ("7", 7)])
def test_class_names_match_ignoring_case_spaces_hyphens_and_underscores(spec, index):
    fake = Dataset("fashion-mnist", "images", torch.zeros(10, 1, 2, 2, dtype=torch.uint8), torch.arange(10),
                   FASHION_CLASSES)
    assert match_class(fake, spec, f"fashion-mnist:{spec}") == index


def test_an_unknown_class_lists_the_classes_with_indices():
    fake = Dataset("fashion-mnist", "images", torch.zeros(10, 1, 2, 2, dtype=torch.uint8), torch.arange(10),
                   FASHION_CLASSES)
    with pytest.raises(GanforgeError, match=r"no class 'boots' \(expected a name or an index: 0 T-shirt/top, "
                                            r"1 Trouser, .*9 Ankle boot\)"):
        match_class(fake, "boots", "fashion-mnist:boots")
    with pytest.raises(GanforgeError, match="no class '12'"):
        match_class(fake, "12", "fashion-mnist:12")
    unlabelled = Dataset("x.npy", "images", torch.zeros(3, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(GanforgeError, match="has no class labels to pick 'cat' from"):
        match_class(unlabelled, "cat", "x.npy:cat")


def test_unpaired_digits_classes(digits):
    data = load_unpaired("digits:3", "digits:8", 16)
    assert isinstance(data, UnpairedDataset) and data.kind == "unpaired"
    assert (len(data.a), len(data.b)) == (int((digits.y == 3).sum()), int((digits.y == 8).sum()))
    assert len(data) == max(len(data.a), len(data.b)) and data.shape == data.a_shape == (1, 16, 16)
    assert (data.a.y == 3).all() and data.names == ("digits:3", "digits:8")
    train, held = data.split(20, seed=1)
    assert (len(held.a), len(held.b)) == (20, 20) and len(train.a) == len(data.a) - 20
    with pytest.raises(GanforgeError, match=r"side B"):
        data.split(len(data.b))
    with pytest.raises(GanforgeError, match=r"digits has no class 'eleven' \(expected a name or an index: 0 0, 1 1"):
        load_unpaired("digits:eleven", "digits:8", 16)


def test_unpaired_sides_share_size_and_channels(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(5):
        png(tmp_path / "photos" / f"{i}.png", rng.integers(0, 256, (12, 12, 3)))
    data = load_unpaired("digits:0", str(tmp_path / "photos"), 8)
    assert data.a.x.shape[1:] == data.b.x.shape[1:] == (3, 8, 8) and len(data.b) == 5
    assert load_unpaired("digits:0", str(tmp_path / "photos"), 8, channels=1).shape == (1, 8, 8)
    with pytest.raises(GanforgeError, match="give a resolution"):
        load_unpaired("digits:0", npy(tmp_path / "x.npy", torch.zeros(2, 1, 5, 5, dtype=torch.uint8)), None)


@needs_fashion
def test_unpaired_fashion_mnist_sneakers_and_ankle_boots():
    data = load_unpaired("fashion-mnist:sneaker", "fashion-mnist:ankle-boot", 32, split="test")
    assert (len(data.a), len(data.b)) == (1000, 1000) and data.shape == (1, 32, 32)
    assert (data.a.y == 7).all() and (data.b.y == 9).all()


# ---------------------------------------------------------------- batches

def coded(n: int, h: int, w: int) -> torch.Tensor:
    """uint8 (n, 3, h, w) whose channels name their own row, column and image index."""
    rows = torch.arange(h).view(1, h, 1).expand(n, h, w)
    cols = torch.arange(w).view(1, 1, w).expand(n, h, w)
    idx = torch.arange(n).view(n, 1, 1).expand(n, h, w)
    return torch.stack([rows * 10, cols * 10, idx], 1).to(torch.uint8).contiguous()


def pairs_of(a: torch.Tensor, b: torch.Tensor) -> PairedDataset:
    return PairedDataset("test", a, b, torch.arange(len(a)))


def test_crops_and_flips_are_the_same_on_both_sides_of_each_pair():
    a = coded(32, 12, 12)
    batches = PairedBatches(pairs_of(a, a.clone()), 8, CPU, gen(), crop=(8, 8))
    offsets, flips = set(), set()
    for _ in range(8):
        xa, xb, y = batches.next()
        assert xa.shape == xb.shape == (8, 3, 8, 8) and xa.min() >= -1 and xa.max() <= 1
        assert torch.equal(xa, xb)
        ua = to_uint8(xa).long()
        assert torch.equal(ua[:, 2, 0, 0], y)  # labels travel with their images
        rows, cols = ua[:, 0, :, 0] // 10, ua[:, 1, 0, :] // 10  # (8, 8) each
        assert (rows.diff(dim=1) == 1).all()  # a crop of consecutive rows...
        steps = cols.diff(dim=1)
        assert ((steps == 1).all(1) | (steps == -1).all(1)).all()  # ...and columns, maybe mirrored
        offsets |= set(rows[:, 0].tolist()) | set(cols.min(1).values.tolist())
        flips |= set((steps[:, 0] == -1).tolist())
    assert offsets == set(range(5)) and flips == {True, False}  # every offset 0..4 and both flips occur


def test_a_mirrored_target_stays_mirrored_so_flips_are_shared():
    a = coded(16, 10, 8)
    batches = PairedBatches(pairs_of(a, a.flip(-1).contiguous()), 16, CPU, gen(1), crop=(6, 8))
    for _ in range(4):
        xa, xb, _ = batches.next()
        assert torch.equal(xb, xa.flip(-1))


def test_an_epoch_sees_every_pair_once_and_only_the_given_generator_is_used():
    a = coded(32, 8, 8)
    torch.manual_seed(5)
    state = torch.get_rng_state()
    batches = PairedBatches(pairs_of(a, a), 8, CPU, gen(), flip=False)
    seen = torch.cat([to_uint8(batches.next()[0])[:, 2, 0, 0] for _ in range(4)])
    assert sorted(seen.tolist()) == list(range(32))
    assert torch.equal(torch.get_rng_state(), state)


def test_resume_from_state_dict_gives_the_same_next_batches():
    a = coded(20, 12, 12)
    g = gen(7)
    batches = PairedBatches(pairs_of(a, 255 - a), 8, CPU, g, crop=(9, 10))
    for _ in range(3):
        batches.next()
    saved, rng = batches.state_dict(), g.get_state()
    expected = [batches.next() for _ in range(5)]  # crosses two epoch boundaries (2 batches per epoch)
    g2 = gen(99)
    resumed = PairedBatches(pairs_of(a, 255 - a), 8, CPU, g2, crop=(9, 10))
    resumed.load_state_dict(saved)
    g2.set_state(rng)
    for want in expected:
        got = resumed.next()
        assert all(torch.equal(x, y) for x, y in zip(got, want))


def test_two_shards_together_are_the_unsharded_batch():
    a = coded(24, 10, 10)
    whole = PairedBatches(pairs_of(a, a.flip(-2).contiguous()), 8, CPU, gen(3), crop=(8, 8))
    shards = [PairedBatches(pairs_of(a, a.flip(-2).contiguous()), 8, CPU, gen(3), crop=(8, 8),
                            shard=lambda x, r=r: x.tensor_split(2)[r]) for r in range(2)]
    for _ in range(5):
        want = whole.next()
        parts = [s.next() for s in shards]
        assert parts[0][0].shape[0] == 4
        for i in range(3):
            assert torch.equal(torch.cat([p[i] for p in parts]), want[i])


def test_channels_last_batches_hold_the_same_values():
    a = coded(16, 10, 10)
    plain = PairedBatches(pairs_of(a, a), 8, CPU, gen(2), crop=(8, 8))
    last = PairedBatches(pairs_of(a, a), 8, CPU, gen(2), memory_format=torch.channels_last, crop=(8, 8))
    for _ in range(3):
        (pa, pb, _), (la, lb, _) = plain.next(), last.next()
        assert la.is_contiguous(memory_format=torch.channels_last) and pa.is_contiguous()
        assert torch.equal(pa, la) and torch.equal(pb, lb)


def test_batches_refuse_a_crop_or_batch_that_does_not_fit():
    a = coded(4, 8, 8)
    with pytest.raises(GanforgeError, match="crop 9 px is larger than the stored images 8 px"):
        PairedBatches(pairs_of(a, a), 2, CPU, gen(), crop=(9, 9))
    with pytest.raises(GanforgeError, match="batch size 8 does not fit the pairs test of 4 examples"):
        PairedBatches(pairs_of(a, a), 8, CPU, gen())


def unpaired_of(na: int, nb: int) -> UnpairedDataset:
    return UnpairedDataset(Dataset("a", "images", coded(na, 10, 10)), Dataset("b", "images", 255 - coded(nb, 10, 10)),
                           ("a", "b"))


def test_unpaired_batches_shuffle_each_side_on_its_own_and_resume_exactly():
    data = unpaired_of(10, 24)
    g = gen(4)
    batches = UnpairedBatches(data, 4, CPU, g, crop=(8, 8))
    seen_a, seen_b = [], []
    for _ in range(6):
        xa, xb = batches.next()
        assert xa.shape == xb.shape == (4, 3, 8, 8)
        seen_a.append(to_uint8(xa)[:, 2, 0, 0])
        seen_b.append(255 - to_uint8(xb)[:, 2, 0, 0])  # B's channel 2 holds 255 - index
    assert sorted(torch.cat(seen_b).tolist()) == list(range(24))  # B: one epoch of 6 batches
    assert len(set(torch.cat(seen_a[:2]).tolist())) == 8  # A: 2 batches per epoch of 10, ragged end dropped
    assert not torch.equal(torch.cat(seen_a[:2]), torch.cat(seen_b[:2]))  # two shuffles, not one
    saved, rng = batches.state_dict(), g.get_state()
    expected = [batches.next() for _ in range(4)]
    g2 = gen(0)
    resumed = UnpairedBatches(data, 4, CPU, g2, crop=(8, 8))
    resumed.load_state_dict(saved)
    g2.set_state(rng)
    for want in expected:
        assert all(torch.equal(x, y) for x, y in zip(resumed.next(), want))


def test_unpaired_shards_together_are_the_unsharded_batch():
    data = unpaired_of(10, 24)
    whole = UnpairedBatches(data, 6, CPU, gen(8), crop=(8, 8))
    shards = [UnpairedBatches(data, 6, CPU, gen(8), crop=(8, 8), shard=lambda x, r=r: x.tensor_split(2)[r])
              for r in range(2)]
    for _ in range(4):
        want, parts = whole.next(), [s.next() for s in shards]
        for i in range(2):
            assert torch.equal(torch.cat([p[i] for p in parts]), want[i])

"""ganforge.data: toys, digits, IDX, Fashion-MNIST, image folders, NumPy, CSV and the registry."""

from __future__ import annotations

import gzip
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import DATASETS, Dataset, ToyDistribution, load_data
from ganforge.data.idx import FASHION_CLASSES, FASHION_MNIST_ROOT, load_fashion_mnist, read_idx
from ganforge.data.toy2d import ring8
from ganforge.errors import GanforgeError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- 2-D toys

def test_ring8_modes_are_distinct_on_the_unit_circle_at_multiples_of_45_degrees():
    modes = ring8().modes
    assert modes.shape == (8, 2)
    torch.testing.assert_close(modes.norm(dim=1), torch.ones(8))
    angles = torch.atan2(modes[:, 1], modes[:, 0]) % (2 * math.pi)
    torch.testing.assert_close(angles, 2 * math.pi * torch.arange(8) / 8, atol=1e-5, rtol=0)
    gaps = torch.cdist(modes, modes) + 10 * torch.eye(8)
    assert gaps.min() > 0.76  # neighbours sit 2 sin(pi/8) = 0.765 apart; none coincide


@pytest.mark.parametrize("name, n_modes, std", [("ring8", 8, 0.01), ("grid25", 25, 0.05)])
def test_mixture_samples_sit_at_their_modes_with_the_stated_std(name, n_modes, std):
    toy = load_data(name)
    assert isinstance(toy, ToyDistribution) and toy.std == std and toy.modes.shape == (n_modes, 2)
    assert (toy.kind, toy.shape, toy.num_classes) == ("points", (2,), 0)
    x = toy.sample(20000, gen())
    assert x.shape == (20000, 2) and x.dtype == torch.float32
    nearest = torch.cdist(x, toy.modes).argmin(dim=1)
    residual = x - toy.modes[nearest]
    assert residual.abs().max() < 6 * std
    torch.testing.assert_close(residual.std(dim=0), torch.full((2,), std), rtol=0.05, atol=0)
    counts = torch.bincount(nearest, minlength=n_modes).float()
    assert (counts - 20000 / n_modes).abs().max() < 0.2 * 20000 / n_modes  # every mode, evenly


def test_grid25_modes_are_the_full_grid():
    modes = load_data("grid25").modes
    assert {tuple(m) for m in modes.tolist()} == {(a, b) for a in range(-4, 5, 2) for b in range(-4, 5, 2)}


@pytest.mark.parametrize("name", ["ring8", "grid25", "spiral", "moons"])
def test_toys_are_deterministic_and_use_only_the_given_generator(name):
    toy = load_data(name)
    torch.manual_seed(123)
    global_state = torch.get_rng_state()
    a, b, c = toy.sample(500, gen(7)), toy.sample(500, gen(7)), toy.sample(500, gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), global_state)
    g = gen(7)
    first, second = toy.sample(250, g), toy.sample(250, g)
    assert not torch.equal(first, second)  # the generator advances between batches


def test_spiral_and_moons_are_bounded_noisy_shapes():
    spiral = load_data("spiral").sample(5000, gen())
    radius = spiral.norm(dim=1)
    assert load_data("spiral").modes is None
    assert radius.min() > 0.25 and radius.max() < 1.1  # t in [1.5pi, 4.5pi] scaled by 4.5pi
    moons = load_data("moons").sample(5000, gen())
    assert load_data("moons").modes is None
    assert moons[:, 0].abs().max() < 1.15 and moons[:, 1].abs().max() < 0.65
    assert moons.mean(dim=0).abs().max() < 0.05  # centred
    # Points on the upper moon (y > 0.2) are all on the outer arc: distance ~1/1.5 from its centre.
    upper = moons[moons[:, 1] > 0.25]
    centre = torch.tensor([-0.5, -0.25]) / 1.5
    torch.testing.assert_close((upper - centre).norm(dim=1).mean(), torch.tensor(1 / 1.5), atol=0.02, rtol=0)


# ---------------------------------------------------------------- CSV points

def test_csv_with_header_commas_blank_lines_and_comments(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("x,y\n# a comment\n1.5, -2\n\n3,4e-1\n")
    data = load_data(str(path))
    assert isinstance(data, Dataset) and data.kind == "points" and data.shape == (2,)
    torch.testing.assert_close(data.x, torch.tensor([[1.5, -2.0], [3.0, 0.4]]))
    assert data.y is None and data.num_classes == 0 and len(data) == 2


def test_csv_whitespace_separated_without_header(tmp_path):
    path = tmp_path / "pts.txt"
    path.write_text("0 1\n2\t3\n")
    assert load_data(str(path)).x.tolist() == [[0.0, 1.0], [2.0, 3.0]]


@pytest.mark.parametrize("text, line", [("x,y\n1,2\n1,2,3\n", 3), ("1,2\nfoo,bar\n", 2),
                                        ("1\n", 1), ("1,2\n3,nan\n", 2)])
def test_csv_errors_name_the_line(tmp_path, text, line):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(GanforgeError, match=f"line {line}: expected 2 finite numbers"):
        load_data(str(path))


def test_csv_without_points_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("x,y\n")
    with pytest.raises(GanforgeError, match="no points found"):
        load_data(str(path))


# ---------------------------------------------------------------- digits

def test_digits_are_uint8_images_with_ten_labels():
    from sklearn.datasets import load_digits

    data = load_data("digits")
    assert data.kind == "images" and data.x.shape == (1797, 1, 8, 8) and data.x.dtype == torch.uint8
    assert data.x.is_contiguous() and int(data.x.min()) == 0 and int(data.x.max()) == 255
    expected = np.rint(load_digits().images * 255 / 16).astype(np.uint8)
    assert np.array_equal(data.x[:, 0].numpy(), expected)
    assert data.y.dtype == torch.int64 and set(data.y.tolist()) == set(range(10))
    assert data.class_names == [str(i) for i in range(10)] and data.num_classes == 10


@pytest.mark.parametrize("resolution, channels", [(32, None), (16, 3)])
def test_digits_are_resized_once_at_load(resolution, channels):
    data = load_data("digits", resolution=resolution, channels=channels)
    assert data.x.shape == (1797, channels or 1, resolution, resolution)
    assert data.x.dtype == torch.uint8 and data.x.is_contiguous()
    assert data.shape == (channels or 1, resolution, resolution)
    # Antialiased bilinear keeps the mean brightness.
    assert abs(data.x.float().mean() - load_data("digits").x.float().mean()) < 2


# ---------------------------------------------------------------- IDX files

def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def small_mnist(root: Path, gz: bool, prefix: str = "train", n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (n, 6, 7)), rng.integers(0, 10, n)
    ext = ".gz" if gz else ""
    write_idx(root / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(root / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_idx_directory_round_trip(tmp_path, gz):
    images, labels = small_mnist(tmp_path, gz)
    test_images, _ = small_mnist(tmp_path, gz, prefix="t10k", n=3)
    data = load_data(str(tmp_path))
    assert data.kind == "images" and data.x.shape == (5, 1, 6, 7) and data.x.dtype == torch.uint8
    assert np.array_equal(data.x[:, 0].numpy(), images) and data.y.tolist() == labels.tolist()
    assert np.array_equal(load_data(str(tmp_path), split="test").x[:, 0].numpy(), test_images)


def test_single_idx_file_finds_its_labels(tmp_path):
    images, labels = small_mnist(tmp_path, gz=True)
    data = load_data(str(tmp_path / "train-images-idx3-ubyte.gz"), resolution=12)
    assert data.x.shape == (5, 1, 12, 12) and data.y.tolist() == labels.tolist()


def test_idx_labels_are_optional(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 4, 4)))
    data = load_data(str(tmp_path))
    assert data.y is None and data.num_classes == 0


def test_idx_corrupt_header_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(GanforgeError, match=r"train-images-idx3-ubyte: corrupt or truncated IDX header \(magic 0x12345678"):
        read_idx(path)


@pytest.mark.parametrize("cut", [6, 20, 50])
def test_idx_truncated_files_are_errors(tmp_path, cut):
    data = idx_bytes(np.zeros((3, 4, 4)))
    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(data[:cut])
    with pytest.raises(GanforgeError, match=r"x-images-idx3-ubyte: (truncated IDX header|size mismatch)"):
        read_idx(path)


def test_idx_truncated_gzip_stream_is_an_error(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 9, 9))))[:-20])
    with pytest.raises(GanforgeError, match="train-images-idx3-ubyte.gz: cannot read IDX file"):
        load_data(str(tmp_path))


def test_idx_label_count_mismatch_is_an_error(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 4, 4)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4))
    with pytest.raises(GanforgeError, match="train-labels-idx1-ubyte: expected an IDX label file .* with 3 labels"):
        load_data(str(tmp_path))


def test_idx_label_file_is_not_images(tmp_path):
    path = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4))
    with pytest.raises(GanforgeError, match="not an IDX image file"):
        load_data(str(path))


def test_idx_unknown_split(tmp_path):
    small_mnist(tmp_path, gz=False)
    with pytest.raises(GanforgeError, match="split 'val' is not known"):
        load_data(str(tmp_path), split="val", resolution=8)


def test_fashion_mnist_missing_directory_says_how_to_get_it(tmp_path):
    with pytest.raises(GanforgeError, match="install Debian's dataset-fashion-mnist or pass --data PATH"):
        load_fashion_mnist(root=tmp_path / "absent")
    with pytest.raises(GanforgeError, match=r"expected train-images-idx3-ubyte\[.gz\]\); install Debian"):
        load_fashion_mnist(root=tmp_path)


@pytest.mark.skipif(not FASHION_MNIST_ROOT.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_the_debian_package():
    train = load_data("fashion-mnist")
    assert train.name == "fashion-mnist" and train.x.shape == (60000, 1, 28, 28)
    assert train.x.dtype == torch.uint8 and train.y.shape == (60000,)
    assert train.class_names == FASHION_CLASSES and train.num_classes == 10
    assert torch.bincount(train.y).tolist() == [6000] * 10
    test = load_data("fashion-mnist", split="test", resolution=32)
    assert test.x.shape == (10000, 1, 32, 32) and test.x.dtype == torch.uint8


# ---------------------------------------------------------------- image folders

def save(im: Image.Image, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kwargs)
    return path


def gradient(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    return (np.add.outer(np.arange(h), np.arange(w)) * 255 / (w + h)).astype(np.uint8)  # (h, w)


def mixed_folder(root: Path) -> None:
    grey = gradient((40, 30))
    save(Image.fromarray(grey, "L"), root / "grey.png")
    save(Image.fromarray(np.stack([grey] * 3, -1), "RGB").resize((64, 48)), root / "photo.jpg", quality=90)
    save(Image.new("RGBA", (20, 20), (255, 0, 0, 0)), root / "clear.png")  # fully transparent
    save(Image.new("RGB", (33, 17), (0, 0, 255)).convert("P"), root / "palette.png")
    save(Image.new("CMYK", (24, 24), (255, 0, 0, 0)), root / "cmyk.jpg")
    save(Image.fromarray(np.full((10, 12), 65535, np.uint16)), root / "deep.png")  # I;16
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "notes.txt").write_text("not an image\n")
    good_jpeg = root / "photo.jpg"
    (root / "truncated.jpg").write_bytes(good_jpeg.read_bytes()[:400])
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: skipped without a warning


def test_folder_of_mixed_images_skips_bad_files_with_one_warning_each(tmp_path, caplog):
    mixed_folder(tmp_path)
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_data(str(tmp_path), resolution=16)
    assert data.kind == "images" and data.x.shape == (6, 3, 16, 16) and data.x.dtype == torch.uint8
    assert data.y is None and data.x.is_contiguous(memory_format=torch.channels_last)  # (the layout the models train in)
    warned = sorted(Path(r.args[0]).name for r in caplog.records)
    assert warned == ["corrupt.png", "notes.txt", "truncated.jpg"]
    assert all("\n" not in r.getMessage() for r in caplog.records)
    # Sorted order: clear, cmyk, deep, grey, palette, photo.
    clear, cmyk, deep, _, palette, _ = data.x
    assert clear.min() == 255  # transparent pixels land on white, not black or red
    assert cmyk[0].float().mean() < 40 and cmyk[1:].float().mean() > 200  # cyan = no red
    assert deep.min() == 255  # 16-bit full scale -> 8-bit full scale
    assert palette[2].min() > 240 and palette[:2].max() < 15  # blue survives the palette


def test_folder_as_greyscale(tmp_path):
    mixed_folder(tmp_path)
    data = load_data(str(tmp_path), resolution=8, channels=1)
    assert data.x.shape == (6, 1, 8, 8)


def test_folder_resizes_shorter_side_and_crops_the_centre(tmp_path):
    wide = np.zeros((16, 32), np.uint8)
    wide[:, 16:] = 255  # left half black, right half white
    save(Image.fromarray(wide, "L"), tmp_path / "wide.png")
    x = load_data(str(tmp_path), resolution=8, channels=1).x  # 16x32 -> 8x16 -> crop cols 4..12
    assert x.shape == (1, 1, 8, 8)
    assert x[0, 0, :, :3].max() < 10 and x[0, 0, :, -3:].min() > 245


@pytest.mark.parametrize("resolution", ["8x4", (4, 8), [4, 8]])
def test_folder_at_a_non_square_size_covers_then_crops_the_centre(tmp_path, resolution):
    tall = np.zeros((32, 16), np.uint8)
    tall[:16] = 255  # top half white, bottom half black
    save(Image.fromarray(tall, "L"), tmp_path / "tall.png")
    # 8 wide x 4 tall: 16x32 -> 8x16 covers it -> rows 6..10 cropped: 2 white rows, 2 black
    x = load_data(str(tmp_path), resolution=resolution, channels=1).x
    assert x.shape == (1, 1, 4, 8)
    assert x[0, 0, 0].min() > 245 and x[0, 0, -1].max() < 10


def test_in_memory_images_at_a_non_square_size_match_the_folder_rule():
    data = load_data("digits", resolution="16x8")  # 8x8 digits -> 16x16 -> rows 4..12
    assert data.x.shape == (1797, 1, 8, 16) and data.shape == (1, 8, 16)
    square = load_data("digits", resolution=16).x
    assert torch.equal(data.x, square[:, :, 4:12, :])


def test_folder_labels_come_from_sub_folders(tmp_path):
    for name, colour in [("dog", 200), ("cat", 50)]:
        for i in range(2):
            save(Image.new("L", (9, 9), colour), tmp_path / name / f"{i}.png")
    data = load_data(str(tmp_path), resolution=9)
    assert data.class_names == ["cat", "dog"] and data.num_classes == 2
    assert data.y.tolist() == [0, 0, 1, 1] and data.x[data.y == 1].min() == 200


def test_folder_with_loose_files_or_one_sub_folder_has_no_labels(tmp_path):
    save(Image.new("L", (9, 9)), tmp_path / "only" / "a.png")
    assert load_data(str(tmp_path), resolution=4).y is None
    save(Image.new("L", (9, 9)), tmp_path / "other" / "b.png")
    save(Image.new("L", (9, 9)), tmp_path / "loose.png")
    assert load_data(str(tmp_path), resolution=4).y is None


def test_folder_errors(tmp_path, caplog):
    with pytest.raises(GanforgeError, match="no decodable images among 0 files"):
        load_data(str(tmp_path), resolution=8)
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(GanforgeError, match="no decodable images among 1 files"):
        load_data(str(tmp_path), resolution=8)
    with pytest.raises(GanforgeError, match="a resolution is required"):
        load_data(str(tmp_path))


def test_large_folder_shows_progress(tmp_path, capsys):
    for i in range(201):
        save(Image.new("L", (4, 4), i), tmp_path / f"{i:03d}.png")
    data = load_data(str(tmp_path), resolution=4)
    assert len(data) == 201 and data.x[200].min() == 200
    assert "decoding" in capsys.readouterr().err


# ---------------------------------------------------------------- NumPy arrays

def test_npy_points(tmp_path):
    np.save(tmp_path / "p.npy", np.array([[0.5, 1.0], [2.0, -3.0]]))
    data = load_data(str(tmp_path / "p.npy"), resolution=32)  # resolution ignored for points
    assert data.kind == "points" and data.x.dtype == torch.float32 and data.x.shape == (2, 2)


@pytest.mark.parametrize("array, expected_shape, expected_first", [
    (np.full((2, 5, 5), 7, np.uint8), (2, 1, 5, 5), 7),                 # (N, H, W) uint8 kept
    (np.full((2, 5, 5, 4), 1.0, np.float32), (2, 3, 5, 5), 255),        # NHWC [0,1], alpha dropped
    (np.full((2, 3, 5, 5), -1.0), (2, 3, 5, 5), 0),                     # NCHW [-1,1]
    (np.full((2, 5, 5, 1), 200, np.int64), (2, 1, 5, 5), 200),          # integers 0..255
    (np.full((2, 1, 5, 5), 100.0), (2, 1, 5, 5), 100),                  # float 0..255 integers
    (np.ones((2, 5, 5), bool), (2, 1, 5, 5), 255),                      # a mask
])
def test_npy_images(tmp_path, array, expected_shape, expected_first):
    np.save(tmp_path / "a.npy", array)
    data = load_data(str(tmp_path / "a.npy"))
    assert data.kind == "images" and data.x.dtype == torch.uint8 and data.x.is_contiguous()
    assert data.x.shape == expected_shape and int(data.x[0, 0, 0, 0]) == expected_first


def test_npy_value_mapping_of_minus_one_to_one():
    from ganforge.data.arrays import _to_uint8

    out = _to_uint8(np.array([-1.0, 0.0, 1.0]), Path("a.npy"))
    assert out.tolist() == [0, 128, 255]


@pytest.mark.parametrize("key, label_key", [("x", "y"), ("images", "labels"), ("data", None), ("arr_0", None)])
def test_npz_keys(tmp_path, key, label_key):
    arrays = {key: np.zeros((3, 4, 4), np.uint8)}
    if label_key:
        arrays[label_key] = np.array([0, 2, 1])
    np.savez(tmp_path / "a.npz", **arrays)
    data = load_data(str(tmp_path / "a.npz"), resolution=8, channels=3)
    assert data.x.shape == (3, 3, 8, 8)
    assert (data.y.tolist() if label_key else data.y) == ([0, 2, 1] if label_key else None)
    assert data.num_classes == (3 if label_key else 0)


@pytest.mark.parametrize("arrays, message", [
    ({"pics": np.zeros((2, 4, 4))}, r"no data array \(found keys \['pics'\]; expected one of x, images"),
    ({"x": np.zeros((4, 5))}, r"shape \(4, 5\) is not points \(N, 2\) or images"),
    ({"x": np.full((2, 4, 4), 300.0)}, r"values span \[300, 300\]"),
    ({"x": np.full((2, 4, 4), -2.0)}, r"values span \[-2, -2\]"),
    ({"x": np.full((2, 4, 4), 0.5 + 1)}, r"values span \[1.5, 1.5\]"),
    ({"x": np.zeros((2, 5, 6, 7))}, r"cannot tell the channel axis of shape \(2, 5, 6, 7\)"),
    ({"x": np.zeros((2, 4, 4)), "y": np.array([0, 1, 2])}, "labels must be 2 non-negative integers"),
    ({"x": np.zeros((2, 4, 4)), "y": np.array([0.5, 1])}, "labels must be 2 non-negative integers"),
    ({"x": np.zeros((0, 4, 4))}, "holds no examples"),
    ({"x": np.array(["a", "b"])}, "is not numeric"),
])
def test_npz_errors(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(GanforgeError, match=message):
        load_data(str(tmp_path / "bad.npz"))


def test_npy_pickled_or_corrupt_is_an_error(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(GanforgeError, match="obj.npy: cannot read as a NumPy array file"):
        load_data(str(tmp_path / "obj.npy"))
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(GanforgeError, match="junk.npz: cannot read as a NumPy array file"):
        load_data(str(tmp_path / "junk.npz"))


def test_rgb_to_grey_uses_luminance(tmp_path):
    rgb = np.zeros((1, 2, 2, 3), np.uint8)
    rgb[..., 1] = 255  # pure green
    np.save(tmp_path / "g.npy", rgb)
    assert load_data(str(tmp_path / "g.npy"), channels=1).x.flatten().tolist() == [150] * 4  # 0.587*255


# ---------------------------------------------------------------- the registry

def test_registry_lists_every_builtin():
    assert set(DATASETS) == {"ring8", "grid25", "spiral", "moons", "digits", "fashion-mnist", "bach-chorales",
                             "folk-melodies", "qm9", "spoken-digits", "asterisk-digits", "shakespeare", "fortunes",
                             "text-oracle", "moving-fashion",
                             "moving-digits"}
    assert all(isinstance(text, str) and "\n" not in text for text in DATASETS.values())


def test_unknown_name_lists_valid_names_and_accepts_paths():
    with pytest.raises(GanforgeError) as info:
        load_data("ring")
    message = str(info.value)
    assert "\n" not in message and "did you mean 'ring8'" in message and "or a path" in message
    assert all(name in message for name in DATASETS)


def test_missing_path_and_unsupported_file(tmp_path):
    with pytest.raises(GanforgeError, match=r"nowhere/data.npz: no such file or directory"):
        load_data(str(tmp_path / "nowhere" / "data.npz"))
    (tmp_path / "model.bin").write_bytes(b"\0")
    with pytest.raises(GanforgeError, match=r"model.bin: unsupported file type"):
        load_data(str(tmp_path / "model.bin"))


@pytest.mark.parametrize("kwargs, message", [({"resolution": 0}, "resolution must be a positive side"),
                                             ({"resolution": 8.5}, "resolution must be a positive side"),
                                             ({"resolution": "8x"}, "or WIDTHxHEIGHT such as 64x48, got '8x'"),
                                             ({"resolution": "0x8"}, "resolution must be"),
                                             ({"resolution": "²"}, "resolution must be"),  # isdigit, not int
                                             ({"resolution": True}, "resolution must be"),
                                             ({"channels": 4}, "channels must be 1 or 3")])
def test_bad_resolution_or_channels(kwargs, message):
    with pytest.raises(GanforgeError, match=message):
        load_data("digits", **kwargs)


def test_dataset_num_classes_without_names():
    data = Dataset("t", "points", torch.zeros(3, 2), torch.tensor([0, 4, 1]))
    assert data.num_classes == 5 and data.shape == (2,) and len(data) == 3

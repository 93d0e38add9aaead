"""ganforge.data.cache: an image folder decoded once, read back without Pillow, rebuilt when
the folder or the decode settings change; plus mode conversion checks for folders."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.data import load_data
from ganforge.data.folder import load_image_folder, read_image
from ganforge.errors import GanforgeError


def save(im: Image.Image, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kwargs)
    return path


def labelled_folder(root: Path) -> Path:
    for name, level in [("cat", 40), ("dog", 200)]:
        for i in range(3):
            save(Image.new("RGB", (12 + i, 10), (level, i * 50, 255 - level)), root / name / f"{i}.png")
    (root / "dog" / "notes.txt").write_text("not an image\n")
    return root


def cache_files(cache_dir: Path) -> list[str]:
    return sorted(p.suffix for p in cache_dir.iterdir())


def same(a, b) -> None:
    assert torch.equal(a.x, b.x) and a.class_names == b.class_names
    assert (a.y is None and b.y is None) or torch.equal(a.y, b.y)


# ---------------------------------------------------------------- hits

def test_second_load_reads_the_cache_without_pillow(tmp_path, monkeypatch, caplog):
    root, cache = labelled_folder(tmp_path / "images"), tmp_path / "run"
    first = load_data(str(root), resolution=8, cache_dir=cache)
    assert cache_files(cache) == [".json", ".u8"]
    caplog.clear()
    with monkeypatch.context() as m:
        m.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow was asked to open an image"))
        with caplog.at_level(logging.WARNING, logger="ganforge"):
            second = load_data(str(root), resolution=8, cache_dir=cache)
    same(first, second)
    assert second.x.shape == (6, 3, 8, 8) and second.x.is_contiguous(memory_format=torch.channels_last) and second.x.dtype == torch.uint8
    assert second.class_names == ["cat", "dog"] and second.y.tolist() == [0, 0, 0, 1, 1, 1]
    # The skipped file is reported again, exactly as a fresh decode reports it.
    assert [Path(r.args[0]).name for r in caplog.records] == ["notes.txt"]
    same(first, load_data(str(root), resolution=8))  # the cache changes nothing about the result


def test_without_cache_dir_nothing_is_written(tmp_path):
    root = labelled_folder(tmp_path / "images")
    before = sorted(tmp_path.rglob("*"))
    load_image_folder(root, 8)
    assert sorted(tmp_path.rglob("*")) == before


# ---------------------------------------------------------------- invalidation

def test_added_file_rebuilds_the_cache(tmp_path, monkeypatch):
    root, cache = labelled_folder(tmp_path / "images"), tmp_path / "run"
    assert len(load_image_folder(root, 8, cache_dir=cache)) == 6
    save(Image.new("RGB", (9, 9), (1, 2, 3)), root / "cat" / "new.png")
    data = load_image_folder(root, 8, cache_dir=cache)
    assert len(data) == 7 and data.y.tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert cache_files(cache) == [".json", ".u8"]  # replaced, not accumulated
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded again"))
    same(data, load_image_folder(root, 8, cache_dir=cache))  # the rebuilt entry is used


def test_changed_removed_or_touched_files_rebuild_the_cache(tmp_path, monkeypatch):
    root, cache = labelled_folder(tmp_path / "images"), tmp_path / "run"
    load_image_folder(root, 8, cache_dir=cache)
    target = root / "cat" / "0.png"
    save(Image.new("RGB", (12, 10), (7, 7, 7)), target)  # same size in pixels, new content
    data = load_image_folder(root, 8, cache_dir=cache)
    assert data.x[0].max() == 7
    (root / "dog" / "2.png").unlink()
    assert len(load_image_folder(root, 8, cache_dir=cache)) == 5
    # Same bytes, new mtime: rebuilt (fingerprints do not read file contents).
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    decodes = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: decodes.append(a[0]) or real_open(*a, **k))
    load_image_folder(root, 8, cache_dir=cache)
    assert len(decodes) == 6  # every file, the text file included
    decodes.clear()
    load_image_folder(root, 8, cache_dir=cache)
    assert decodes == []


def test_resolution_and_channels_have_their_own_entries(tmp_path, monkeypatch):
    root, cache = labelled_folder(tmp_path / "images"), tmp_path / "run"
    a = load_image_folder(root, 8, cache_dir=cache)
    b = load_image_folder(root, 4, channels=1, cache_dir=cache)
    assert a.x.shape == (6, 3, 8, 8) and b.x.shape == (6, 1, 4, 4)
    assert len(list(cache.glob("*.u8"))) == 2
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded again"))
    assert torch.equal(load_image_folder(root, 8, cache_dir=cache).x, a.x)
    assert torch.equal(load_image_folder(root, 4, channels=1, cache_dir=cache).x, b.x)


def test_a_non_square_size_has_its_own_entry_and_is_read_back(tmp_path, monkeypatch):
    root, cache = labelled_folder(tmp_path / "images"), tmp_path / "run"
    square = load_image_folder(root, 8, cache_dir=cache)
    wide = load_image_folder(root, "8x4", cache_dir=cache)
    tall = load_image_folder(root, "4x8", cache_dir=cache)
    assert (square.x.shape, wide.x.shape, tall.x.shape) == ((6, 3, 8, 8), (6, 3, 4, 8), (6, 3, 8, 4))
    assert len(list(cache.glob("*.u8"))) == 3
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("decoded again"))
    assert torch.equal(load_image_folder(root, "8x4", cache_dir=cache).x, wide.x)


# ---------------------------------------------------------------- damaged or unwritable caches

def test_damaged_cache_is_ignored_with_a_warning_and_rebuilt(tmp_path, caplog):
    root, cache = labelled_folder(tmp_path / "images"), tmp_path / "run"
    load_image_folder(root, 8, cache_dir=cache)
    good = load_image_folder(root, 8)  # (not the mapped file, which the cut below truncates in place)
    array = next(cache.glob("*.u8"))
    array.write_bytes(array.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        again = load_image_folder(root, 8, cache_dir=cache)
    same(good, again)
    assert any("ignoring the image cache" in r.getMessage() for r in caplog.records)
    assert array.stat().st_size == 6 * 8 * 8 * 3  # rewritten whole


def test_unwritable_cache_dir_is_a_warning_not_an_error(tmp_path, caplog):
    root = labelled_folder(tmp_path / "images")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_image_folder(root, 8, cache_dir=blocker / "cache")
    assert len(data) == 6
    assert any("could not write the image cache" in r.getMessage() for r in caplog.records)


def test_folder_without_images_caches_nothing_and_still_errors(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.txt").write_text("x")
    with pytest.raises(GanforgeError, match="no decodable images among 1 files"):
        load_image_folder(tmp_path / "images", 8, cache_dir=tmp_path / "run")
    assert list((tmp_path / "run").iterdir()) == []  # (the folder is made before decoding starts)


# ---------------------------------------------------------------- modes (fresh and cached alike)

def modes_folder(root: Path) -> Path:
    save(Image.fromarray(np.full((6, 6), 90, np.uint8), "L"), root / "a_grey.png")
    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 128  # half-transparent red over white
    save(Image.fromarray(rgba, "RGBA"), root / "b_rgba.png")
    save(Image.new("CMYK", (6, 6), (0, 0, 0, 255)), root / "c_cmyk.jpg", quality=95)  # black ink
    save(Image.fromarray(np.full((6, 6), 32896, np.uint16)), root / "d_deep.png")  # 16-bit mid grey
    good = save(Image.new("RGB", (64, 64), (10, 200, 30)), root / "e_photo.jpg", quality=90)
    (root / "f_truncated.jpg").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return root


@pytest.mark.parametrize("cached", [False, True])
def test_modes_convert_sensibly_and_truncated_jpeg_is_skipped(tmp_path, caplog, cached):
    root, cache = modes_folder(tmp_path / "images"), tmp_path / "run"
    if cached:
        load_image_folder(root, 6, cache_dir=cache)
        caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        rgb = load_image_folder(root, 6, cache_dir=cache if cached else None).x.int()
    assert [Path(r.args[0]).name for r in caplog.records] == ["f_truncated.jpg"]
    assert "truncated" in caplog.records[0].getMessage().lower()
    grey, rgba, cmyk, deep, photo = rgb[:, :, 3, 3]  # centre pixel of each, (C,)
    assert grey.tolist() == [90, 90, 90]
    assert abs(rgba[0] - 255) <= 1 and all(abs(v - 127) <= 2 for v in rgba[1:])  # pink
    assert cmyk.max() < 20  # black ink stays black, not inverted
    assert deep.tolist() == [128, 128, 128]  # 32896 / 257
    assert abs(photo - torch.tensor([10, 200, 30])).max() < 8
    mono = load_image_folder(root, 6, channels=1).x.int()[:, 0, 3, 3]
    assert mono[0] == 90 and mono[3] == 128 and abs(mono[1] - (0.299 * 255 + 0.587 * 127 + 0.114 * 127)) < 3


def test_read_image_converts_one_file_and_names_bad_ones(tmp_path):
    path = save(Image.new("RGBA", (20, 10), (0, 0, 255, 255)), tmp_path / "wide.png")
    x = read_image(path, 8, 3)
    assert x.shape == (8, 8, 3) and x.dtype == np.uint8 and x[..., 2].min() == 255
    with pytest.raises(GanforgeError, match="no such image file"):
        read_image(tmp_path / "missing.png", 8, 3)
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(GanforgeError, match=r"bad\.png: not a decodable image"):
        read_image(tmp_path / "bad.png", 8, 1)

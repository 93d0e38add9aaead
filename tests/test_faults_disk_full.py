"""A full disk (ENOSPC) during a checkpoint, an export or a cache write: one clear line, the
previous files intact, no partial file left behind that a later run would trust.

Two ways to fill the disk. Always: writes through ganforge.atomic to chosen files get a few
bytes and then ENOSPC, as a full disk gives them (the layers above it, torch.save, np.save,
Pillow, see the error their own way). Where this machine lets us mount one (root): a real
2 MiB tmpfs, filled up to a chosen number of free bytes, under a real training run.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from full_disk import FullDisk
from ganforge import atomic, modeling
from ganforge.cli import main
from ganforge.data import cache, music
from ganforge.data.folder import load_image_folder
from ganforge.errors import GanforgeError
from ganforge.training import checkpoint
from ganforge.training.stats import JsonlSink
from ganforge.training.trainer import Trainer


@pytest.fixture
def disk_full_for(monkeypatch):
    """disk_full_for(pattern, free=100): atomic writes whose temporary file's name matches the
    glob `pattern` (".step-*": checkpoints) meet a full disk after `free` bytes."""
    real_open = open

    def install(pattern: str, free: int = 100) -> None:
        def fake_open(path, mode="r", *args, **kwargs):
            f = real_open(path, mode, *args, **kwargs)
            return FullDisk(f, free) if fnmatch.fnmatch(Path(path).name, pattern) else f
        monkeypatch.setattr(atomic, "open", fake_open, raising=False)
    return install


def _suggested(line: str, argv: list[str]) -> list[str]:
    """The ganforge command an error line says to run next (argv if it names none)."""
    return line.split("resume with ganforge ", 1)[1].split() if "resume with ganforge " in line else argv


def _one_error_line(code: int, err: str, *fragments: str) -> str:
    assert code == 2 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _temporaries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".tmp" in p.name)


def _train_quietly(helpers, cfg, run: Path, **kwargs) -> None:
    """helpers.train_run without the end's pictures and report (seconds each; no weights change)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Trainer, "summarise", lambda self: None)
        helpers.train_run(cfg, run, **kwargs)


def _resume_and_compare(run: Path, tmp_path: Path, helpers, cfg, total: int, argv: list[str], capsys) -> None:
    """Once there is room, the run goes on to `total` (by `argv`, the command the error line gave,
    else the one that met the full disk) and ends as one that never met a full disk did."""
    assert main([*argv, "--no-progress"]) == 0
    capsys.readouterr()
    _train_quietly(helpers, cfg, tmp_path / "one")
    _train_quietly(helpers, None, tmp_path / "one", resume="latest", steps=total)
    helpers.assert_same_state(checkpoint.load(checkpoint.checkpoint_path(tmp_path / "one", total)),
                              checkpoint.load(checkpoint.checkpoint_path(run, total)))


# ----------------------------------------------------------------- checkpoints and exports
def test_a_full_disk_at_a_checkpoint_is_one_line_and_the_earlier_ones_still_load(
        tmp_path, helpers, disk_full_for, capsys, monkeypatch):
    cfg = helpers.tiny_config("ring8", train={"steps": 4, "checkpoint_every": 2})
    run = tmp_path / "run"
    _train_quietly(helpers, cfg, run)
    disk_full_for(".step-*")
    argv = ["train", "--out", str(run), "--resume", "latest", "--steps", "8"]
    line = _one_error_line(main([*argv, "--no-progress"]), capsys.readouterr().err, "cannot write", "step-00000006.pt",
                           "the disk is full", "up to step 4 are intact", "--resume latest --steps 8")
    assert [checkpoint.step_of(p) for p in checkpoint.list_checkpoints(run)] == [2, 4]
    for p in checkpoint.list_checkpoints(run):
        checkpoint.load(p)
    assert _temporaries(run) == []
    monkeypatch.undo()  # room again: nothing was lost
    _resume_and_compare(run, tmp_path, helpers, cfg, 8, _suggested(line, argv), capsys)


@pytest.mark.parametrize("which", ["model.safetensors", "config.json"])
def test_a_full_disk_during_an_export_keeps_the_earlier_export(which, copy_run, disk_full_for, capsys, helpers):
    run = copy_run("ring8")
    before = helpers.snapshot(run / "model")
    disk_full_for(f".{which}.*")
    code = main(["train", "--out", str(run), "--resume", "latest", "--no-progress"])  # re-exports the finished run
    _one_error_line(code, capsys.readouterr().err, f"cannot export to {run / 'model'}", "the disk is full",
                    "the earlier export there is intact")
    assert helpers.snapshot(run / "model") == before
    modeling.load(run)
    assert _temporaries(run) == [] and not any(run.glob(".model.*"))


def test_a_full_disk_during_save_pretrained_of_a_new_model_leaves_nothing(trained_runs, tmp_path, disk_full_for):
    G = modeling.load(trained_runs["digits"])
    disk_full_for(".model.safetensors.*")
    with pytest.raises(GanforgeError, match="the disk is full") as info:
        modeling.save_pretrained(G, tmp_path / "out")
    assert "\n" not in str(info.value) and "earlier export" not in str(info.value)
    assert sorted(tmp_path.iterdir()) == []  # no folder that looks like a model


def test_a_full_disk_at_a_metrics_row_leaves_no_half_row(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    sink = JsonlSink(path)
    sink(1, {"Loss/D": 1.0})
    before = path.read_bytes()
    real_write = os.write

    def write(fd, data):  # the metrics file takes 5 bytes of the row, then the disk is full
        if os.readlink(f"/proc/self/fd/{fd}") != os.path.realpath(path):
            return real_write(fd, data)
        if os.fstat(fd).st_size == len(before):
            return real_write(fd, bytes(data[:5]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(GanforgeError, match=f"cannot write {path}: the disk is full"):
        sink(2, {"Loss/D": 2.0})
    monkeypatch.undo()
    assert path.read_bytes() == before


def test_a_torn_metrics_row_is_dropped_when_a_run_resumes(copy_run, capsys):
    run = copy_run("ring8")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 20, "Loss/D": 0.')  # what a full disk or a lost tail leaves
    assert main(["train", "--out", str(run), "--resume", "latest", "--steps", "22", "--no-progress"]) == 0
    capsys.readouterr()
    rows = [line for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(line.startswith("{") and line.endswith("}") for line in rows) and '"step": 22' in rows[-1]


# ----------------------------------------------------------------- caches
def _folder(root: Path) -> Path:
    for i in range(6):
        (root / "a").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (12, 10), (40 * i, 0, 255 - 40 * i)).save(root / "a" / f"{i}.png")
    return root


@pytest.mark.parametrize("which", ["u8", "json"])
def test_a_full_disk_at_the_image_cache_is_a_warning_and_nothing_is_trusted(which, tmp_path, disk_full_for,
                                                                            monkeypatch, caplog):
    root, cdir = _folder(tmp_path / "images"), tmp_path / "cache"
    earlier = load_image_folder(root, 16, cache_dir=cdir)  # another size's entry, written before
    expected = load_image_folder(root, 8)
    disk_full_for(f".folder-*.{which}.*")  # the array, or the manifest that vouches for it
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        got = load_image_folder(root, 8, cache_dir=cdir)
    assert torch.equal(got.x, expected.x)
    assert any("could not write the image cache" in r.getMessage() and "the disk is full" in r.getMessage()
               for r in caplog.records)
    _, manifest = cache.entry_paths(cdir, root, (8, 8), 3)
    assert not manifest.exists() and _temporaries(cdir) == []  # nothing that vouches for a partial array
    monkeypatch.undo()
    with monkeypatch.context() as m:  # the earlier entry is intact: read without Pillow
        m.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow was asked to open an image"))
        assert torch.equal(load_image_folder(root, 16, cache_dir=cdir).x, earlier.x)
    assert torch.equal(load_image_folder(root, 8, cache_dir=cdir).x, expected.x) and manifest.exists()


def test_a_full_disk_at_the_reference_cache_is_one_line_and_leaves_no_file(tmp_path, disk_full_for):
    from ganforge.metrics import features, reference

    data, cdir = tmp_path / "tiny.npy", tmp_path / "cache"
    np.save(data, np.random.default_rng(0).integers(0, 256, (40, 1, 8, 8), dtype=np.uint8))
    ext = features.get_extractor(_Tiny(), label="tiny")
    earlier = reference.reference_stats(str(data), ext, n=20, cache_dir=cdir)
    disk_full_for(".*.safetensors.*")
    with pytest.raises(GanforgeError, match="the disk is full") as info:
        reference.reference_stats(str(data), ext, cache_dir=cdir)
    assert "\n" not in str(info.value) and "cannot write reference statistics" in str(info.value)
    assert sorted(p.name for p in cdir.iterdir()) == [earlier.path.name]
    assert reference._read(earlier.path, earlier.fingerprint) is not None


def test_a_full_disk_at_the_music_cache_is_a_warning_and_nothing_is_trusted(tmp_path, disk_full_for, caplog):
    paths = (tmp_path / "music-x.npz", tmp_path / "music-x.json")
    pieces = music.Pieces(np.zeros((10, 4), np.int32), np.array([0, 10]), np.array([64]), ["a"], ["S"], [0], 100.0)
    disk_full_for(".music-x.json.*")  # the arrays fit; the manifest that vouches for them does not
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        music._write(paths, "k", pieces)
    assert any("the disk is full" in r.getMessage() for r in caplog.records)
    assert music._read(paths, "k") is None and _temporaries(tmp_path) == []


class _Tiny(torch.nn.Module):  # uint8 (B, 1, 8, 8) -> 5 features
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(64, 5)

    def forward(self, x):
        return self.lin(x.float().flatten(1))


# ----------------------------------------------------------------- a real full disk
@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (needs root and mount(8); skipped where there are not)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"cannot mount a tmpfs here ({e})")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()[:100]})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def _fill(mnt: Path, free: int) -> Path:
    st = os.statvfs(mnt)
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
    return filler


# free bytes -> what meets the full disk (the toy's checkpoint is ~73 kB, its report ~500 kB)
REAL = {"set-up": (0, "cannot write to run directory"), "checkpoint": (40_000, "checkpoints/step-00000011.pt"),
        "summary": (250_000, "")}


@pytest.mark.parametrize("case", list(REAL))
def test_a_real_full_disk_under_a_training_run(case, small_disk, tmp_path, helpers, capsys):
    free, fragment = REAL[case]
    cfg = helpers.tiny_config("ring8", train={"steps": 10, "checkpoint_every": 1, "sample_every": 1000})
    run = small_disk / "run"
    _train_quietly(helpers, cfg, run)
    filler = _fill(small_disk, free)
    argv = ["train", "--out", str(run), "--resume", "latest", "--steps", "30"]
    line = _one_error_line(main([*argv, "--no-progress"]), capsys.readouterr().err, "the disk is full", fragment)
    for p in checkpoint.list_checkpoints(run):
        checkpoint.load(p)
    modeling.load(run)
    assert _temporaries(run) == []
    filler.unlink()
    _resume_and_compare(run, tmp_path, helpers, cfg, 30, _suggested(line, argv), capsys)
    shutil.rmtree(run)

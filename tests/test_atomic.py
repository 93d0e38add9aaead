"""ganforge.atomic: whole or nothing, a full disk named as such whatever library wrote, and
only dead writers' temporaries cleared."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save

from full_disk import FullDisk
from ganforge import atomic


WRITERS = {
    "torch.save": lambda f: torch.save({"w": torch.zeros(10_000)}, f),  # (says RuntimeError 'unexpected pos')
    "np.save": lambda f: np.save(f, np.zeros(10_000), allow_pickle=False),  # (says OSError without errno)
    "Pillow": lambda f: Image.effect_noise((128, 128), 50).save(f, format="PNG"),
    "safetensors": lambda f: f.write(save({"w": torch.zeros(10_000)})),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_full_disk_is_named_whatever_wrote_and_the_old_file_stays(writer, tmp_path, monkeypatch):
    path = atomic.write_bytes(tmp_path / "f", b"old")
    real_open = open
    monkeypatch.setattr(atomic, "open", lambda p, mode="r": FullDisk(real_open(p, mode), 64), raising=False)
    with pytest.raises(atomic.CannotWrite) as info:
        atomic.write(path, WRITERS[writer])
    assert info.value.disk_full and str(info.value) == f"cannot write {path}: the disk is full (No space left on device)"
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_a_failure_that_is_not_the_os_is_raised_as_it_is(tmp_path):
    path = atomic.write_text(tmp_path / "f", "old")
    with pytest.raises(ZeroDivisionError):
        atomic.write(path, lambda f: 1 / 0)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_an_unwritable_place_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(atomic.CannotWrite, match="cannot write .*: Not a directory") as info:
        atomic.write_text(tmp_path / "file" / "x", "new")
    assert not info.value.disk_full


def test_only_dead_writers_temporaries_are_removed(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = [f".a.npy.{dead}.tmp", f".a.npy.{live.pid}.tmp", f".a.npy.{os.getpid()}.tmp",
                 ".a.npy.tmp", "a.npy", f".b.npy.{dead}.tmp"]
        for name in names:
            (tmp_path / name).write_text("")
        (tmp_path / f".m.{dead}-0badcafe.tmp").mkdir()
        removed = atomic.remove_stale(tmp_path, ".a.*.tmp") + atomic.remove_stale(tmp_path, ".m.*.tmp")
    finally:
        live.kill()
        live.wait()
    assert sorted(p.name for p in removed) == sorted([f".a.npy.{dead}.tmp", f".m.{dead}-0badcafe.tmp"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n in names if n != f".a.npy.{dead}.tmp")

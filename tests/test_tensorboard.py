"""TensorBoardSink: scalars, image grids and histograms land in real event files."""

from __future__ import annotations

import sys

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.training.stats import Stats
from ganforge.training.tensorboard import INSTALL_HINT, TensorBoardSink

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_events(log_dir):
    acc = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0,
                                                                          "histograms": 0})
    acc.Reload()
    return acc


def test_scalars_images_and_histograms_land_in_event_files(tmp_path):
    sink = TensorBoardSink(tmp_path / "tb")
    stats = Stats([sink])
    for step in (5, 10):
        stats.report("Loss/D/real", torch.tensor(0.5 * step))
        stats.report("Loss/G", 1.0)
        stats.flush(step)
    sink(15, {"Loss/G": float("nan"), "D/real_acc": 0.75})  # NaN is left out, the rest kept
    sink.add_images(10, "samples", torch.rand(16, 3, 8, 8) * 2 - 1)
    sink.add_images(10, "points", torch.randn(100, 2))
    sink.add_histogram(10, "D/logits_real", torch.tensor([0.1, -2.0, 3.0, float("inf")]))
    sink.close()

    acc = read_events(tmp_path / "tb")
    tags = acc.Tags()
    assert {"Loss/D/real", "Loss/G", "D/real_acc"} <= set(tags["scalars"])
    assert [(e.step, e.value) for e in acc.Scalars("Loss/D/real")] == [(5, 2.5), (10, 5.0)]
    assert [e.step for e in acc.Scalars("Loss/G")] == [5, 10]  # no row for the NaN at step 15
    grid = acc.Images("samples")[0]
    assert grid.step == 10 and (grid.width, grid.height) == (4 * 10 + 2, 4 * 10 + 2)  # 4x4 of 8 px, 2 px gaps
    assert acc.Images("points")[0].width == 512
    hist = acc.Histograms("D/logits_real")[0]
    assert hist.step == 10 and hist.histogram_value.num == 3  # the infinite value dropped
    assert hist.histogram_value.min == -2.0 and hist.histogram_value.max == 3.0


def test_missing_tensorboard_is_one_line_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # `import` now raises ImportError
    with pytest.raises(GanforgeError) as e:
        TensorBoardSink(tmp_path / "tb")
    assert str(e.value) == INSTALL_HINT == "TensorBoard is not installed: pip install tensorboard"
    assert not (tmp_path / "tb").exists()


def test_unwritable_log_dir_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(GanforgeError, match="cannot write TensorBoard logs to"):
        TensorBoardSink(blocker / "tb")

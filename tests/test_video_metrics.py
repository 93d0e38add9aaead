"""Measuring clips: the shipped 3-D classifier, the item crops the fashion classifier sees,
the three scores on real clips against real clips and against noise, and --eval-every for a
video run."""

from __future__ import annotations

import json

import pytest
import torch

from ganforge.config import Config, merge
from ganforge.data.video import load_video
from ganforge.metrics.classifiers import load_classifier
from ganforge.metrics.video import item_crops, measure, scores
from ganforge.metrics.video_classifier import DIRECTIONS, direction_labels, load_video_classifier


def test_the_shipped_classifier_knows_items_and_directions():
    model = load_video_classifier()
    meta = model.metadata
    assert meta["test_accuracy"] > 0.3 and meta["class_accuracy"] > 0.6 and meta["direction_accuracy"] > 0.6
    data = load_video("moving-fashion", 32, 1, 16, 1, 200, seed=3)
    y = data.y * DIRECTIONS + direction_labels(data.paths)
    with torch.no_grad():
        predicted = model(data.x).argmax(1)
    assert float((predicted // DIRECTIONS == y // DIRECTIONS).float().mean()) > 0.5
    assert model.features(data.x[:3]).shape == (3, 64)


def test_item_crops_centre_the_item():
    frames = -torch.ones(2, 1, 32, 32)
    frames[0, 0, 2:16, 3:17] = 1       # a 14 px item near a corner
    frames[1, 0, 17:31, 10:24] = 1
    crops = item_crops(frames)
    assert crops.shape == (2, 1, 28, 28)
    centre, corners = crops[:, 0, 10:18, 10:18], crops[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert bool((centre > 0.9).all()) and bool((corners < 0).all())   # the item whole, a margin round it


def test_real_clips_score_near_their_ceiling_and_noise_far_from_it():
    video, fashion = load_video_classifier(), load_classifier("fashion-mnist")
    reference = measure(load_video("moving-fashion", 32, 1, 16, 1, 200).x, video, fashion)
    other = scores(reference, measure(load_video("moving-fashion", 32, 1, 16, 1, 200, seed=2).x, video, fashion))
    noise = scores(reference, measure(torch.rand(200, 1, 16, 32, 32) * 2 - 1, video, fashion))
    assert other["consistency"] > 0.85
    assert other["fvd_3d"] < noise["fvd_3d"] / 10 and other["fid_frames"] < noise["fid_frames"] / 10


@pytest.mark.slow  # ~11 s: a tiny run measured twice
def test_a_video_run_is_measured_at_eval_every(tmp_path):
    from ganforge.training.trainer import Trainer
    cfg = merge(Config(), {"game": {"name": "video"},
                           "data": {"source": "moving-digits", "resolution": 16, "frames": 8, "clips": 32},
                           "model": {"family": "mocogan", "z_dim": 24, "width": 8},
                           "train": {"steps": 2, "batch_size": 8, "sample_every": 2, "checkpoint_every": 2,
                                     "log_every": 1, "eval_every": 2, "eval_samples": 16, "device": "cpu",
                                     "threads": 1}})
    Trainer(cfg, tmp_path / "run", progress=False).fit()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    measured = [r for r in rows if any("fvd_3d" in k for k in r)]
    assert measured
    keys = {k for r in measured for k in r}
    assert any("fid_frames" in k for k in keys) and any("consistency" in k for k in keys)

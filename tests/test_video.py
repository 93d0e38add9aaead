"""Video through the same loop as every other domain: moving sprites made deterministically
and bouncing inside the canvas, folders of clips and their bad cases, a tiny MoCoGAN trained
for real (both judges' losses move), and generating clips with provenance, --frames and --keep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge import provenance
from ganforge.config import Config, merge
from ganforge.data.video import load_video, moving_clip, trajectory
from ganforge.errors import GanforgeError
from ganforge.models import mocogan
from ganforge.pipelines.video import VideoPipeline

TINY = {"game": {"name": "video"},
        "data": {"source": "moving-digits", "resolution": 16, "frames": 8, "clips": 64},
        "model": {"family": "mocogan", "z_dim": 24, "width": 8},
        "train": {"steps": 6, "batch_size": 8, "seed": 0, "ema_half_life": 100.0, "sample_every": 3,
                  "checkpoint_every": 3, "log_every": 1, "eval_every": 0, "device": "cpu", "threads": 1}}


@pytest.fixture(scope="module")
def video_run(tmp_path_factory):
    """(run, trainer) of a tiny conditional MoCoGAN on 64 moving digits at 16 px, 8 frames."""
    from ganforge.training.trainer import Trainer
    run = tmp_path_factory.mktemp("video") / "run"
    trainer = Trainer(merge(Config(), {**TINY, "model": {**TINY["model"], "conditional": True}}), run,
                      progress=False)
    trainer.fit()
    return run, trainer


def test_moving_sprites_are_deterministic_per_index_and_keep_labels():
    a = load_video("moving-digits", 32, clips=6, sprites=2)
    b = load_video("moving-digits", 32, clips=9, sprites=2)
    assert a.x.shape == (6, 1, 16, 32, 32) and a.x.dtype == torch.uint8
    assert torch.equal(a.x, b.x[:6]) and torch.equal(a.items, b.items[:6])  # clip i from (seed, i) alone
    assert a.items.shape == (6, 2) and torch.equal(a.y, a.items[:, 0]) and a.class_names[3] == "3"
    assert not torch.equal(a.x[0], a.x[1]) and not torch.equal(a.x[0, :, 0], a.x[0, :, -1])  # they move
    other = load_video("moving-digits", 32, clips=6, sprites=2, seed=1)
    assert not torch.equal(a.x, other.x)


def test_sprites_bounce_inside_the_canvas():
    bounced = 0
    for i in range(50):
        path = trajectory(np.random.default_rng([0, i]), (36, 36), 40, 64)
        assert path.min() >= 0 and path.max() <= 36
        steps = np.diff(path, axis=0)
        bounced += int(np.any(np.sign(steps[1:]) * np.sign(steps[:-1]) < 0))  # a direction turned round
    assert bounced > 10
    sprite = np.full((1, 7, 7), 200, np.uint8)
    clip, items, paths = moving_clip(3, sprite, (16, 16), 30, 1)
    assert clip.shape == (30, 16, 16) and all((f == 200).sum() == 49 for f in clip)  # whole on every frame


def _gif(path, frames, size=(12, 12)):
    images = [Image.new("L", size, 40 * i) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100)


def test_folder_clips_load_and_bad_folders_say_one_line(tmp_path):
    _gif(tmp_path / "a.gif", 5)
    _gif(tmp_path / "b.gif", 5, (20, 10))
    (tmp_path / "c").mkdir()
    for i in range(5):
        Image.new("RGB", (12, 12), (i * 50, 0, 0)).save(tmp_path / "c" / f"frame{i + 1}.png")
    with pytest.raises(GanforgeError, match="different sizes .*pass --resolution"):
        load_video(str(tmp_path))
    data = load_video(str(tmp_path), resolution=8, channels=1)
    assert data.x.shape == (3, 1, 5, 8, 8) and data.names == ["a.gif", "b.gif", "c/"]
    assert data.x[2, 0, :, 4, 4].tolist() == sorted(data.x[2, 0, :, 4, 4].tolist())  # frame2 before frame10 order
    _gif(tmp_path / "d.gif", 7)
    with pytest.raises(GanforgeError, match=r"different lengths \(a.gif: 5 frames, d.gif: 7\): pass --frames"):
        load_video(str(tmp_path), resolution=8)
    assert load_video(str(tmp_path), resolution=8, frames=6).x.shape == (4, 3, 6, 8, 8)  # resampled when asked
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanforgeError, match="no clips in this folder"):
        load_video(str(tmp_path / "empty"))
    with pytest.raises(GanforgeError, match="more than this machine's memory allows"):
        load_video("moving-digits", 64, frames=4096, clips=1_000_000)


def test_mocogan_runs_its_motion_on_past_the_trained_frames():
    G = mocogan.Generator(24, 16, 1, 8, frames=8)
    D = mocogan.Discriminator(16, 1, 8, frames=8)
    z, noise = torch.randn(3, 24), torch.randn(3, 20, mocogan.MOTION_DIM)
    G.eval()
    short, long = G(z, noise=noise[:, :8]), G(z, frames=20, noise=noise)
    assert short.shape == (3, 1, 8, 16, 16) and long.shape == (3, 1, 20, 16, 16)
    assert torch.allclose(long[:, :, :8], short, atol=1e-6)  # more frames continue the same clip
    assert D(short).shape == (3,) and D(short[:, :, 0], judge="image").shape == (3,)


def test_a_tiny_mocogan_trains_both_judges(video_run):
    run, trainer = video_run
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [(m["Loss/D/image"], m["Loss/D/video"]) for m in lines if "Loss/D/image" in m]
    assert len(losses) >= 5
    assert len({l[0] for l in losses}) == len(losses) and len({l[1] for l in losses}) == len(losses)
    assert (run / "samples" / "latest.gif").is_file() and (run / "samples" / "latest.png").is_file()
    with Image.open(run / "samples" / "latest.gif") as im:
        assert im.n_frames == 8
    assert provenance.read(run / "samples" / "latest.gif")["task"] == "training sample"
    report = (run / "report.html").read_text()
    assert "samples/latest.gif" in report and 'src="data:image/gif;base64,' in report
    info = json.loads((run / "model" / "config.json").read_text())
    assert info["family"] == "mocogan" and info["data"]["frames"] == 8


@pytest.mark.slow  # ~10 s: a second tiny run, resumed
def test_a_mocogan_run_resumes_exactly(video_run, tmp_path, helpers):
    from ganforge.training.trainer import Trainer
    _, whole = video_run
    cfg = merge(Config(), {**TINY, "model": {**TINY["model"], "conditional": True},
                           "train": {**TINY["train"], "steps": 3}})
    Trainer(cfg, tmp_path / "run", progress=False).fit()
    resumed = Trainer(None, tmp_path / "run", resume="latest", steps=6, progress=False)
    resumed.fit()
    helpers.assert_same_state(helpers.trainer_state(whole), helpers.trainer_state(resumed))


def test_generate_writes_the_asked_frames_with_provenance_and_keeps(video_run, tmp_path, cli):
    run, _ = video_run
    r = cli("generate", str(run), "--n", "4", "--frames", "20", "--out", str(tmp_path / "clip.gif"))
    assert r.returncode == 0, r.stderr
    with Image.open(tmp_path / "clip.gif") as im:
        assert im.n_frames == 20
    r = cli("inspect", str(tmp_path / "clip.gif"))
    assert "mocogan" in r.stdout and "frames:       20" in r.stdout
    assert cli("generate", str(run), "--n", "3", "--out", str(tmp_path / "clips")).returncode == 0
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["000-0.gif", "001-1.gif", "002-2.gif"]
    r = cli("generate", str(run), "--out", str(tmp_path / "x.avi"))
    assert r.returncode == 2 and "clips are written as" in r.stderr and "Traceback" not in r.stderr
    pipe = VideoPipeline.from_pretrained(run)
    plain = pipe(4, seed=3, classes=1)
    content, motion = pipe(4, seed=3, classes=1, keep="content"), pipe(4, seed=3, classes=1, keep="motion")
    assert torch.equal(content[0], plain[0]) and torch.equal(motion[0], plain[0])
    z, noise = pipe.latents(4, 3, 8, "content")
    assert torch.equal(z[:, :pipe.G.content_dim][1], z[:, :pipe.G.content_dim][0])
    assert not torch.equal(noise[1], noise[0])
    z, noise = pipe.latents(4, 3, 8, "motion")
    assert torch.equal(noise[1], noise[0]) and not torch.equal(z[1], z[0])


def test_evaluate_measures_a_video_run(video_run, tmp_path, cli):
    import shutil
    run = Path(shutil.copytree(video_run[0], tmp_path / "run"))
    r = cli("evaluate", str(run), "--n", "16")
    assert r.returncode == 0, r.stderr
    assert "fvd_3d" in r.stdout and "consistency" in r.stdout
    assert '"evaluate": "video"' in (run / "metrics.jsonl").read_text()


def test_the_preset_resolves_and_video_data_needs_the_video_game(cli, tmp_path):
    r = cli("train", "--preset", "moving-fashion", "--dry-run", "--out", str(tmp_path / "run"), "--clips", "20")
    assert r.returncode == 0, r.stderr
    assert "# data: video (1, 16, 32, 32), 20 samples" in r.stdout and "mocogan" in r.stderr
    r = cli("train", "--data", "moving-digits", "--dry-run", "--out", str(tmp_path / "r2"))
    assert r.returncode == 2 and "train it with --game video" in r.stderr
    assert "moving-fashion" in cli("presets").stdout


def test_the_image_lab_plays_a_video_models_clips(video_run):
    import base64
    import io

    from ganforge.playground.imagelab import ImageLab
    run, _ = video_run
    lab = ImageLab(run.parent)
    opened = lab.open(run.name)
    assert opened["video"] and not opened["points"] and (opened["rows"], opened["cols"]) == (2, 4)  # 8 clips
    assert opened["image"].startswith("data:image/gif;base64,")
    with Image.open(io.BytesIO(base64.b64decode(opened["image"].split(",")[1]))) as im:
        assert im.n_frames == 8
    walk = lab.interpolate(0, 5, 4)
    assert walk["image"].startswith("data:image/gif;base64,")

"""Longer checks (marked slow; CI runs them with -m slow): the presets learn, the demo works."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

import ganforge
from ganforge.evaluate import evaluate_mode_coverage

pytestmark = pytest.mark.slow


def test_ring8_preset_captures_every_mode_sharply(tmp_path):
    model_dir = ganforge.train("ring8", tmp_path / "ring8", progress=False)
    m = evaluate_mode_coverage(model_dir.parent)["metrics"]
    # the benchmark's target is 98% / 0.03; this guards against regressions on one seed
    assert m["modes"] == 8 and m["hq_percent"] >= 90 and m["reverse_kl"] <= 0.05, m


def test_demo_trains_both_models_and_says_where(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "ganforge", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for preset in ("ring8", "digits-dcgan"):
        picture = out / preset / "samples" / "latest.png"
        assert str(picture) in proc.stdout
        with Image.open(picture) as im:
            im.verify()
        assert (out / preset / "model" / "model.safetensors").is_file()
    assert "modes captured 8/8" in proc.stdout


def test_the_chorales_preset_decodes_the_corpus_trains_and_writes_music(tmp_path):
    """The user's path: the preset from the command line (the whole corpus decoded, ~30 s),
    a few steps, then MIDI and WAV out; the second run reads the decode cache."""
    run = tmp_path / "runs" / "bach"
    cli = [sys.executable, "-m", "ganforge"]
    train = [*cli, "train", "--preset", "bach-chorales", "--steps", "6", "--no-progress", "--out", str(run)]
    proc = subprocess.run(train, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "skipped bach/" in proc.stderr  # the 3/4 and other-part chorales, named
    assert list((tmp_path / "runs" / ".ganforge-cache").glob("music-*.npz"))
    for out in ("piece.mid", "piece.wav"):
        done = subprocess.run([*cli, "generate", str(run), "--bars", "8", "--out", str(tmp_path / out)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert (tmp_path / out).stat().st_size > 1000
    again = subprocess.run([*train[:-1], str(tmp_path / "runs" / "bach-2")], capture_output=True, text=True,
                           timeout=900)
    assert again.returncode == 0 and "decode bach-chorales" not in again.stderr

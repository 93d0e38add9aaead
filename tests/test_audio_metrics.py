"""Measuring audio: the shipped spoken-digit classifier (and that its training repeats), the
Inception score and FID in its features, during training and by `ganforge evaluate`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics.audio import audio_metrics, clip_features
from ganforge.metrics.speech_classifier import LENGTH, load_speech_classifier, mel_filters, to_classifier_input

sys.path.insert(0, str(Path(__file__).parent))
from audio_fixtures import tone  # noqa: E402

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian espeak-ng is not installed")


def test_mel_filters_and_the_classifiers_input():
    f = mel_filters()
    assert f.shape == (40, 257) and (f >= 0).all() and (f.max(1).values > 0.5).all()  # 40 triangles
    assert (f.argmax(1).diff() >= 0).all()                                           # rising in frequency
    x = to_classifier_input(torch.from_numpy(tone(440, 0.4, 8000))[None, None], 8000)  # 8 kHz -> 16 kHz
    assert x.shape == (1, 1, LENGTH)
    peak = torch.fft.rfft(x[0, 0]).abs().argmax() * 16000 / LENGTH
    assert abs(float(peak) - 440) < 2
    loud = torch.nonzero(x[0, 0].abs() > 0.1).flatten()
    assert abs(float(loud.float().mean()) - LENGTH / 2) < 100                         # centred
    assert to_classifier_input(torch.zeros(3, 1, 20000), 16000).shape == (3, 1, LENGTH)  # longer: cut


def test_the_shipped_classifier_says_how_good_it_is():
    model = load_speech_classifier()
    m = model.metadata
    assert m["dataset"] == "spoken-digits" and m["test_accuracy"] >= 0.99 and m["train_size"] == 5000
    assert "asterisk_accuracy" in m  # the real check, recorded (or why not)
    assert model.features(torch.zeros(2, 1, LENGTH)).shape == (2, 64)
    with pytest.raises(GanforgeError, match="weights not found"):
        load_speech_classifier("/nonexistent/x.safetensors")


@needs_espeak
def test_it_hears_new_voices_and_their_scores_are_high():
    from ganforge.metrics.train_speech_classifier import synthetic
    x, y = synthetic(2, seed=2)                       # recipes neither its training nor its test set drew
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    x, y = x[order], y[order]                         # (the score's 10 splits each need a mix of digits)
    model = load_speech_classifier()
    features, logits = clip_features(model, x, 16000)
    assert float((logits.argmax(1) == y).float().mean()) >= 0.9
    m = audio_metrics(features, logits, features, labels=y)
    assert m["is_mean"] > 5 and m["fid"] < 1e-6 and m["label_accuracy"] >= 0.9
    silence = audio_metrics(*clip_features(model, 1e-3 * torch.randn(20, 1, LENGTH), 16000), features)
    assert silence["is_mean"] < 2 and silence["fid"] > 10                          # noise: one guess, far away


@needs_espeak
def test_training_the_classifier_repeats_exactly(tmp_path):
    from safetensors.torch import load_file

    from ganforge.metrics.train_speech_classifier import train_and_save
    runs = [train_and_save(per_word=2, epochs=1, out=tmp_path / f"{i}.safetensors", progress=False, test_per_word=1)
            for i in range(2)]
    a, b = (load_file(r["path"]) for r in runs)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert runs[0]["train_size"] == 20 and "test_accuracy" in runs[0]


def test_a_run_is_measured_at_its_end(audio_run, helpers):
    run, _ = audio_run
    last = [r for r in helpers.read_metrics(run) if "Metric/fid" in r][-1]
    assert {"Metric/is_mean", "Metric/label_accuracy", "Metric/data/is_mean"} <= set(last)
    assert 1 <= last["Metric/is_mean"] <= 10


def test_evaluate_measures_an_audio_model_against_its_clips(audio_run, tmp_path, helpers):
    from ganforge.evaluate import evaluate
    run, _ = audio_run
    copy = Path(shutil.copytree(run, tmp_path / "runs" / "run"))
    shutil.copytree(run.parent / ".ganforge-cache", tmp_path / "runs" / ".ganforge-cache")  # (no synthesis again)
    result = evaluate(copy, n=40)
    assert {"is_mean", "fid", "label_accuracy", "data/is_mean"} <= set(result["metrics"])
    s = result["settings"]
    assert s["n_fake"] == 40 and s["n_real"] == 20 and s["extractor"] == "spoken-digits-cnn"
    assert helpers.read_metrics(copy)[-1]["evaluate"] == "audio"
    with pytest.raises(GanforgeError, match="an audio model is measured by the Inception score"):
        evaluate(copy, ["fid"])

"""Provenance: every file a real command or pipeline writes from a real (tiny) model carries a
record of ganforge's version, the model's weights hash and the seed, and `ganforge inspect`
prints it; files without one, missing files and unknown kinds are one line, no traceback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import mido
import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from ganforge import __version__, modeling, provenance
from ganforge.cli import main
from ganforge.pipelines.generate import GeneratePipeline


def weights_id(run: Path) -> str:
    return "sha256:" + hashlib.sha256((run / "model" / "model.safetensors").read_bytes()).hexdigest()[:16]


@pytest.fixture(scope="module")
def outputs(trained_runs, music_run, translation_runs, tmp_path_factory) -> dict[str, Path]:
    """One file of every kind, each written by the real command (in this process: fast)."""
    out = tmp_path_factory.mktemp("outputs")
    digits, music = trained_runs["digits"], music_run[1]
    commands = {
        "grid.png": ["generate", digits, "--n", "4", "--seed", "7"],
        "points.npy": ["generate", trained_runs["ring8"], "--n", "16", "--seed", "3"],
        "walk.gif": ["generate", digits, "--interpolate", "3,17", "--frames", "3"],
        "strip.png": ["generate", digits, "--interpolate", "3,17", "--frames", "3"],
        "piece.mid": ["generate", music, "--n", "1", "--bars", "2", "--seed", "5"],
        "piece.wav": ["generate", music, "--n", "1", "--bars", "1", "--seed", "5"],
        "rolls.npy": ["generate", music, "--n", "1", "--bars", "1", "--seed", "5"],
    }
    for name, argv in commands.items():
        assert main([str(a) for a in argv] + ["--out", str(out / name)]) == 0, name
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(out / "sketch.png")
    assert main(["translate", str(translation_runs["pix2pix"].run), str(out / "sketch.png"),
                 "--out", str(out / "translated")]) == 0
    return out


def test_every_output_names_the_model_s_weights_version_and_seed(outputs, trained_runs, music_run,
                                                                   translation_runs):
    digits, ring8, music = trained_runs["digits"], trained_runs["ring8"], music_run[1]
    expected = {"grid.png": (digits, "generate", "7"), "points.npy": (ring8, "generate", "3"),
                "walk.gif": (digits, "interpolate", "3,17"), "strip.png": (digits, "interpolate", "3,17"),
                "piece.mid": (music, "compose", "5"), "piece.wav": (music, "compose", "5"),
                "rolls.npy": (music, "compose", "5"),
                "translated/sketch.png": (translation_runs["pix2pix"].run, "translate", None)}
    for name, (run, task, seed) in expected.items():
        record = provenance.read(outputs / name)
        assert record is not None, name
        assert record["generated_by"] == f"ganforge {__version__}" and record["task"] == task, record
        assert record["model"] == weights_id(run), name
        assert record.get("seed") == seed, name
    assert provenance.read(outputs / "grid.png")["sampler"] == "plain"
    assert provenance.read(outputs / "walk.gif")["sampler"] == "slerp"
    assert provenance.read(outputs / "translated/sketch.png")["input"] == "sketch.png"


def test_the_files_stay_ordinary_files_of_their_kind(outputs):
    with Image.open(outputs / "grid.png") as im:
        assert im.info["Software"] == f"ganforge {__version__}"
    with Image.open(outputs / "walk.gif") as im:
        assert im.n_frames == 3
    rate, audio = wavfile.read(outputs / "piece.wav")  # the INFO chunk after the data is skipped
    assert rate == 22050 and len(audio) > 0
    assert b"LIST" in (outputs / "piece.wav").read_bytes()[-2000:]
    texts = [m.text for t in mido.MidiFile(str(outputs / "piece.mid")).tracks for m in t if m.type == "text"]
    assert any(t.startswith(provenance.KEY) for t in texts)
    assert np.load(outputs / "points.npy").shape == (16, 2)
    assert (outputs / "points.npy.json").is_file()


def test_inspect_prints_one_line_per_field_from_the_command_line(outputs, trained_runs, cli):
    done = cli("inspect", str(outputs / "grid.png"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["generated_by:", "ganforge", __version__]
    assert f"model: {weights_id(trained_runs['digits'])}" in " ".join(" ".join(line.split()) for line in lines)
    assert any(line.split() == ["seed:", "7"] for line in lines)
    names = ["walk.gif", "strip.png", "points.npy", "piece.mid", "piece.wav", "rolls.npy", "translated/sketch.png"]
    many = cli("inspect", *(str(outputs / n) for n in names))
    assert many.returncode == 0, many.stderr
    assert many.stdout.count("generated_by:") == len(names) and "Traceback" not in many.stderr


def test_a_file_without_a_record_is_one_line_from_the_command_line(tmp_path, cli):
    plain = tmp_path / "photo.png"
    Image.new("L", (4, 4)).save(plain)
    done = cli("inspect", str(plain))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.strip() == (f"{plain}: no ganforge provenance record (not written by ganforge, "
                                   "or its metadata was removed)")


def test_missing_unknown_and_damaged_files_are_one_error_line(tmp_path, capsys):
    np.save(tmp_path / "bare.npy", np.zeros(3))  # no sidecar: no record
    assert main(["inspect", str(tmp_path / "bare.npy")]) == 1
    assert "no ganforge provenance record" in capsys.readouterr().out
    (tmp_path / "notes.txt").write_text("hello")  # text ganforge may write (generated lines): no record in it
    assert main(["inspect", str(tmp_path / "notes.txt")]) == 1
    assert "no ganforge provenance record" in capsys.readouterr().out
    (tmp_path / "notes.doc").write_text("hello")
    (tmp_path / "fake.wav").write_bytes(b"RIFF")
    (tmp_path / "fake.mid").write_bytes(b"MThd garbage")
    (tmp_path / "fake.png").write_bytes(b"\x89PNG broken")
    Image.new("L", (4, 4)).save(tmp_path / "jpeg.gif", format="JPEG")
    (tmp_path / "bad.npy.json").write_text("{not json")
    for name, words in [("gone.png", "no such file"), ("notes.doc", "not a kind of file"),
                        ("fake.wav", "not a RIFF/WAVE file"), ("fake.mid", "not a readable MIDI file"),
                        ("fake.png", "not a readable PNG image"), ("jpeg.gif", "a JPEG image under a .gif name"),
                        ("bad.npy.json", "not a readable JSON file")]:
        assert main(["inspect", str(tmp_path / name)]) == 2, name
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err


def test_a_pipeline_hashes_once_and_an_in_memory_model_says_unsaved(trained_runs, tmp_path, monkeypatch):
    pipe = GeneratePipeline.from_pretrained(trained_runs["digits"])
    calls = []
    real = provenance.model_id
    monkeypatch.setattr(provenance, "model_id", lambda path: calls.append(path) or real(path))
    for seed in (1, 2):
        pipe.save(pipe(2, seed=seed), tmp_path / f"s{seed}.png")
    assert len(calls) == 1 and provenance.read(tmp_path / "s2.png")["seed"] == "2"
    cgan = GeneratePipeline.from_pretrained(trained_runs["digits-cgan"])
    cgan.save(cgan(2, seed=5, classes=3, sampler="truncation", truncation=0.5), tmp_path / "t.png")
    record = provenance.read(tmp_path / "t.png")
    assert record["sampler"] == "truncation 0.5" and record["classes"] == "3"
    memory = GeneratePipeline(modeling.load(trained_runs["digits"]))
    memory.save(memory(2, seed=4), tmp_path / "memory.npy")
    assert provenance.read(tmp_path / "memory.npy")["model"] == provenance.UNSAVED


def test_training_sample_pictures_name_their_run_and_step(trained_runs, music_run):
    for run, step in ((trained_runs["digits"], 8), (trained_runs["ring8"], 20), (music_run[1], 6)):
        record = provenance.read(run / "samples" / f"step-{step:08d}.png")
        assert record["model"] == f"training run {run.name}, step {step}" and record["seed"] == "0"
        assert "created" not in record  # seeded runs' pictures stay bitwise reproducible
        assert provenance.read(run / "samples" / "latest.png") == record

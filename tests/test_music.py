"""Music through the same loop as every other domain: a tiny MuseGAN trained for real on
chorales, its pictures, MIDI, audio and metrics, exact resume, and writing music with it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.config import PRESETS, preset_config
from ganforge.errors import GanforgeError
from ganforge.pipelines.compose import ComposePipeline
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from music_fixtures import music_config  # noqa: E402

# music_run (a tiny MuseGAN trained on chorales) is in conftest.py: test_provenance.py shares it


def test_a_music_run_writes_rolls_midi_audio_and_metrics(music_run, helpers):
    _, run, trainer = music_run
    samples = run / "samples"
    assert (samples / "step-00000003.png").is_file() and (samples / "step-00000006.mid").is_file()
    assert (samples / "latest.wav").stat().st_size > 10_000
    rows = [r for r in helpers.read_metrics(run) if "Metric/QN/Track 1" in r]
    assert [r["step"] for r in rows] == [3, 6]
    assert {"Metric/EB/Track 4", "Metric/TD/Track 1-Track 2", "Metric/IK", "Metric/gap"} <= set(rows[-1])
    assert "<audio" in (run / "report.html").read_text()
    import pretty_midi
    pm = pretty_midi.PrettyMIDI(str(samples / "step-00000006.mid"))
    assert len(pm.instruments) == 4


def test_a_music_run_resumes_exactly(music_run, tmp_path: Path, helpers):
    folder, _, whole = music_run
    cfg = music_config(folder, train={"steps": 3})
    Trainer(cfg, tmp_path / "run", progress=False).fit()
    resumed = Trainer(None, tmp_path / "run", resume="latest", steps=6, progress=False)
    resumed.fit()
    helpers.assert_same_state(helpers.trainer_state(whole), helpers.trainer_state(resumed))


def test_the_pipeline_writes_longer_pieces_in_every_format(music_run, tmp_path: Path):
    _, run, _ = music_run
    pipe = ComposePipeline.from_pretrained(run)
    rolls = pipe(3, bars=8, seed=1)
    assert rolls.shape == (3, 4, 8, 16, rolls.shape[-1]) and rolls.dtype == torch.bool
    assert torch.equal(rolls, pipe(3, bars=8, seed=1))                        # seeded
    drawn = pipe(3, bars=8, seed=1, binarize="bernoulli")
    assert drawn.dtype == torch.bool and not torch.equal(drawn, rolls)
    lines = pipe(3, bars=8, seed=1, binarize="monophonic")
    assert lines.sum(-1).max() <= 1 and not (lines & ~rolls).any()  # one pitch a step, among the threshold's
    import pretty_midi
    from scipy.io import wavfile
    mid = pipe.save(rolls, tmp_path / "piece.mid")
    notes = sum(len(i.notes) for i in pretty_midi.PrettyMIDI(str(mid)).instruments)
    assert notes == sum(len(n) for n in __import__("ganforge.data.midi", fromlist=["x"]).pieces_notes(rolls))
    rate, audio = wavfile.read(pipe.save(rolls[:1], tmp_path / "piece.wav"))
    assert rate == 22050 and len(audio) > rate * 8 * 4 * 60 / pipe.score.tempo * 0.9
    assert pipe.save(rolls, tmp_path / "rolls.png").is_file()
    assert np.load(pipe.save(rolls, tmp_path / "rolls.npy")).shape == tuple(rolls.shape)
    with pytest.raises(GanforgeError, match="music is written as"):
        pipe.save(rolls, tmp_path / "piece.gif")
    with pytest.raises(GanforgeError, match="binarize must be"):
        pipe(1, binarize="round")


def test_image_pipelines_and_music_refuse_each_other(music_run, trained_runs):
    _, run, _ = music_run
    with pytest.raises(GanforgeError, match="writes music"):
        GeneratePipeline.from_pretrained(run)
    with pytest.raises(GanforgeError, match="does not write music"):
        ComposePipeline.from_pretrained(trained_runs["digits"])


def test_generate_writes_midi_from_the_command_line(music_run, tmp_path: Path, cli):
    _, run, _ = music_run
    out = tmp_path / "piece.mid"
    done = cli("generate", str(run), "--n", "2", "--bars", "6", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote 2 piece(s) of 6 bars" in done.stdout and out.stat().st_size > 0
    bad = cli("generate", str(run), "--out", str(tmp_path / "x.jpg"))
    assert bad.returncode != 0 and "music is written as" in bad.stderr and "Traceback" not in bad.stderr


def test_evaluate_measures_a_music_model_against_its_data(music_run, tmp_path: Path, helpers):
    import shutil

    from ganforge.evaluate import evaluate
    _, run, _ = music_run
    copy = Path(shutil.copytree(run, tmp_path / "runs" / "run"))
    result = evaluate(copy, n=100)
    m = result["metrics"]
    assert {"QN/Track 1", "data/QN/Track 1", "TD/Track 1-Track 2", "IK", "gap"} <= set(m)
    assert result["settings"]["n_fake"] == 100 and result["settings"]["bars"] == 2
    assert helpers.read_metrics(copy)[-1]["evaluate"] == "music"
    with pytest.raises(GanforgeError, match="MuseGAN's metrics"):
        evaluate(copy, ["fid"])


def test_music_presets_describe_a_time_and_resolve():
    for name in ("bach-chorales", "folk-melodies"):
        cfg = preset_config(name)
        assert cfg.model.family == "musegan" and cfg.loss.name == "wgan-gp" and cfg.loss.n_critic == 5
        assert "min" in PRESETS[name].description
    assert preset_config("folk-melodies").data.source == "folk-melodies"


def test_bad_music_options_are_one_line(music_run, tmp_path: Path):
    folder, _, _ = music_run
    with pytest.raises(GanforgeError, match="unknown multitrack model 'orchestra'"):
        Trainer(music_config(folder, model={"multitrack": "orchestra"}), tmp_path / "a", progress=False)
    with pytest.raises(GanforgeError, match="MuseGAN models are unconditional"):
        Trainer(music_config(folder, model={"conditional": True}), tmp_path / "b", progress=False)
    for z_dim in (12, 5):  # (5: fewer than one number per latent part)
        with pytest.raises(GanforgeError, match="too small for the hybrid model"):
            Trainer(music_config(folder, model={"z_dim": z_dim}), tmp_path / "c", progress=False)
    with pytest.raises(GanforgeError, match="model 'dcgan' makes images but data .* is music"):
        Trainer(music_config(folder, model={"family": "dcgan"}), tmp_path / "d", progress=False)

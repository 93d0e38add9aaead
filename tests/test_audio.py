"""Audio through the same loop as every other domain: WaveGAN's networks, a tiny conditional
WaveGAN trained for real on spoken digits (its spectrogram pictures, sounds and report), exact
resume, and writing clips with provenance."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.io import wavfile

from ganforge import provenance
from ganforge.config import PRESETS, preset_config
from ganforge.errors import GanforgeError
from ganforge.models import wavegan
from ganforge.pipelines.audio import AudioPipeline
from ganforge.pipelines.generate import GeneratePipeline
from ganforge.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from audio_fixtures import LENGTH, RATE, audio_config, tone  # noqa: E402

# audio_run (a tiny conditional WaveGAN trained on 20 spoken digits) is in conftest.py



def test_wavegan_is_the_papers_network():
    G, D = wavegan.Generator(100, 16384, width=64), wavegan.Discriminator(16384, width=64)
    ups = [m for m in G.net if isinstance(m, torch.nn.ConvTranspose1d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in ups] == [
        (1024, 512, 25, 4), (512, 256, 25, 4), (256, 128, 25, 4), (128, 64, 25, 4), (64, 1, 25, 4)]
    assert G.dense.out_features == 16 * 1024
    convs = [m for m in D.net if isinstance(m, torch.nn.Conv1d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 512, 1024]
    assert sum(isinstance(m, wavegan.PhaseShuffle) for m in D.net) == 4   # after all but the last
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert 19.0e6 < count(G) < 19.2e6 and 17.3e6 < count(D) < 17.5e6
    for length in (256, 1024, 4096):  # shorter clips: fewer layers
        G, D = wavegan.Generator(8, length, width=4), wavegan.Discriminator(length, width=4)
        x = G(torch.randn(3, 8))
        assert x.shape == (3, 1, length) and x.abs().max() <= 1 and D(x).shape == (3,)
    with pytest.raises(ValueError, match="wavegan makes clips of 256, 1024, 4096, 16384, 65536"):
        wavegan.Generator(8, 1000)


def test_phase_shuffle_shifts_each_clip_by_at_most_n_with_reflection():
    shuffle = wavegan.PhaseShuffle(2)
    x = torch.randn(64, 3, 50, requires_grad=True)
    torch.manual_seed(0)
    y = shuffle(x)
    padded = F.pad(x, (2, 2), mode="reflect")
    shifts = []
    for i in range(64):
        found = [k for k in range(-2, 3) if torch.equal(y[i], padded[i, :, 2 - k:2 - k + 50])]
        assert found, i
        shifts.append(found[0])
    assert set(shifts) == {-2, -1, 0, 1, 2}          # every shift drawn, the channels moved together
    y.sum().backward()
    assert x.grad is not None and x.grad.sum() == 64 * 3 * 50
    assert torch.equal(shuffle.eval()(x), x)          # (not in eval mode)


@pytest.mark.parametrize("conditioning", ["concat", "projection", "acgan"])
def test_conditional_wavegan_takes_labels_as_the_image_families_do(conditioning):
    G = wavegan.Generator(8, 256, width=4, c_dim=10)
    D = wavegan.Discriminator(256, width=4, c_dim=10, conditioning=conditioning)
    c = torch.tensor([0, 7, 9])
    x = G(torch.randn(3, 8), c)
    logits, classes = D.forward_with_classes(x, c)
    assert logits.shape == (3,) and (classes is not None) == (conditioning == "acgan")
    assert D.net[0].in_channels == (11 if conditioning == "concat" else 1)  # concat: the label as channels
    with pytest.raises(ValueError, match="conditional on 10 classes"):
        G(torch.randn(3, 8))


def test_a_wavegan_run_writes_spectrograms_sounds_and_a_report(audio_run, helpers):
    run, trainer = audio_run
    samples = run / "samples"
    from PIL import Image
    with Image.open(samples / "step-00000006.png") as im:
        assert im.size == (5 * 256 + 6 * 2, 2 * 168 + 3 * 2)  # 10 clips, 5 a row: waveform over spectrogram
    rate, sound = wavfile.read(samples / "latest.wav")
    assert rate == RATE and len(sound) == 10 * (LENGTH + RATE // 4)  # the 10 fixed-z clips, a gap after each
    assert (samples / "step-00000003.wav").is_file()
    record = provenance.read(samples / "latest.wav")
    assert record["model"] == "training run run, step 6" and record["seed"] == "0" and "created" not in record
    assert '<audio controls preload="none" src="samples/latest.wav">' in (run / "report.html").read_text()
    info = trainer.game.data_info()
    assert info["kind"] == "audio" and info["sample_rate"] == RATE and info["class_names"][7] == "seven"
    assert {"Loss/D/gp", "Loss/G"} <= set(helpers.read_metrics(run)[-1])


def test_a_wavegan_run_resumes_exactly(audio_run, tmp_path, helpers):
    _, whole = audio_run
    Trainer(audio_config(model={"conditional": True}, train={"steps": 3}), tmp_path / "run", progress=False).fit()
    resumed = Trainer(None, tmp_path / "run", resume="latest", steps=6, progress=False)
    resumed.fit()  # (phase shuffle draws from torch's generator: part of every checkpoint)
    helpers.assert_same_state(helpers.trainer_state(whole), helpers.trainer_state(resumed))


def test_generate_writes_wavs_with_provenance(audio_run, tmp_path, cli):
    run, _ = audio_run
    r = cli("generate", str(run), "--n", "4", "--class", "7", "--out", str(tmp_path / "sevens"))
    assert r.returncode == 0, r.stderr
    assert "wrote 4 clip(s) of 0.512 s at 2000 Hz" in r.stdout
    files = sorted((tmp_path / "sevens").iterdir())
    assert [f.name for f in files] == ["000-seven.wav", "001-seven.wav", "002-seven.wav", "003-seven.wav"]
    rate, first = wavfile.read(files[0])
    assert rate == RATE and first.shape == (LENGTH,) and first.dtype == np.int16
    expected = AudioPipeline.from_pretrained(run)(4, classes=7)[0, 0]  # seeded: the same clips
    assert np.abs(first / 32767 - expected.numpy()).max() < 1e-4
    r = cli("inspect", str(files[1]))
    assert r.returncode == 0 and "clip:         2 of 4" in r.stdout and "classes:      7" in r.stdout
    assert "sha256:" in r.stdout and "family:       wavegan" in r.stdout
    assert cli("generate", str(run), "--n", "3", "--out", str(tmp_path / "all.wav")).returncode == 0
    rate, joined = wavfile.read(tmp_path / "all.wav")
    assert len(joined) == 3 * (LENGTH + RATE // 4) and provenance.read(tmp_path / "all.wav")["seed"] == "0"
    for name in ("spectra.png", "raw.npy"):
        assert cli("generate", str(run), "--n", "3", "--out", str(tmp_path / name)).returncode == 0
        assert cli("inspect", str(tmp_path / name)).returncode == 0
    assert np.load(tmp_path / "raw.npy").shape == (3, LENGTH)


def test_audio_models_refuse_what_they_cannot_do(audio_run, trained_runs, tmp_path, cli):
    run, _ = audio_run
    r = cli("generate", str(run), "--out", str(tmp_path / "x.mid"))
    assert r.returncode == 2 and "audio is written as a folder" in r.stderr
    r = cli("generate", str(run), "--out", str(tmp_path / "x.wav"), "--interpolate", "1,2")
    assert r.returncode == 2 and "no --interpolate" in r.stderr
    r = cli("generate", str(run), "--out", str(tmp_path / "x.wav"), "--sampler", "drs")
    assert r.returncode == 2 and "audio models sample with plain or truncation" in r.stderr
    r = cli("generate", str(run), "--out", str(tmp_path / "x.wav"), "--class", "12")
    assert r.returncode == 2 and "class 12 is out of range" in r.stderr and "7=seven" in r.stderr
    with pytest.raises(GanforgeError, match="this model makes sound"):
        GeneratePipeline.from_pretrained(run)
    with pytest.raises(GanforgeError, match="this model does not make sound"):
        AudioPipeline.from_pretrained(trained_runs["digits"])
    assert cli("generate", str(run), "--n", "2", "--sampler", "truncation",
               "--out", str(tmp_path / "t.wav")).returncode == 0


def test_bad_audio_options_are_one_line(tmp_path):
    with pytest.raises(GanforgeError, match=r"wavegan makes clips of 256, .* not 1000: set --length"):
        Trainer(audio_config(data={"length": 1000}), tmp_path / "a", progress=False)
    with pytest.raises(GanforgeError, match="model 'dcgan' makes images but data 'spoken-digits' is audio"):
        Trainer(audio_config(model={"family": "dcgan"}), tmp_path / "b", progress=False)
    folder = tmp_path / "sounds"
    folder.mkdir()
    for i in range(8):
        wavfile.write(folder / f"{i}.wav", 8000, tone(200 + 50 * i, 0.3, 8000))
    with pytest.raises(GanforgeError, match="a conditional model needs labels"):
        Trainer(audio_config(str(folder), model={"conditional": True}), tmp_path / "c", progress=False)
    with pytest.raises(GanforgeError, match="model 'wavegan' makes audio but data 'digits' is images"):
        Trainer(audio_config("digits"), tmp_path / "d", progress=False)


def test_a_folder_of_wavs_trains(tmp_path):
    folder = tmp_path / "sounds"
    folder.mkdir()
    for i in range(8):
        wavfile.write(folder / f"{i}.wav", 8000, tone(200 + 50 * i, 0.3, 8000))
    trainer = Trainer(audio_config(str(folder), train={"steps": 2, "sample_every": 2}), tmp_path / "run",
                      progress=False)
    trainer.fit()
    assert (tmp_path / "run" / "samples" / "latest.wav").is_file()
    assert (tmp_path / ".ganforge-cache").is_dir()  # decoded once, beside the runs


def test_wavegan_presets_are_the_papers_training():
    for name in ("digits-wavegan", "folder-wavegan"):
        cfg = preset_config(name)
        assert cfg.model.family == "wavegan" and cfg.loss.name == "wgan-gp" and cfg.loss.n_critic == 5
        assert (cfg.optim.lr_g, cfg.optim.lr_d, cfg.optim.beta1, cfg.optim.beta2) == (1e-4, 1e-4, 0.5, 0.9)
        assert cfg.data.length == 16384 and cfg.data.sample_rate == 16000 and cfg.model.phase_shuffle == 2
    assert preset_config("digits-wavegan").train.minutes == 30
    assert "30 minutes on 2 CPU cores" in PRESETS["digits-wavegan"].description
    assert preset_config("folder-wavegan").data.source == ""


def test_the_image_lab_shows_spectrograms_and_plays_the_first_clip(audio_run):
    from ganforge.playground.imagelab import ImageLab
    run, _ = audio_run
    lab = ImageLab(run.parent)
    opened = lab.open(run.name)
    assert opened["clips"] and not opened["points"] and opened["c_dim"] == 10
    assert opened["image"].startswith("data:image/png") and (opened["rows"], opened["cols"]) == (4, 2)  # 8 clips
    assert opened["audio"].startswith("data:audio/wav;base64,")
    import base64
    import io
    rate, sound = wavfile.read(io.BytesIO(base64.b64decode(opened["audio"].split(",")[1])))
    assert rate == RATE and len(sound) == LENGTH + RATE // 4                       # the first clip
    walk = lab.interpolate(0, 5, 4)
    assert walk["image"].startswith("data:image/png")
    with pytest.raises(GanforgeError, match="below 8"):
        lab.interpolate(0, 9, 4)

"""SpecGAN: spectrograms as the paper makes them (normalised per frequency bin), Griffin-Lim back
to sound, the network, and a tiny conditional SpecGAN trained for real and written as WAV."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch
from scipy.io import wavfile

from ganforge import provenance
from ganforge.config import preset_config
from ganforge.data import load_data
from ganforge.data.spectrogram import LENGTH, SpectrogramCoder, griffin_lim, log_spectrum
from ganforge.errors import GanforgeError
from ganforge.models import specgan
from ganforge.pipelines.audio import AudioPipeline
from ganforge.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from audio_fixtures import audio_config, tone  # noqa: E402

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian espeak-ng is not installed")


def _spec_config(**sections):
    base = audio_config(data={"sample_rate": 16000, "length": LENGTH, "clips_per_word": 1, "representation": "auto"},
                        model={"family": "specgan", "width": 2})
    from ganforge.config import merge
    return merge(base, sections) if sections else base


def test_spectrograms_are_normalised_per_bin_and_griffin_lim_inverts_them():
    clips = torch.stack([torch.from_numpy(tone(f, 0.6, 16000, 0.3 + i / 10)[:LENGTH]) for i, f in
                         enumerate((300, 700, 1500, 3000))])[:, None]
    clips = torch.nn.functional.pad(clips, (0, LENGTH - clips.shape[-1])) + 1e-3 * torch.randn(4, 1, LENGTH)
    coder = SpectrogramCoder.fit(clips)
    x = coder.encode(clips)
    assert x.shape == (4, 1, 128, 128) and x.abs().max() <= 1
    per_bin = x[:, 0].permute(1, 0, 2).flatten(1) * 3               # (bins, all frames), in std units
    std = per_bin.std(1)
    assert per_bin.mean(1).abs().max() < 0.1 and (std > 0.75).all() and (std < 1.01).all()  # (clipped at 3 std)
    back = coder.decode(x)
    assert back.shape == (4, 1, LENGTH)
    a, b = log_spectrum(clips).exp(), log_spectrum(back).exp()
    assert float((a - b).norm() / a.norm()) < 0.3                  # Griffin-Lim recovers the magnitudes
    peak = torch.fft.rfft(back[2, 0]).abs().argmax() * 16000 / LENGTH
    assert abs(float(peak) - 1500) < 10                             # and the sound's pitch
    assert torch.equal(coder.decode(x), back)                       # seeded phases: the same sound
    assert SpectrogramCoder.from_info(coder.info()).mean.shape == (128,)
    worse = griffin_lim(a[:, :128, :128], iterations=0)
    assert float((log_spectrum(worse[:, None]).exp() - a).norm() / a.norm()) > 0.3  # (the iterations do the work)


def test_specgan_is_the_papers_network():
    G, D = specgan.Generator(100, width=64), specgan.Discriminator(width=64)
    ups = [m for m in G.net if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in ups] == [
        (1024, 512, (5, 5), (2, 2)), (512, 256, (5, 5), (2, 2)), (256, 128, (5, 5), (2, 2)),
        (128, 64, (5, 5), (2, 2)), (64, 1, (5, 5), (2, 2))]
    assert [m.out_channels for m in D.net if isinstance(m, torch.nn.Conv2d)] == [64, 128, 256, 512, 1024]
    G, D = specgan.Generator(8, width=2, c_dim=10), specgan.Discriminator(width=2, c_dim=10)
    c = torch.tensor([1, 9])
    x = G(torch.randn(2, 8), c)
    assert x.shape == (2, 1, 128, 128) and D(x, c).shape == (2,)


@needs_espeak
def test_a_specgan_run_sounds_and_generates_wavs(tmp_path, capsys):
    run = tmp_path / "run"
    trainer = Trainer(_spec_config(model={"conditional": True}, train={"steps": 2, "sample_every": 2}), run,
                      progress=False)
    assert trainer.data.x.shape == (10, 1, 128, 128) and trainer.data.representation == "spectrogram"
    trainer.fit()
    rate, sound = wavfile.read(run / "samples" / "latest.wav")
    assert rate == 16000 and len(sound) == 10 * (LENGTH + 4000)   # Griffin-Lim's clips, a gap after each
    info = trainer.game.data_info()
    assert info["representation"] == "spectrogram" and len(info["spectrogram"]["mean"]) == 128
    pipe = AudioPipeline.from_pretrained(run)
    clips = pipe(3, classes=4, seed=1)
    assert clips.shape == (3, 1, LENGTH) and clips.abs().max() <= 1
    assert torch.equal(clips, pipe(3, classes=4, seed=1))
    from ganforge.cli import main
    assert main(["generate", str(run), "--n", "2", "--out", str(tmp_path / "clips")]) == 0
    assert provenance.read(tmp_path / "clips" / "001-one.wav")["family"] == "specgan"


@needs_espeak
def test_specgan_and_wavegan_say_which_representation_they_learn(tmp_path):
    with pytest.raises(GanforgeError, match="specgan learns spectrograms, and these clips are waveforms"):
        Trainer(_spec_config(data={"representation": "waveform"}), tmp_path / "a", progress=False)
    with pytest.raises(GanforgeError, match="wavegan learns waveforms, and these clips are spectrograms"):
        Trainer(_spec_config(data={"representation": "spectrogram"}, model={"family": "wavegan"}), tmp_path / "b",
                progress=False)
    auto = Trainer(_spec_config(data={"representation": "spectrogram"}, model={"family": "auto"}), tmp_path / "c",
                   progress=False, dry_run=True)
    assert type(auto.G).__module__ == "ganforge.models.specgan"   # auto: SpecGAN for spectrograms
    with pytest.raises(GanforgeError, match="SpecGAN's 128 x 128 of 16384-sample clips, not 1024 samples"):
        load_data("spoken-digits", sample_rate=2000, length=1024, clips_per_word=1, representation="spectrogram")
    with pytest.raises(GanforgeError, match="unknown audio representation 'mel'"):
        Trainer(_spec_config(data={"representation": "mel"}), tmp_path / "d", progress=False)


def test_the_specgan_preset_is_waveGANs_training_on_spectrograms():
    cfg = preset_config("digits-specgan")
    assert cfg.model.family == "specgan" and cfg.data.representation == "spectrogram"
    assert cfg.loss.name == "wgan-gp" and cfg.loss.n_critic == 5 and cfg.optim.lr_g == 1e-4

"""Audio data: spoken digits synthesised by espeak-ng (a few clips), WAV files of every format,
Asterisk's recorded digits, the cache, and every bad input as one line."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from ganforge.data import audio, espeak, load_data, wav
from ganforge.data.audio import load_audio
from ganforge.errors import GanforgeError

sys.path.insert(0, str(Path(__file__).parent))
from audio_fixtures import LENGTH, RATE, tone, write_formats  # noqa: E402

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian espeak-ng is not installed")
needs_asterisk = pytest.mark.skipif(not (audio.ASTERISK / "0.wav").is_file(),
                                    reason="Debian asterisk-core-sounds-en-wav is not installed")


def test_recipes_are_drawn_from_the_seed_alone():
    a, b = espeak.recipes(3, seed=0), espeak.recipes(3, seed=0)
    assert a == b and a != espeak.recipes(3, seed=1)
    assert [r.word for r in a] == [w for w in range(10) for _ in range(3)]
    assert {r.voice for r in espeak.recipes(50, 0)} == set(espeak.VOICES)  # every accent is used
    assert all(espeak.SPEEDS[0] <= r.speed <= espeak.SPEEDS[1] for r in a)


@needs_espeak
def test_spoken_digits_are_labelled_centred_clips(tmp_path):
    data = load_data("spoken-digits", sample_rate=RATE, length=LENGTH, clips_per_word=1, cache_dir=tmp_path)
    assert data.kind == "audio" and data.x.dtype == torch.float32 and data.x.shape == (10, 1, LENGTH)
    assert data.class_names == list(espeak.WORDS) and data.y.tolist() == list(range(10))
    assert data.x.abs().max() <= 1 and data.sample_rate == RATE
    levels = data.x.abs().amax(dim=(1, 2))
    plan = espeak.recipes(1, audio.SYNTH_SEED)
    assert torch.allclose(levels, torch.tensor([r.level for r in plan]), atol=1e-3)  # each clip at its level
    loud = (data.x[:, 0].abs() > 0.1 * levels[:, None]).float()  # (above the noise floor, 40 dB or more down)
    centre = (loud * torch.arange(LENGTH)).sum(1) / loud.sum(1)
    assert ((centre - LENGTH / 2).abs() < LENGTH / 6).all()  # the word sits in the middle


@needs_espeak
def test_the_synthesised_set_is_cached_and_a_damaged_cache_is_made_again(tmp_path, monkeypatch, caplog):
    first = load_audio("spoken-digits", RATE, LENGTH, clips_per_word=1, cache_dir=tmp_path)
    entries = sorted(tmp_path.glob("audio-*"))
    assert [p.suffix for p in entries] == [".json", ".npy"]
    with monkeypatch.context() as m:  # read back: espeak-ng is not run again
        m.setattr(espeak, "speak_all", lambda *a, **k: pytest.fail("synthesised again"))
        again = load_audio("spoken-digits", RATE, LENGTH, clips_per_word=1, cache_dir=tmp_path)
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)
    entries[1].write_bytes(entries[1].read_bytes()[:100])  # a torn write
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        third = load_audio("spoken-digits", RATE, LENGTH, clips_per_word=1, cache_dir=tmp_path)
    assert torch.equal(first.x, third.x)
    assert any("ignoring the audio cache" in r.getMessage() for r in caplog.records)
    other = load_audio("spoken-digits", RATE, LENGTH, clips_per_word=2, cache_dir=tmp_path)
    assert len(other) == 20 and len(list(tmp_path.glob("audio-*.npy"))) == 2  # other settings, other entry


def test_every_wav_format_is_read_as_the_same_tone(tmp_path):
    files = write_formats(tmp_path / "wavs")
    for name, path in files.items():
        clip = wav.decode(path, 8000, 8192)
        assert not isinstance(clip, str), (name, clip)
        assert clip.shape == (8192,) and clip.dtype == np.float32
        spectrum = np.abs(np.fft.rfft(clip))
        assert abs(np.argmax(spectrum) * 8000 / 8192 - 440) < 2, name       # resampled to the right pitch
        peak = 0.375 if name == "f32-stereo" else 0.5                       # (stereo: the channels' mean)
        assert abs(np.abs(clip).max() - peak) < 0.02, name
        loud = np.flatnonzero(np.abs(clip) > 0.05)
        assert abs((loud[0] + loud[-1]) / 2 - 4096) < 8, name               # silence trimmed, centred


def test_long_clips_are_cut_to_their_middle_and_short_ones_padded():
    x = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    assert np.array_equal(wav.fit(x, 10), x[495:505])
    padded = wav.fit(x[:4], 10)
    assert np.array_equal(padded[3:7], x[:4]) and not padded[:3].any() and not padded[7:].any()


def test_a_folder_of_wavs_with_class_folders(tmp_path):
    for cls, freq in (("high", 900), ("low", 200)):
        (tmp_path / "set" / cls).mkdir(parents=True)
        for i in range(3):
            wavfile.write(tmp_path / "set" / cls / f"{i}.wav", 8000, tone(freq, 0.3 + 0.1 * i, 8000))
    (tmp_path / "set" / "notes.txt").write_text("not audio, and not a .wav: ignored")
    data = load_data(str(tmp_path / "set"), sample_rate=RATE, length=LENGTH)
    assert data.kind == "audio" and data.x.shape == (6, 1, LENGTH)
    assert data.class_names == ["high", "low"] and data.y.tolist() == [0, 0, 0, 1, 1, 1]


def test_bad_wav_files_are_skipped_and_named_in_one_line(tmp_path, caplog):
    folder = tmp_path / "mixed"
    folder.mkdir()
    wavfile.write(folder / "good.wav", 8000, tone(300, 0.4, 8000))
    (folder / "text.wav").write_text("this is not audio at all\n" * 20)
    wavfile.write(folder / "empty.wav", 8000, np.zeros(0, np.int16))
    wavfile.write(folder / "silent.wav", 8000, np.zeros(4000, np.int16))
    (folder / "bytes.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    with caplog.at_level(logging.WARNING, logger="ganforge"):
        data = load_data(str(folder), sample_rate=RATE, length=LENGTH)
    assert len(data) == 1
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    for said in ("1 of 5 clips kept", "skipped 4", "empty.wav: empty (no samples)", "silent.wav: silent",
                 "text.wav: not a readable WAV file", "bytes.wav: not a readable WAV file"):
        assert said in lines[0], (said, lines[0])
    assert "\n" not in lines[0]


def test_a_folder_without_usable_audio_is_one_error(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.wav").write_text("not audio")
    wavfile.write(folder / "b.wav", 8000, np.zeros(100, np.int16))
    with pytest.raises(GanforgeError, match=r"no usable audio among 2 WAV files \(a.wav: not a readable WAV file"):
        load_audio(str(folder))
    with pytest.raises(GanforgeError, match="no such folder"):
        load_audio(str(tmp_path / "nowhere"))
    with pytest.raises(GanforgeError, match="data.length must be an integer in 64"):
        load_audio(str(folder), length=10)


def test_without_espeak_ng_spoken_digits_say_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    with pytest.raises(GanforgeError, match="spoken digits need espeak-ng: apt install espeak-ng"):
        load_data("spoken-digits", sample_rate=RATE, length=LENGTH, clips_per_word=1)


@needs_asterisk
def test_asterisks_recorded_digits_are_ten_labelled_clips(tmp_path):
    data = load_data("asterisk-digits", cache_dir=tmp_path)
    assert data.x.shape == (10, 1, audio.LENGTH) and data.y.tolist() == list(range(10))
    assert data.class_names[7] == "seven" and data.sample_rate == 16000
    spectrum = torch.fft.rfft(data.x[:, 0]).abs()
    assert spectrum[:, 4200 * audio.LENGTH // 16000:].max() < spectrum.max() * 0.05  # recorded at 8 kHz


def test_without_the_asterisk_package_its_digits_say_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(audio, "ASTERISK", tmp_path / "absent")
    with pytest.raises(GanforgeError, match="apt install asterisk-core-sounds-en-wav"):
        load_data("asterisk-digits")

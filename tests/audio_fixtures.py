"""Audio for the tests: WAV files of every common format, and a WaveGAN small enough for a
test (clips of 1,024 samples at 2 kHz: most of a spoken word, three layers, width 4)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
from scipy.io import wavfile

from ganforge.config import Config, merge

RATE, LENGTH = 2000, 1024  # 0.5 s clips at 2 kHz: tiny networks (22,050 -> 2,000 Hz resamples fast: 40/441)


def tone(freq: float, seconds: float, rate: int, level: float = 0.5) -> np.ndarray:
    """A sine, float32 (n,), with 10 ms of silence before and after."""
    t = np.arange(int(seconds * rate)) / rate
    pad = np.zeros(int(0.01 * rate), np.float32)
    return np.concatenate([pad, (level * np.sin(2 * np.pi * freq * t)).astype(np.float32), pad])


def write_pcm24(path: Path, rate: int, samples: np.ndarray) -> Path:
    """A 24-bit PCM WAV (scipy writes no 24-bit files): the RIFF header and 3-byte samples."""
    ints = np.round(np.clip(samples, -1, 1) * (2 ** 23 - 1)).astype("<i4")
    data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 3, 3, 24)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def write_formats(folder: Path) -> dict[str, Path]:
    """One file per format, each a 440 Hz tone of 0.5 s: 8-bit, 16-bit, 24-bit, 32-bit int,
    float32 stereo, at 8, 22.05, 44.1 and 48 kHz."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, rate, kind in (("u8", 8000, np.uint8), ("i16", 22050, np.int16), ("i32", 48000, np.int32),
                             ("f32-stereo", 44100, np.float32)):
        x = tone(440, 0.5, rate)
        if kind is np.uint8:
            data = np.round(x * 127 + 128).astype(np.uint8)
        elif kind is np.float32:
            data = np.stack([x, x * 0.5], axis=1)
        else:
            data = np.round(x * np.iinfo(kind).max).astype(kind)
        wavfile.write(folder / f"{name}.wav", rate, data)
        out[name] = folder / f"{name}.wav"
    out["i24"] = write_pcm24(folder / "i24.wav", 16000, tone(440, 0.5, 16000))
    return out


def audio_config(source: str = "spoken-digits", **sections: dict[str, Any]) -> Config:
    """A WaveGAN small enough for a test: 1,024-sample clips (3 layers), width 4, WGAN-GP."""
    base = {"data": {"source": source, "sample_rate": RATE, "length": LENGTH, "clips_per_word": 2},
            "model": {"family": "wavegan", "z_dim": 16, "width": 4},
            "loss": {"name": "wgan-gp", "n_critic": 2},
            "optim": {"lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.5, "beta2": 0.9},
            "train": {"steps": 6, "batch_size": 8, "seed": 0, "ema_half_life": 100.0, "sample_every": 3,
                      "checkpoint_every": 3, "log_every": 2, "eval_samples": 32, "device": "cpu", "threads": 1}}
    cfg = merge(Config(), base)
    return merge(cfg, sections) if sections else cfg

"""Clips as pictures: each one's waveform above its log-magnitude spectrogram (torch.stft,
16 ms Hann windows every 8 ms at 16 kHz, as SpecGAN's; low frequencies at the bottom, 0 dB a
full-scale sine, 90 dB of range in the magma colour map)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

N_FFT, HOP = 256, 128
WIDTH, WAVE_HEIGHT, SPEC_HEIGHT = 256, 40, 128   # one clip's panel, in pixels
FLOOR_DB = -90.0
WAVE_COLOUR, WAVE_BACKGROUND = (236, 236, 236), (24, 24, 32)


def log_magnitude(clips: Tensor, n_fft: int = N_FFT, hop: int = HOP) -> Tensor:
    """Clips (N, L) in [-1, 1] -> dB (N, n_fft // 2 + 1, frames) re a full-scale sine."""
    window = torch.hann_window(n_fft, device=clips.device)
    spec = torch.stft(clips.float(), n_fft, hop, window=window, return_complex=True).abs()
    return 20 * torch.log10(spec / (window.sum() / 2) + 1e-9)


def _colour(db: Tensor) -> np.ndarray:
    """dB (..., H, W) -> uint8 RGB (..., H, W, 3) through the magma colour map."""
    from matplotlib import colormaps
    lut = (colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)  # (256, 3)
    level = ((db.clamp(FLOOR_DB, 0) - FLOOR_DB) / -FLOOR_DB * 255).round().long().numpy()
    return lut[level]


def _spectrogram_panels(clips: Tensor) -> np.ndarray:
    """Clips (N, L) -> uint8 (N, SPEC_HEIGHT, WIDTH, 3), low frequencies at the bottom."""
    n_fft = min(N_FFT, 1 << (clips.shape[1].bit_length() - 2))       # short clips: shorter windows
    db = log_magnitude(clips, n_fft, n_fft // 2)[:, 1:].flip(1)      # (N, n_fft/2, T): DC dropped, top row high
    db = F.interpolate(db[:, None], size=(SPEC_HEIGHT, WIDTH), mode="nearest")[:, 0]
    return _colour(db)


def _wave_panels(clips: Tensor) -> np.ndarray:
    """Clips (N, L) -> uint8 (N, WAVE_HEIGHT, WIDTH, 3): each column the min..max of its samples."""
    n, length = clips.shape
    per = max(1, length // WIDTH)
    x = F.pad(clips, (0, per * WIDTH - length)) if per * WIDTH > length else clips[:, :per * WIDTH]
    segments = x.reshape(n, WIDTH, per).clamp(-1, 1)
    top = ((1 - segments.amax(2)) / 2 * (WAVE_HEIGHT - 1)).floor()   # (N, W) pixel rows
    bottom = ((1 - segments.amin(2)) / 2 * (WAVE_HEIGHT - 1)).ceil()
    rows = torch.arange(WAVE_HEIGHT)[None, :, None]                  # (1, H, 1)
    ink = ((rows >= top[:, None]) & (rows <= bottom[:, None])).numpy()  # (N, H, W)
    out = np.empty((n, WAVE_HEIGHT, WIDTH, 3), np.uint8)
    out[:] = WAVE_BACKGROUND
    out[ink] = WAVE_COLOUR
    return out


def clip_pictures(clips: Tensor) -> Tensor:
    """Clips (N, 1, L) in [-1, 1] -> pictures (N, 3, WAVE_HEIGHT + SPEC_HEIGHT, WIDTH) in
    [-1, 1] (for viz.grid and TensorBoard): the waveform above its spectrogram."""
    x = clips.detach().float().cpu().flatten(1)                      # (N, L)
    panels = np.concatenate([_wave_panels(x), _spectrogram_panels(x)], axis=1)  # (N, H, W, 3)
    return torch.from_numpy(panels).permute(0, 3, 1, 2).float() / 127.5 - 1

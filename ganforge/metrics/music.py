"""MuseGAN's measures of piano rolls (Dong et al. 2018, Tables 1-2), plus polyphony and the
in-key ratio, so generated music is compared with its training data metric by metric.

All take bool rolls (N, tracks, bars, steps, pitches) and the MIDI pitch of the first row:
  EB    empty bars, % of bars of a track with no note
  UPC   used pitch classes per (non-empty) bar, 0..12
  QN    qualified notes, % of notes at least QUALIFIED steps long (3 16ths: a dotted 8th;
        MuseGAN's 3 steps were 32nd notes at its 96 steps a bar: on a 16th-note grid the
        same count is stricter, and the data row shows what real music scores)
  PP    polyphony, % of a track's sounding steps with two or more pitches at once
  TD    tonal distance of each pair of tracks (Harte et al. 2006's tonal centroids of the
        bars' chroma; the mean over bars where both tracks sound; smaller: more in harmony)
  IK    in key, % of sounding (step, pitch) cells in the phrase's best-fitting diatonic scale
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

QUALIFIED = 3
MAJOR = (0, 2, 4, 5, 7, 9, 11)  # a diatonic scale's pitch classes (its relative minor's too)


def pitch_classes(counts: Tensor, low: int) -> Tensor:
    """(..., pitches) counts (or bool) -> (..., 12) float: the counts of each pitch class,
    C first, for rows starting at MIDI pitch `low`."""
    pad = -counts.shape[-1] % 12
    x = torch.nn.functional.pad(counts.to(torch.int64), (0, pad))
    per_class = x.reshape(*x.shape[:-1], -1, 12).sum(-2)              # column j: pitch class (low + j) % 12
    return torch.roll(per_class, low % 12, dims=-1).to(torch.float32)


def empty_bars(roll: Tensor) -> Tensor:
    """(tracks,) % of bars with no note."""
    return 100 * (~roll.any(dim=(3, 4))).float().mean(dim=(0, 2))


def used_pitch_classes(roll: Tensor, low: int) -> Tensor:
    """(tracks,) pitch classes used per non-empty bar."""
    used = (pitch_classes(roll.any(dim=3), low) > 0).sum(-1).float()  # (N, T, bars)
    sounding = roll.any(dim=(3, 4))
    return _masked_mean(used, sounding, dims=(0, 2))


def note_lengths(roll: Tensor) -> tuple[Tensor, Tensor]:
    """(track index, length in steps) of every note: runs of sounding steps of one pitch
    through the phrase (bar lines do not cut a note)."""
    n, t, bars, steps, p = roll.shape
    timeline = roll.reshape(n, t, bars * steps, p).transpose(2, 3).reshape(-1, bars * steps)  # (N*T*P, time)
    padded = torch.nn.functional.pad(timeline.to(torch.int8), (1, 1))
    change = padded[:, 1:] - padded[:, :-1]
    row_on, t_on = torch.nonzero(change == 1, as_tuple=True)
    _, t_off = torch.nonzero(change == -1, as_tuple=True)            # same rows, same order
    track = (row_on // p) % t
    return track, t_off - t_on


def qualified_notes(roll: Tensor) -> Tensor:
    """(tracks,) % of notes at least QUALIFIED steps long."""
    track, length = note_lengths(roll)
    tracks = roll.shape[1]
    total = torch.bincount(track, minlength=tracks).float()
    good = torch.bincount(track[length >= QUALIFIED], minlength=tracks).float()
    return torch.where(total > 0, 100 * good / total.clamp(min=1), torch.full_like(total, math.nan))


def polyphony(roll: Tensor) -> Tensor:
    """(tracks,) % of sounding steps with two or more pitches of the track at once."""
    count = roll.sum(-1)                                              # (N, T, bars, steps)
    sounding = count > 0
    return 100 * _masked_mean((count >= 2).float(), sounding, dims=(0, 2, 3))


def tonal_matrix() -> Tensor:
    """Harte's 6 x 12 map of a chroma vector to its tonal centroid (fifths, minor and major
    thirds circles, radii 1, 1, 0.5)."""
    pc = torch.arange(12, dtype=torch.float64)
    rows = []
    for radius, angle in ((1.0, 7 * math.pi / 6), (1.0, 3 * math.pi / 2), (0.5, 2 * math.pi / 3)):
        rows += [radius * torch.sin(pc * angle), radius * torch.cos(pc * angle)]
    return torch.stack(rows).float()


def tonal_distance(roll: Tensor, low: int) -> dict[tuple[int, int], float]:
    """{(i, j): mean tonal distance of tracks i and j over bars where both sound}."""
    chroma = pitch_classes(roll.sum(dim=3), low)                    # (N, T, bars, 12): steps sounding
    mass = chroma.sum(-1, keepdim=True)
    centroid = (chroma / mass.clamp(min=1e-9)) @ tonal_matrix().to(roll.device).T  # (N, T, bars, 6)
    sounding = mass[..., 0] > 0
    out = {}
    tracks = roll.shape[1]
    for i in range(tracks):
        for j in range(i + 1, tracks):
            both = sounding[:, i] & sounding[:, j]
            d = (centroid[:, i] - centroid[:, j]).norm(dim=-1)
            out[(i, j)] = float(d[both].mean()) if both.any() else math.nan
    return out


def in_key(roll: Tensor, low: int) -> float:
    """% of sounding cells whose pitch class is in each phrase's best-fitting diatonic scale."""
    counts = pitch_classes(roll.sum(dim=(1, 2, 3)), low)              # (N, 12)
    scale = torch.zeros(12, 12)
    for key in range(12):
        scale[key, [(key + d) % 12 for d in MAJOR]] = 1
    inside = (counts @ scale.to(counts.device).T).max(dim=1).values  # (N,) best key's cells
    total = counts.sum(1)
    return float(100 * inside.sum() / total.sum().clamp(min=1))


def music_metrics(roll: Tensor, low: int, track_names: list[str]) -> dict[str, float]:
    """Every measure, by name: EB/Soprano, UPC/Soprano, ..., TD/Soprano-Alto, IK."""
    roll = roll.bool()
    out: dict[str, float] = {}
    for name, values in (("EB", empty_bars(roll)), ("UPC", used_pitch_classes(roll, low)),
                         ("QN", qualified_notes(roll)), ("PP", polyphony(roll))):
        out.update({f"{name}/{t}": float(v) for t, v in zip(track_names, values)})
    for (i, j), d in tonal_distance(roll, low).items():
        out[f"TD/{track_names[i]}-{track_names[j]}"] = d
    out["IK"] = in_key(roll, low)
    return out


def _masked_mean(values: Tensor, mask: Tensor, dims: tuple[int, ...]) -> Tensor:
    m = mask.float()
    total = m.sum(dim=dims)
    return torch.where(total > 0, (values * m).sum(dim=dims) / total.clamp(min=1), torch.full_like(total, math.nan))

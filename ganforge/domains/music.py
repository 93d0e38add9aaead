"""Music: piano-roll phrases (uint8 (N, tracks, bars, steps, pitches) in {0, 255}, {-1, 1} in
the models). Sample pictures are piano rolls, with the same phrases as MIDI beside them and
the latest as audio (samples/latest.wav, when tinysoundfont is installed); measured during
training by MuseGAN's metrics against the training data's (ganforge/metrics/music.py)."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch
from torch import Tensor, nn

from ganforge.data.midi import Score, write_midi
from ganforge.domains.evaluation import SampledEvaluation
from ganforge.errors import GanforgeError
from ganforge.metrics.music import music_metrics
from ganforge.viz.pianoroll import roll_pictures, save_rolls

log = logging.getLogger("ganforge")

AUDIO_PHRASES = 4   # fixed-z phrases in samples/latest.wav
PERCENTAGES = ("EB", "QN", "PP", "IK")  # the metrics in % (the others: counts and distances)


class MusicDomain:
    kind = "music"
    images = False          # 5-D rolls: no NHWC layout
    picture_count = 8       # phrases in a sample picture
    probe_count = 64        # fixed-z samples the collapse alarm compares with real ones

    def __init__(self, data):
        self.data = data
        self.score = Score(data.low, data.track_names, data.programs, data.tempo)
        self._audio = True  # until tinysoundfont turns out to be missing

    def real_sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n real phrases (uint8), a seeded random subset."""
        x = self.data.x
        return x[torch.randperm(len(x), generator=generator)[:n]]

    def scale(self) -> float:
        return 1.0

    def info(self) -> dict:
        """What MIDI and audio out need, kept in the exported model's config.json."""
        return {"low": self.score.low, "track_names": self.score.track_names,
                "programs": self.score.programs, "tempo": self.score.tempo}

    def save_picture(self, samples: Tensor, path: Path, nrow: int | None = None,
                     critic: nn.Module | None = None) -> Tensor:
        """step-N.png (piano rolls), step-N.mid and latest.wav of the same phrases; returns
        the piano-roll pictures (for TensorBoard)."""
        rolls = samples.detach().cpu() > 0
        save_rolls(rolls, path, nrow=nrow)
        write_midi(rolls, path.with_suffix(".mid"), self.score)
        if self._audio:
            from ganforge.viz.synth import write_wav
            try:
                write_wav(rolls[:AUDIO_PHRASES], path.parent / "latest.wav", self.score)
            except GanforgeError as e:  # no synthesiser installed: pictures and MIDI only
                log.warning("no audio samples: %s", e)
                self._audio = False
        return roll_pictures(rolls)

    def evaluation(self, cfg, run_dir: Path | None = None) -> MusicEvaluation | None:
        t = cfg.train
        return MusicEvaluation(self.data, t.eval_every, t.eval_samples, t.seed)


class MusicEvaluation(SampledEvaluation):
    """MuseGAN's metrics of `n` generated phrases (seeded z, threshold at 0), and `gap`, the
    largest relative gap to the training data's own metrics."""

    def __init__(self, data, every: int, n: int, seed: int):
        self.every, self.n, self.seed = every, n, seed
        self.low, self.tracks = data.low, data.track_names
        self.reference = music_metrics(data.x > 0, data.low, data.track_names)

    def _measure(self, G: nn.Module) -> dict[str, float]:
        rolls = self.generated(G, 256, each=lambda x: x > 0)  # binarised batch by batch: bool, not float
        result = music_metrics(rolls, self.low, self.tracks)
        result["gap"] = largest_gap(result, self.reference)
        return result


def largest_gap(measured: dict[str, float], reference: dict[str, float]) -> float:
    """The largest |measured - data| / data over the metrics whose data value is not ~0 (a
    relative gap to 0.03 % empty bars means nothing: percentages under 1 % are left out);
    NaN (e.g. no notes at all) counts as 1."""
    gaps = [1.0 if math.isnan(measured[k]) else abs(measured[k] - v) / abs(v)
            for k, v in reference.items() if k in measured and not _near_zero(k, v)]
    return max(gaps) if gaps else math.nan


def _near_zero(name: str, value: float) -> bool:
    return math.isnan(value) or abs(value) < 1e-9 or (name.split("/")[0] in PERCENTAGES and abs(value) < 1.0)

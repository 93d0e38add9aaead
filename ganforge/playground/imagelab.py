"""The image lab: sample grids, per-class rows, latent-direction sliders and interpolation
for an exported model or a run under `--runs`, plus the live view of a run in training.

Pictures go to the page as PNG data URLs inside JSON messages, sounds as WAV data URLs; each
carries its provenance record (the model's weights hash, the seed, the sliders), as files
written by `ganforge generate` do, so that a picture saved from the page says what made it.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import torch
from PIL import Image

from ganforge import modeling, provenance
from ganforge.errors import GanforgeError
from ganforge.playground import runs
from ganforge.domains.text import text_panel
from ganforge.pipelines.audio import sound
from ganforge.playground.messages import DIRECTIONS
from ganforge.resolution import size as image_size
from ganforge.sampling.directions import principal_directions, random_directions
from ganforge.viz.grid import image_grid, scatter
from ganforge.viz.pianoroll import roll_pictures
from ganforge.viz.spectrogram import clip_pictures

MAX_CLASS_ROWS = 10    # per-class rows shown for a conditional model
POINT_SAMPLES = 1000   # a point model's scatter
UPSCALE_TO = 48        # small images are enlarged (nearest) to at least this many pixels
MUSIC_PHRASES = 8      # piano rolls in a music model's grid
MOLECULES_SHOWN = 16   # drawn molecules in a molecule model's grid (RDKit draws ~5 ms each)
AUDIO_CLIPS = 8        # spectrograms in an audio model's grid
TEXT_LINES = 16        # fresh lines of a text model, one panel
VIDEO_CLIPS = 8        # clips playing in a video model's grid, four a row


def _png(picture: Image.Image, record: dict | None) -> str:
    buf = io.BytesIO()
    picture.save(buf, format="PNG", pnginfo=provenance.png_info(record))
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _wav(wav: bytes, record: dict | None) -> str:
    return "data:audio/wav;base64," + base64.b64encode(provenance.wav_with_info(wav, record)).decode("ascii")
def _gif(clips: torch.Tensor, nrow: int, fps: float) -> str:
    """Clips (N, C, T, H, W) playing side by side, as a GIF data URI (an <img> plays it)."""
    from ganforge.viz.video import grid_frames
    frames, buf = grid_frames(clips, nrow), io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
    return "data:image/gif;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: Gaussian z keep their typical norm along the path."""
    cos = (a @ b / (a.norm() * b.norm()).clamp(min=1e-8)).clamp(-1, 1)
    omega = torch.arccos(cos)
    if float(omega) < 1e-4:
        return torch.lerp(a[None], b[None], t[:, None])
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega)[:, None] * a + torch.sin(t * omega)[:, None] * b) / so


class ImageLab:
    """One opened run or model. Methods return the message the page gets."""

    def __init__(self, root: Path):
        self.root = root
        self.folder: Path | None = None
        self.G = None
        self.z = torch.empty(0)
        self.offsets = [0.0] * DIRECTIONS
        self.seen: tuple = ()

    def open(self, rel: str) -> dict:
        folder = runs.resolve(self.root, rel)
        info = runs.describe(folder)
        if info is None:
            raise GanforgeError(f"'{rel[:80]}' is not a run or an exported model")
        self.folder, self.rel, self.G, self.seen = folder, rel, None, ()
        if info["kind"] == "model" or info.get("has_model"):
            self.G = modeling.load(folder)
            self.model = provenance.model_id(folder)  # (hashed once: the weights do not change while open)
            if getattr(self.G, "kind", None) == "translator":  # no z to sample: its pictures and curves only
                self.G = None
        self.offsets = [0.0] * DIRECTIONS
        if self.G is not None:
            self.basis = "random" if self.is_points else "principal"  # (a 2-D toy's z has no features worth it)
            self._find_directions()
        grid = self.sample(0, 16 if self.is_points else 32) if self.G is not None else {}
        return {**grid, "type": "image.opened", "path": rel, "kind": info["kind"], **self._model_info()}

    @property
    def is_music(self) -> bool:
        return getattr(self.G, "kind", None) == "music"

    @property
    def is_molecules(self) -> bool:
        return getattr(self.G, "kind", None) == "molecules"

    @property
    def is_audio(self) -> bool:
        return getattr(self.G, "kind", None) == "audio"

    @property
    def is_text(self) -> bool:
        return getattr(self.G, "kind", None) == "text"

    @property
    def is_video(self) -> bool:
        return getattr(self.G, "kind", None) == "video"

    @property
    def is_points(self) -> bool:
        return (self.G is not None and self.G.resolution == 0 and not self.is_music and not self.is_molecules
                and not self.is_audio and not self.is_text)

    def _model_info(self) -> dict:
        if self.G is None:
            return {"has_model": False}
        names = (getattr(self.G, "data_info", {}) or {}).get("class_names")
        return {"has_model": True, "z_dim": self.G.z_dim, "c_dim": self.G.c_dim, "resolution": self.G.resolution,
                "points": self.is_points, "music": self.is_music, "molecules": self.is_molecules,
                "clips": self.is_audio,  # (an audio model; "audio" is the player's sound in grid messages)
                "text": self.is_text,
                "video": self.is_video,  # (its grid and interpolations are GIFs, playing)
                "class_names": names if isinstance(names, list) else None, "directions": DIRECTIONS,
                **self._directions_info()}

    def _record(self, task: str) -> dict:
        """What made the picture or sound about to be sent: model, seed and slider offsets."""
        shifted = [round(v, 4) for v in self.offsets] if any(self.offsets) else None
        return provenance.record(self.model, f"playground {task}", seed=self.seed,
                                 directions=None if shifted is None else f"{self.basis} {shifted}")

    def _png(self, picture: Image.Image, task: str = "samples") -> str:
        """A picture for the page, carrying the record of what made it."""
        return _png(picture, self._record(task))

    def _need_model(self) -> None:
        if self.G is None:
            raise GanforgeError("open an exported model or a run with a model/ folder first")

    def sample(self, seed: int, n: int) -> dict:
        """A fresh grid of n samples (per class rows for conditional models)."""
        self._need_model()
        self.seed, self.n = seed, n
        n = min(n, MUSIC_PHRASES) if self.is_music else min(n, MOLECULES_SHOWN) if self.is_molecules else n
        n = min(n, AUDIO_CLIPS) if self.is_audio else min(n, TEXT_LINES) if self.is_text else n
        n = min(n, VIDEO_CLIPS) if self.is_video else n
        self.z = torch.randn(POINT_SAMPLES if self.is_points else n, self.G.z_dim,
                             generator=torch.Generator().manual_seed(seed))
        return self._grid_message()

    def set_directions(self, values: list[float]) -> dict:
        self._need_model()
        self.offsets = values
        return self._grid_message()

    def set_basis(self, basis: str) -> dict:
        """The sliders' directions: "principal" (GANSpace: the generator's own main directions of
        variation, first = most variance) or "random"; the sliders are centred."""
        self._need_model()
        self.basis, self.offsets = basis, [0.0] * DIRECTIONS
        self._find_directions()
        return {**self._grid_message(), **self._directions_info()}

    def _find_directions(self) -> None:
        found = (principal_directions(self.G, DIRECTIONS) if self.basis == "principal"
                 else random_directions(self.G.z_dim, DIRECTIONS))
        self.explained = found.explained
        self.directions = torch.zeros(DIRECTIONS, self.G.z_dim)  # (K, z); rows past z_dim stay still
        self.directions[:len(found.vectors)] = found.vectors

    def _directions_info(self) -> dict:
        return {"basis": self.basis, "explained": self.explained}

    def _shifted(self) -> torch.Tensor:
        shift = torch.tensor(self.offsets) @ self.directions  # (z,)
        return self.z + shift

    @torch.no_grad()
    def _grid_message(self) -> dict:
        z = self._shifted()
        if self.is_points:
            picture = scatter(self.G(z)[:, :2], size=384)
            return {"type": "image.grid", "image": self._png(picture), "rows": 1, "cols": 1,
                    "seed": self.seed}
        if self.is_music:  # piano rolls two a row, and the first phrase to listen to
            rolls = self.G(z) > 0
            return {"type": "image.grid", "image": self._png(image_grid(roll_pictures(rolls), 2, pad=4)),
                    "rows": -(-len(z) // 2), "cols": 2, "seed": self.seed, "audio": self._audio(rolls[:1])}
        if self.is_text:  # fresh lines, one panel (and the lines themselves)
            lines = self._lines(z)
            return {"type": "image.grid", "image": self._png(text_panel(lines)), "rows": len(lines), "cols": 1,
                    "seed": self.seed, "lines": lines}
        if self.is_molecules:  # drawn, four a row, each with its QED
            return {"type": "image.grid", "image": self._png(image_grid(self._drawn(self.G(z)), 4)),
                    "rows": -(-len(z) // 4), "cols": 4, "seed": self.seed}
        if self.is_video:  # the clips playing, four a row
            clips = self._video(z, torch.arange(len(z)))
            return {"type": "image.grid", "image": _gif(clips, 4, self._fps()), "rows": -(-len(z) // 4), "cols": 4,
                    "seed": self.seed}
        if self.is_audio:  # spectrograms under waveforms two a row, and the first clip to listen to
            clips = sound(self.G, self.G(z, self._clip_labels(torch.arange(len(z)))))
            return {"type": "image.grid", "image": self._png(image_grid(clip_pictures(clips), 2, pad=4)),
                    "rows": -(-len(z) // 2), "cols": 2, "seed": self.seed, "audio": self._clip_audio(clips[:1])}
        if self.G.c_dim:
            rows = min(self.G.c_dim, MAX_CLASS_ROWS)
            cols = max(1, min(len(z), 64 // rows))
            zz = z[:cols].repeat(rows, 1)                            # same z in every row
            c = torch.arange(rows).repeat_interleave(cols)           # row r = class r
            images, ncol = self.G(zz, c), cols
        else:
            images, ncol = self.G(z), math.ceil(math.sqrt(len(z)))
            rows = math.ceil(len(z) / ncol)
        return {"type": "image.grid", "image": self._png(self._enlarge(image_grid(images, ncol))),
                "rows": rows, "cols": ncol, "seed": self.seed}

    def _drawn(self, samples: torch.Tensor) -> torch.Tensor:
        """Molecule samples -> their drawings (N, 3, H, W), invalid ones grey."""
        from ganforge.data.molecules import decode_samples
        from ganforge.viz.molecules import drawn_with_qed
        return drawn_with_qed(decode_samples(samples, self.G.data_info["atoms"]))

    def _lines(self, z: torch.Tensor) -> list[str]:
        """A text model's lines of z, its draws seeded by the grid's seed (the same seed, the same lines)."""
        from ganforge.data.text import decode
        info = self.G.data_info
        tokens = self.G(z, generator=torch.Generator().manual_seed(self.seed))
        return decode(tokens, info["vocab"], info.get("level", "chars"), int(info.get("end", 0)))

    def _audio(self, rolls: torch.Tensor) -> str | None:
        """A phrase as a WAV data URL (None without a synthesiser: the page shows no player)."""
        from ganforge.data.midi import Score
        from ganforge.viz.synth import write_wav
        buf = io.BytesIO()
        try:
            write_wav(rolls, buf, Score.from_info(getattr(self.G, "data_info", {})))
        except GanforgeError:
            return None
        return _wav(buf.getvalue(), self._record("sound"))

    def _clip_labels(self, cells: torch.Tensor) -> torch.Tensor | None:
        """A conditional audio model's class of each grid cell: they cycle through the classes."""
        return cells % self.G.c_dim if self.G.c_dim else None

    def _video(self, z: torch.Tensor, cells: torch.Tensor, same_motion: bool = False) -> torch.Tensor:
        """A video model's clips of z, the innovations seeded by the grid's seed (one clip's for all: same_motion)."""
        G = self.G
        noise = torch.randn(len(z), G.frames, G.motion_dim, generator=torch.Generator().manual_seed(self.seed + 1))
        if same_motion:
            noise = noise[:1].expand(len(z), -1, -1)
        return G(z, self._clip_labels(cells), noise=noise)

    def _fps(self) -> float:
        return float((getattr(self.G, "data_info", None) or {}).get("fps", 8.0))

    def _clip_audio(self, clips: torch.Tensor) -> str:
        """Clips as a WAV data URL, for the page's player."""
        from ganforge.viz.sound import one_after_another, wav_bytes
        rate = int((getattr(self.G, "data_info", None) or {}).get("sample_rate", 16_000))
        return _wav(wav_bytes(one_after_another(clips, rate), rate), self._record("sound"))

    def _enlarge(self, picture: Image.Image) -> Image.Image:
        side = max(image_size(self.G.resolution))  # a side, or [h, w]
        factor = max(1, math.ceil(UPSCALE_TO / side))
        return picture.resize((picture.width * factor, picture.height * factor), Image.NEAREST)

    @torch.no_grad()
    def interpolate(self, a: int, b: int, steps: int) -> dict:
        """A row of `steps` images from grid cell a to grid cell b (class of a's row)."""
        self._need_model()
        if self.is_points:
            raise GanforgeError("interpolation is for image models; a point model shows a scatter")
        if self.is_audio or self.is_video:
            return self._interpolate_clips(a, b, steps)
        cols = len(self.z) if not self.G.c_dim else min(len(self.z), 64 // min(self.G.c_dim, MAX_CLASS_ROWS))
        cells = cols * (min(self.G.c_dim, MAX_CLASS_ROWS) if self.G.c_dim else 1)
        if not (a < cells and b < cells):
            raise GanforgeError(f"cells a and b must be below {cells} (the grid shown)")
        z = self._shifted()
        za, zb = z[a % cols], z[b % cols]
        path = _slerp(za, zb, torch.linspace(0, 1, steps))
        c = torch.full((steps,), a // cols, dtype=torch.long) if self.G.c_dim else None
        if self.is_text:  # a panel of lines from a to b
            picture = text_panel(self._lines(path))
        elif self.is_molecules:  # a row of molecules from a to b
            picture = image_grid(self._drawn(self.G(path)), steps)
        elif self.is_music:  # a column of phrases from a to b
            picture = image_grid(roll_pictures(self.G(path) > 0), 1, pad=4)
        else:
            picture = self._enlarge(image_grid(self.G(path, c), steps))
        return {"type": "image.interpolation", "image": self._png(picture, f"interpolation {a} -> {b}"),
                "a": a, "b": b}

    def _interpolate_clips(self, a: int, b: int, steps: int) -> dict:
        """A column of `steps` clips from grid cell a to b (in a's class)."""
        if not (a < len(self.z) and b < len(self.z)):
            raise GanforgeError(f"cells a and b must be below {len(self.z)} (the grid shown)")
        z = self._shifted()
        path = _slerp(z[a], z[b], torch.linspace(0, 1, steps))
        labels = self._clip_labels(torch.full((steps,), a))
        if self.is_video:  # a row of clips, all with a's motion, playing
            clips = self._video(path, torch.full((steps,), a), same_motion=True)
            return {"type": "image.interpolation", "image": _gif(clips, steps, self._fps()), "a": a, "b": b}
        clips = sound(self.G, self.G(path, labels))
        picture = image_grid(clip_pictures(clips), 1, pad=4)
        return {"type": "image.interpolation", "image": self._png(picture, f"interpolation {a} -> {b}"),
                "a": a, "b": b}

    def poll(self) -> dict | None:
        """For a run: its latest sample picture and curves when they changed (else None)."""
        if self.folder is None or (self.folder / "config.json").is_file():
            return None  # nothing open, or an exported model (it does not change)
        info = runs.describe(self.folder)
        if info is None or runs.outside(self.root.resolve(), self.folder) is not None:
            return None  # gone, or a link leading out of --runs appeared since it was opened
        if self.G is None and info.get("has_model"):
            return self.open(self.rel)  # the run finished and exported its model: sample it now
        latest, metrics = self.folder / "samples" / "latest.png", self.folder / "metrics.jsonl"
        stamp = tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in (latest, metrics))
        if stamp == self.seen:
            return None
        self.seen = stamp
        msg: dict = {"type": "image.run", "curves": runs.read_curves(self.folder), "latest": None}
        if latest.is_file():
            try:
                with Image.open(latest) as im:
                    # the training picture's own record (its step), which a copy would drop
                    msg["latest"] = _png(im.copy(), provenance.parse(im.info.get(provenance.KEY)))
            except OSError:
                pass  # being replaced right now: the next poll gets it
        return msg

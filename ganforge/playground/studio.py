"""The studio: a person's own pictures through the image-to-image models under `--runs`.

Three tasks, each served by the pipeline its command uses (TASKS): enlarge an uploaded image
(`ganforge upscale`, the superres game), fill a painted mask (`ganforge repair`, the repair
game), and render a sketch drawn on a canvas (`ganforge translate`, the pix2pix game: the
edges2cats demo on the real engine). `studio_models(root)` lists the exports under --runs by
task, read from their config.json only (no weights loaded).

Requests run on the tab's own studio thread, never on the event loop or the 2-D lab's
worker: at most one is in flight per tab, and one per task waits; a newer request of a task
replaces the waiting one (latest wins), so that live drawing renders the newest strokes
instead of a queue of old ones. Results go to the page as PNG data URLs carrying their
provenance record, as the image lab's pictures do.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganforge import modeling, provenance
from ganforge.data.folder import _to_mode
from ganforge.errors import GanforgeError
from ganforge.pipelines.repair import MASK_THRESHOLD, RepairPipeline
from ganforge.pipelines.translate import TranslatePipeline, as_uint8, open_image, read_uint8
from ganforge.pipelines.upscale import MIN_SIDE, UpscalePipeline
from ganforge.playground import messages, runs

MAX_OUTPUT_PIXELS = 2**22  # an upscaled result (2048 x 2048): its PNG must still travel to the page
EDGE_INK = 192             # a scaled-down sketch pixel this dark (a quarter of it inked) is a line, for an edges model
CACHED_PIPELINES = 3       # loaded models a tab keeps (one a task, typically)
# an export's game when its config.json predates the recorded "game" (by the network's family)
FAMILY_GAMES = {"srresnet": "superres", "inpainter": "repair", "unet": "pix2pix", "resnet-translator": "pix2pix"}


@dataclass(frozen=True)
class Task:
    games: tuple[str, ...]   # the games whose exports it takes
    pipeline: type           # its pipeline class (from_pretrained)
    command: str             # the CLI command doing the same to files, for messages
    run: Callable            # (pipe, msg) -> (uint8 (H, W, C) result, provenance fields, a note)


def _upscale(pipe: UpscalePipeline, msg: dict) -> tuple[np.ndarray, dict, str]:
    c = pipe.G.in_channels
    image = decode(msg["image"], c, "the image")
    h, w = image.shape[:2]
    s = pipe.scale
    if min(h, w) < MIN_SIDE:
        raise GanforgeError(f"the image is {w}x{h} px: the model enlarges images of at least {MIN_SIDE} px a side")
    if h * w * s * s > MAX_OUTPUT_PIXELS:
        raise GanforgeError(f"the image is {w}x{h} px: x{s} it would be {w * s}x{h * s}, more than the studio's "
                            f"{MAX_OUTPUT_PIXELS / 1e6:.1f} MP; crop it, or use `ganforge upscale` for files")
    x = torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1   # (C, H, W) in [-1, 1]
    return pipe(x, output_type="np"), {"scale": f"x{s}"}, f"{w}x{h} -> {w * s}x{h * s} (x{s})"


def _repair(pipe: RepairPipeline, msg: dict) -> tuple[np.ndarray, dict, str]:
    image = decode(msg["image"], pipe.G.channels, "the image")
    mask = decode(msg["mask"], 1, "the mask")[..., 0] >= MASK_THRESHOLD   # (H, W) bool: white = fill
    out = pipe(image, mask)  # (a mask of another size, an empty one: one line from the pipeline)
    grey = " (in grey: a grey model)" if pipe.G.channels == 1 else ""
    return out, {"hole": f"{mask.mean():.1%}"}, f"{mask.mean():.1%} of the pixels filled{grey}"


def _sketch(pipe: TranslatePipeline, msg: dict) -> tuple[np.ndarray, dict, str]:
    net = pipe.G
    picture = _open(msg["image"], "the sketch")
    size = tuple(getattr(net, "image_size", ()) or (picture.height, picture.width))    # (h, w) it learnt
    drawn = f"{picture.width}x{picture.height}"
    if (picture.height, picture.width) != size:  # the canvas at the model's scale: strokes as thick as its edges
        picture = _to_mode(picture, net.in_channels).resize((size[1], size[0]), Image.BOX)
    sketch = as_uint8(picture, net.in_channels)
    if (getattr(net, "data_info", None) or {}).get("pairs") == "edges":  # it learnt black-or-white edge maps
        sketch = np.where(sketch < EDGE_INK, 0, 255).astype(np.uint8)
    x = torch.from_numpy(sketch).permute(2, 0, 1).float() / 127.5 - 1          # (C, h, w) in [-1, 1]
    out = pipe(x[None], output_type="np")[0]
    return out, {}, f"sketch {drawn} rendered at {size[1]}x{size[0]}"


TASKS = {
    "upscale": Task(("superres",), UpscalePipeline, "ganforge upscale", _upscale),
    "repair": Task(("repair",), RepairPipeline, "ganforge repair", _repair),
    "sketch": Task(("pix2pix",), TranslatePipeline, "ganforge translate", _sketch),
}
assert tuple(TASKS) == messages.STUDIO_TASKS  # the messages' list of names is this table's


# ----------------------------------------------------------------- images in and out
def _open(data: bytes, what: str) -> Image.Image:
    """Validated bytes (messages.py checked the format and the header's size) -> a loaded image."""
    return open_image(io.BytesIO(data), what)


def decode(data: bytes, channels: int, what: str) -> np.ndarray:
    """An uploaded PNG/JPEG -> uint8 (H, W, channels), as `ganforge translate` reads files."""
    return read_uint8(io.BytesIO(data), channels, what)


def png_url(image: np.ndarray, record: dict | None) -> str:
    """uint8 (H, W, C) -> a PNG data URL, `record` in its text chunks."""
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    buf = io.BytesIO()
    picture.save(buf, format="PNG", pnginfo=provenance.png_info(record))
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ----------------------------------------------------------------- the models under --runs
def game_of(folder: Path) -> tuple[str | None, dict]:
    """(game, config) of an export or a run's model/, from its config.json; (None, {}) otherwise."""
    try:
        config = json.loads((modeling.model_dir(folder) / "config.json").read_text())
    except (OSError, ValueError):
        return None, {}
    if not isinstance(config, dict):
        return None, {}
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    family = config.get("family")
    game = data.get("game") or FAMILY_GAMES.get(family) or ("generation" if family in modeling.FAMILIES else None)
    return (game if isinstance(game, str) else None), config


def _summary(config: dict) -> dict:
    """What the page shows beside a model: its channels, scale, training size and input kind."""
    kwargs = config.get("kwargs") if isinstance(config.get("kwargs"), dict) else {}
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    keep = {k: kwargs[k] for k in ("channels", "in_channels", "scale", "resolution") if k in kwargs}
    return {**keep, "source": data.get("source"), "pairs": data.get("pairs")}


def studio_models(root: Path) -> dict[str, list[dict]]:
    """{task: [{"path", "game", ...}]} of the exported models under root each task can use."""
    out: dict[str, list[dict]] = {task: [] for task in TASKS}
    for entry in runs.list_runs(root):
        if entry["kind"] != "model" and not entry.get("has_model"):
            continue  # a run still training: no model to load yet
        game, config = game_of(root.resolve() / entry["path"])
        for task, spec in TASKS.items():
            if game in spec.games:
                out[task].append({"path": entry["path"], "game": game, **_summary(config)})
    out["sketch"].sort(key=lambda m: m["pairs"] != "edges")  # edge-map models first: the page's default
    return out


class Studio:
    """One tab's studio: `submit(msg)` from the server; replies through `reply(dict)`."""

    def __init__(self, root: Path, reply: Callable[[dict], None]):
        self.root, self.reply = root, reply
        self.pending: collections.OrderedDict[str, dict] = collections.OrderedDict()  # task -> newest request
        self.cond = threading.Condition()
        self.stopping = False
        self.pipes: collections.OrderedDict[tuple, object] = collections.OrderedDict()
        self.thread: threading.Thread | None = None

    def submit(self, msg: dict) -> None:
        """Queue a request; a waiting one of the same task is replaced (and told so)."""
        with self.cond:
            replaced = self.pending.pop(msg["task"], None)
            self.pending[msg["task"]] = msg
            if self.thread is None:  # started on first use: a tab that never opens the studio costs nothing
                self.thread = threading.Thread(target=self._run, name="ganforge-studio", daemon=True)
                self.thread.start()
            self.cond.notify()
        if replaced is not None:
            self.reply({"type": "studio.replaced", "task": replaced["task"], "id": replaced.get("id")})

    def stop(self, timeout: float = 5.0) -> None:
        with self.cond:
            self.stopping = True
            self.pending.clear()
            self.cond.notify()
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.pending or self.stopping)
                if self.stopping:
                    return
                _, msg = self.pending.popitem(last=False)  # the oldest task's newest request
            self.reply(self._safely(msg))

    def _safely(self, msg: dict) -> dict:
        about = {"request": msg["type"], "task": msg["task"], "id": msg.get("id")}
        try:
            return self.run(msg)
        except GanforgeError as e:
            return {"type": "error", "message": str(e), **about}
        except Exception as e:  # noqa: BLE001 -- a bug must not kill the tab's studio: report it, go on
            return {"type": "error", "message": f"internal error: {type(e).__name__}: {e}"[:300], **about}

    def run(self, msg: dict) -> dict:
        """One validated studio.run message -> the studio.result message (or GanforgeError)."""
        task, rel = msg["task"], msg["path"]
        start = time.perf_counter()
        pipe = self._pipeline(task, rel)
        image, fields, note = TASKS[task].run(pipe, msg)
        record = pipe.provenance(f"playground {task}", input=msg.get("name"), **fields)
        h, w = image.shape[:2]
        return {"type": "studio.result", "task": task, "id": msg.get("id"), "path": rel,
                "image": png_url(image, record), "width": w, "height": h, "note": note,
                "seconds": round(time.perf_counter() - start, 3)}

    def _pipeline(self, task: str, rel: str):
        """The task's pipeline over the export at `rel` (inside --runs), loaded once per version."""
        folder = runs.resolve(self.root, rel)
        spec = TASKS[task]
        game, _ = game_of(folder)
        if game is None:
            raise GanforgeError(f"'{rel[:80]}' holds no exported model (a run exports model/ when it finishes)")
        if game not in spec.games:
            raise GanforgeError(f"'{rel[:80]}' is a {game} model; {task} takes a model of the "
                                f"{' or '.join(spec.games)} game (as `{spec.command}` does)")
        weights = modeling.model_dir(folder) / "model.safetensors"
        try:
            key = (task, folder, weights.stat().st_mtime_ns)  # a re-exported model is loaded afresh
        except OSError:
            raise GanforgeError(f"'{rel[:80]}' has no model.safetensors yet") from None
        if key not in self.pipes:
            self.pipes[key] = spec.pipeline.from_pretrained(folder)
            while len(self.pipes) > CACHED_PIPELINES:
                self.pipes.popitem(last=False)
        self.pipes.move_to_end(key)
        return self.pipes[key]

"""One browser tab's session: a background worker thread that trains the 2-D lab and
answers image-lab requests, and a render thread that turns snapshots of the lab into
frames (on a second core, so drawing does not slow training down). Studio requests go to
the tab's studio thread (studio.py), so that an upscale never stalls the lab's frames.

Memory stays bounded: the worker keeps only the latest frame (a slow page skips frames, they
are never queued), replies wait in a short deque, and commands from the page go through a
bounded queue (a flooding page gets an error, the worker never falls behind).
"""

from __future__ import annotations

import collections
import json
import queue
import threading
import time
from collections.abc import Callable

import torch

from ganforge.errors import GanforgeError
from ganforge.playground.imagelab import ImageLab
from ganforge.playground.lab import Lab, LabSettings
from ganforge.playground.render import Renderer
from ganforge.playground.studio import Studio

FPS = 21                  # frames per second while training (the target is >= 20)
METRICS_EVERY = 1.0       # seconds between mode-coverage evaluations (2,500 samples, ~5 ms)
POLL_EVERY = 1.0          # seconds between checks of an opened run's files
MAX_COMMANDS = 64         # commands waiting for the worker
MAX_REPLIES = 16          # replies waiting for the page (errors, image-lab pictures)
FRAMES_IN_FLIGHT = 2      # frames sent but not yet acknowledged by the page
RESET_ON = ("distribution", "loss", "optimizer", "n_critic", "width", "depth", "batch_size", "seed")


class Outbox:
    """Latest frame + a few replies, handed from the worker thread to the page's sender.
    `notify` wakes the sender (thread-safe); the frame slot is overwritten, never queued.

    Frames also wait for credit: the page acknowledges each frame it has drawn, and at most
    FRAMES_IN_FLIGHT unacknowledged frames are out. A slow (or hidden) page then gets fresh
    frames at its own pace instead of a backlog in the socket buffers."""

    def __init__(self, notify: Callable[[], None]):
        self.notify = notify
        self.lock = threading.Lock()
        self.frame: str | None = None
        self.replies: collections.deque[str] = collections.deque(maxlen=MAX_REPLIES)
        self.frames_published = 0
        self.credit = FRAMES_IN_FLIGHT

    def put_frame(self, text: str) -> None:
        with self.lock:
            self.frame = text
            self.frames_published += 1
        self.notify()

    def put_reply(self, msg: dict) -> None:
        with self.lock:
            self.replies.append(json.dumps(msg))
        self.notify()

    def ack(self) -> None:
        """The page drew a frame: one more may go out."""
        with self.lock:
            self.credit = min(self.credit + 1, FRAMES_IN_FLIGHT)
        self.notify()

    def take(self) -> list[str]:
        """The replies waiting and, if there is credit, the latest frame; removes them."""
        with self.lock:
            out = list(self.replies)
            self.replies.clear()
            if self.frame is not None and self.credit > 0:
                out.append(self.frame)
                self.frame = None
                self.credit -= 1
        return out


class Session:
    """A worker thread per tab: `submit(msg)` from the server, frames into `outbox`."""

    def __init__(self, runs_root, outbox: Outbox):
        self.outbox = outbox
        self.commands: queue.Queue[dict] = queue.Queue(MAX_COMMANDS)
        self.stopping = threading.Event()
        self.settings = LabSettings()
        self.drawn: torch.Tensor | None = None
        self.images = ImageLab(runs_root)
        self.studio = Studio(runs_root, outbox.put_reply)
        self.playing = False
        self._cond = threading.Condition()     # hands snapshots to the render thread
        self._job: tuple | None = None          # a snapshot waiting to be drawn
        self._rendering = False
        self._rebuild()
        self.thread = threading.Thread(target=self._run, name="ganforge-session", daemon=True)
        self.render_thread = threading.Thread(target=self._render_loop, name="ganforge-render", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.render_thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the session (the tab closed): the worker finishes its step and exits."""
        self.stopping.set()
        with self._cond:
            self._cond.notify_all()
        self.studio.stop(timeout)
        self.thread.join(timeout)
        self.render_thread.join(timeout)

    def submit(self, msg: dict) -> None:
        if msg["type"].startswith("studio."):  # its own thread: latest request per task wins
            self.studio.submit(msg)
            return
        try:
            self.commands.put_nowait(msg)
        except queue.Full:
            self.outbox.put_reply({"type": "error", "message": "too many requests at once; dropped one"})

    # ----------------------------------------------------------------- the worker
    def _run(self) -> None:
        self._publish(wait=True)
        while not self.stopping.is_set():
            self._drain(block=not self.playing)
            if self.playing:
                # frames on a fixed schedule: training fills the time between them
                self._next_frame = max(self._next_frame + 1.0 / FPS, time.perf_counter())
                self._train_until(self._next_frame)
                self._publish()
            self._poll_run()

    def _drain(self, block: bool) -> None:
        """Handle waiting commands; when idle, sleep until one comes (no busy loop)."""
        try:
            msg = self.commands.get(timeout=0.25) if block else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle_safely(msg)
            try:
                msg = self.commands.get_nowait()
            except queue.Empty:
                return

    def _train_until(self, deadline: float) -> None:
        steps = 0
        while (steps == 0 or time.perf_counter() < deadline) and not self.stopping.is_set():
            self.lab.train_step()
            steps += 1
        now = time.perf_counter()  # wall time since the last chunk: frames included
        self._speed.append((steps, now - self._tick))
        self._tick = now

    def _steps_per_s(self) -> float:
        steps = sum(s for s, _ in self._speed)
        elapsed = sum(t for _, t in self._speed)
        return steps / elapsed if elapsed > 0 else 0.0

    def _publish(self, wait: bool = False) -> None:
        """Snapshot the lab for the render thread. While it is still drawing the previous
        frame, a playing lab skips this one; `wait` (after a command) waits for it instead."""
        with self._cond:
            if self._job is not None or self._rendering:
                if not wait:
                    return
                self._cond.wait_for(lambda: (self._job is None and not self._rendering) or self.stopping.is_set())
            now = time.perf_counter()
            metrics = now - self._last_metrics >= METRICS_EVERY or not self.playing
            if metrics:
                self._last_metrics = now
            self.renderer.snapshot()  # the render thread is idle: its copies are free
            self._job = (self.renderer, self._steps_per_s() if self.playing else 0.0, self.playing, metrics)
            self._cond.notify_all()

    def _render_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self.stopping.is_set())
                if self.stopping.is_set():
                    return
                (renderer, steps_per_s, playing, metrics), self._job = self._job, None
                self._rendering = True
            try:
                frame = renderer.frame(steps_per_s, playing, metrics)
                self.outbox.put_frame(json.dumps(frame, separators=(",", ":")))
            except Exception as e:  # noqa: BLE001 -- a bug must not kill the tab's session: report it, go on
                self.outbox.put_reply({"type": "error", "message": f"internal error drawing a frame: {e}"[:300]})
            finally:
                with self._cond:
                    self._rendering = False
                    self._cond.notify_all()

    def _poll_run(self) -> None:
        now = time.perf_counter()
        if now - self._last_poll < POLL_EVERY:
            return
        self._last_poll = now
        update = self.images.poll()
        if update is not None:
            self.outbox.put_reply(update)

    # ----------------------------------------------------------------- commands
    def _handle_safely(self, msg: dict) -> None:
        try:
            self._handle(msg)
        except GanforgeError as e:
            self.outbox.put_reply({"type": "error", "message": str(e), "request": msg["type"]})
        except Exception as e:  # noqa: BLE001 -- a bug must not kill the tab's session: report it, go on
            self.outbox.put_reply({"type": "error", "message": f"internal error: {type(e).__name__}: {e}"[:300],
                                   "request": msg["type"]})

    def _handle(self, msg: dict) -> None:
        kind = msg["type"]
        if kind.startswith("image."):
            self._handle_image(msg)
            return
        if kind == "play":
            self.playing = True
            self._speed.clear()
            self._next_frame = self._tick = time.perf_counter()
        elif kind == "pause":
            self.playing = False
        elif kind in ("step_d", "step_g"):
            self.playing = False
            self.lab.d_step() if kind == "step_d" else self.lab.g_step()
        elif kind == "reset":
            self._rebuild()
        elif kind == "settings":
            self._apply_settings(msg["settings"])
        elif kind == "points":
            self.drawn = torch.tensor(msg["points"], dtype=torch.float32)
            self.settings.distribution = "drawn"
            self._rebuild()
        self._publish(wait=True)

    def _apply_settings(self, changes: dict) -> None:
        reset = any(k in RESET_ON and changes[k] != getattr(self.settings, k) for k in changes)
        for k, v in changes.items():
            setattr(self.settings, k, v)
        if reset:
            self._rebuild()
        else:  # learning rates change live, keeping the optimiser state
            self.lab.set_learning_rates(self.settings.lr_g, self.settings.lr_d)
        self.outbox.put_reply({"type": "settings", "settings": self.settings.to_dict()})

    def _handle_image(self, msg: dict) -> None:
        kind, im = msg["type"], self.images
        if kind == "image.open":
            reply = im.open(msg["path"])
        elif kind == "image.sample":
            reply = im.sample(msg.get("seed", 0), msg.get("n", 32))
        elif kind == "image.directions":
            reply = im.set_directions(msg["values"])
        elif kind == "image.basis":
            reply = im.set_basis(msg.get("basis", "principal"))
        elif kind == "image.interpolate":
            reply = im.interpolate(msg.get("a", 0), msg.get("b", 1), msg.get("steps", 8))
        else:  # image.close
            self.images = ImageLab(im.root)
            reply = {"type": "image.closed"}
        self._last_poll = 0.0
        self.outbox.put_reply(reply)

    def _rebuild(self) -> None:
        self.lab = Lab(LabSettings(**self.settings.to_dict()), self.drawn)
        self.renderer = Renderer(self.lab)
        self.outbox.put_reply(self.renderer.data())  # a reply, so it is never dropped
        self.playing = False
        self._speed: collections.deque[tuple[int, float]] = collections.deque(maxlen=FPS)  # ~1 s window
        self._last_metrics = self._last_poll = self._next_frame = self._tick = 0.0

"""The playground's web server: the static page, a small JSON API and one websocket per tab.

`create_app(runs)` builds the FastAPI app (tests serve it with uvicorn on a free port);
`serve(host, port, runs)` is what `ganforge serve` runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import threading
import time
from pathlib import Path

import torch
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from ganforge import __version__
from ganforge.errors import GanforgeError
from ganforge.playground import messages, runs, studio
from ganforge.playground.guard import HostGuard, RateLimit
from ganforge.playground.lab import DISTRIBUTIONS, LAB_LOSSES, OPTIMIZERS, LabSettings
from ganforge.playground.session import Outbox, Session
from ganforge.training.runtime import tune_allocator

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 8   # open tabs; each holds a model and a worker thread
MAX_CONNECTIONS = 64  # HTTP and websocket connections at once; beyond, a 503 instead of more memory
COMMANDS_PER_S, COMMAND_BURST = 30, 60  # a tab's commands (acks aside); beyond, dropped with a note
# a tab's uploads (studio requests over messages.COMMAND_BYTES: an image, not a sketch): each costs
# a base64 decode of up to 4 MB on the event loop, so they are counted before they are parsed
UPLOADS_PER_S, UPLOAD_BURST = 2, 6
WS_QUEUE = 8  # messages a socket buffers before it stops reading (8 studio requests: ~60 MB at most)


def create_app(runs_root: Path, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The app, serving `runs_root` read-only to the image lab. Requests must name this server
    in Host and Origin (see guard.py): a loopback name, or one of `hosts` (serve's --host)."""
    app = FastAPI(title="ganforge playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(HostGuard, hosts=tuple(hosts))
    app.state.sessions = set()
    app.state.admitted = 0  # tabs let in: counted at the door, so a burst of connects cannot pass the limit
    app.state.lock = threading.Lock()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/info")
    def info() -> dict:
        return {"version": __version__, "distributions": DISTRIBUTIONS, "losses": LAB_LOSSES,
                "optimizers": OPTIMIZERS, "defaults": LabSettings().to_dict(),
                "limits": {k: [v[0].__name__, *v[1:]] if isinstance(v[0], type) else list(v)
                           for k, v in messages.SETTINGS.items()}
                | {"points": [messages.MIN_POINTS, messages.MAX_POINTS, messages.POINT_RANGE]},
                "sessions": app.state.admitted}

    @app.get("/api/runs")
    def list_runs() -> dict:
        return {"root": str(runs_root), "runs": runs.list_runs(runs_root)}

    @app.get("/api/runs/{rel:path}")
    def describe_run(rel: str) -> JSONResponse:
        try:
            folder = runs.resolve(runs_root, rel)
        except GanforgeError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        info = runs.describe(folder)
        if info is None:
            return JSONResponse({"error": f"'{rel[:80]}' is not a run or an exported model"}, status_code=404)
        return JSONResponse({"path": rel, **info, "curves": runs.read_curves(folder)})

    @app.get("/api/studio")
    def studio_models() -> dict:
        """The models each studio task can use, and the upload limits the page checks first."""
        return {"root": str(runs_root), "tasks": studio.studio_models(runs_root),
                "games": {task: list(spec.games) for task, spec in studio.TASKS.items()},
                "limits": {"image_bytes": messages.MAX_IMAGE_BYTES, "mask_bytes": messages.MAX_MASK_BYTES,
                           "pixels": messages.MAX_PIXELS, "output_pixels": studio.MAX_OUTPUT_PIXELS}}

    @app.websocket("/ws")
    async def websocket(ws: WebSocket) -> None:
        await ws.accept()
        with app.state.lock:
            full = app.state.admitted >= MAX_SESSIONS
            app.state.admitted += not full
        if full:
            await ws.send_json({"type": "error", "message": f"too many open sessions (at most {MAX_SESSIONS}); "
                                                            "close another tab"})
            await ws.close(code=1013)
            return
        try:
            await _run_session(app, ws, runs_root)
        finally:
            with app.state.lock:
                app.state.admitted -= 1

    return app


async def _run_session(app: FastAPI, ws: WebSocket, runs_root: Path) -> None:
    loop, wake = asyncio.get_running_loop(), asyncio.Event()
    outbox = Outbox(lambda: loop.call_soon_threadsafe(wake.set))
    session = Session(runs_root, outbox)
    with app.state.lock:
        app.state.sessions.add(session)
    session.start()

    async def send() -> None:
        while True:
            await wake.wait()
            wake.clear()
            for text in outbox.take():  # only the latest frame, and only when the page is ready for it
                await ws.send_text(text)

    sender = asyncio.create_task(send())
    limit, warned = RateLimit(COMMANDS_PER_S, COMMAND_BURST), -1.0
    uploads = RateLimit(UPLOADS_PER_S, UPLOAD_BURST)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            try:
                if text is None:
                    raise messages.BadMessage("binary messages are not understood; send JSON text")
                if len(text) > messages.COMMAND_BYTES and not uploads.allow():
                    dropped = messages.BadMessage(f"too many uploads from this tab (at most {UPLOADS_PER_S} a "
                                                  "second); this one was dropped")
                    # only a studio request is this large: said in the studio (the page's status there)
                    dropped.about = {"request": "studio.run", "task": None, "id": None}
                    raise dropped
                msg = messages.parse(text)
                if msg["type"] == "ack":
                    outbox.ack()
                elif limit.allow():
                    session.submit(msg)
                elif time.monotonic() - warned > 1.0:  # (one note a second, not one per dropped command)
                    warned = time.monotonic()
                    outbox.put_reply({"type": "error", "message": f"too many requests from this tab (at most "
                                                                  f"{COMMANDS_PER_S} a second); some were dropped"})
            except messages.BadMessage as e:
                outbox.put_reply({"type": "error", "message": str(e), **e.about})
    except (WebSocketDisconnect, RuntimeError):
        pass  # the tab closed (RuntimeError: receiving on a closed socket)
    finally:
        sender.cancel()
        with app.state.lock:
            app.state.sessions.discard(session)
        await asyncio.to_thread(session.stop)  # closing the tab ends its session


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise GanforgeError(f"--port must be between 1 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise GanforgeError(f"cannot listen on {host}:{port} ({e.strerror}); try another --port") from None


def serve(host: str = "127.0.0.1", port: int = 8000, runs: Path = Path("runs"), allow_hosts: tuple[str, ...] = ()) -> int:
    """Run the playground until Ctrl-C; returns the exit code. `allow_hosts`: more names the
    page may be opened as (the machine's name when serving a network), besides `host`."""
    import uvicorn

    runs = Path(runs)
    if runs.exists() and not runs.is_dir():
        raise GanforgeError(f"--runs {runs}: not a directory")
    _check_port(host, port)
    if not _is_loopback(host):
        print(f"warning: serving on {host}, reachable from other machines; the playground has no "
              "authentication (use the default 127.0.0.1 unless you mean it)", file=sys.stderr)
    # Tiny 2-D models: one thread per step is fastest, and each tab's worker gets a core.
    torch.set_num_threads(1)
    tune_allocator()
    shown = f"[{host}]" if ":" in host else host
    print(f"ganforge playground on http://{shown}:{port}/  (image lab and studio: {runs.resolve()})  Ctrl-C stops",
          file=sys.stderr)
    uvicorn.Server(uvicorn_config(create_app(runs, (host, *allow_hosts)), host, port)).run()
    return 0


def uvicorn_config(app: FastAPI, host: str, port: int):
    """Server settings shared by `serve` and the tests. Messages a little over the limit get
    an error frame from messages.parse; far larger ones close the socket."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", limit_concurrency=MAX_CONNECTIONS,
                          ws_max_size=messages.MAX_MESSAGE_BYTES + messages.COMMAND_BYTES, ws_max_queue=WS_QUEUE)

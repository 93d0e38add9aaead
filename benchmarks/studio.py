"""Studio benchmark: how long a studio request takes end to end, page to picture.

    python benchmarks/studio.py --runs runs     # the first model of each task under runs/

A real playground server (uvicorn on 127.0.0.1, one torch thread as `ganforge serve` sets)
and a websocket client, as a page: each task that has a model under --runs is sent N
requests one after another, each waiting for its answer (the first, which loads the model,
is left out): a sketch (a 256 x 256 canvas of black strokes, a new stroke each time), an
upscale of a 128 x 128 crop of scikit-image's astronaut, a repair of a 256 x 256 grey crop
of it with a 64 x 64 hole. Then live drawing: 20 sketches sent at once (no waiting), as a
fast hand would, counting how many are rendered and how many replaced by newer ones, and
the time until the newest is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import torch
import websockets
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from studio_fixtures import data_url  # noqa: E402

from ganforge.playground.server import create_app, uvicorn_config  # noqa: E402


def sketch(i: int) -> str:
    canvas = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(canvas).line([(60, 40), (60 + 3 * i, 220), (200, 200 - i)], fill="black", width=10)
    return data_url(canvas)


def inputs() -> dict[str, dict]:
    from skimage import data
    astronaut = data.astronaut()                                       # (512, 512, 3)
    grey = Image.fromarray(astronaut[:256, 128:384]).convert("L")
    mask = Image.new("L", grey.size, 0)
    ImageDraw.Draw(mask).rectangle([96, 96, 159, 159], fill=255)
    return {"upscale": {"image": data_url(Image.fromarray(astronaut[64:192, 192:320]))},
            "repair": {"image": data_url(grey), "mask": data_url(mask)}}


async def answer(ws, ident: int) -> dict:
    while True:
        msg = json.loads(await ws.recv())
        if msg["type"] == "frame":
            await ws.send('{"type": "ack"}')
        elif msg.get("id") == ident and msg["type"] in ("studio.result", "error"):
            return msg


async def timed(url: str, task: str, path: str, fields, n: int) -> tuple[list[float], dict]:
    async with websockets.connect(f"ws://{url}/ws", max_size=2**25) as ws:
        times, last = [], {}
        for i in range(n + 1):
            start = time.perf_counter()
            await ws.send(json.dumps({"type": "studio.run", "task": task, "path": path, "id": i, **fields(i)}))
            last = await answer(ws, i)
            if last["type"] == "error":
                raise SystemExit(f"{task} {path}: {last['message']}")
            if i:  # (the first loads the model)
                times.append(time.perf_counter() - start)
        return times, last


async def burst(url: str, path: str, n: int = 20) -> tuple[int, int, float]:
    async with websockets.connect(f"ws://{url}/ws", max_size=2**25) as ws:
        await ws.send(json.dumps({"type": "studio.run", "task": "sketch", "path": path, "id": 0, "image": sketch(0)}))
        await answer(ws, 0)  # loaded
        start, rendered, replaced = time.perf_counter(), 0, 0
        for i in range(1, n + 1):
            await ws.send(json.dumps({"type": "studio.run", "task": "sketch", "path": path, "id": i, "image": sketch(i)}))
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == "frame":
                await ws.send('{"type": "ack"}')
            rendered += msg["type"] == "studio.result"
            replaced += msg["type"] == "studio.replaced"
            if msg["type"] == "studio.result" and msg["id"] == n:
                return rendered, replaced, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, required=True, help="folder of exported models (as serve's --runs)")
    ap.add_argument("--n", type=int, default=40, help="timed requests a task")
    args = ap.parse_args()
    if args.n < 1:  # (a median of no times)
        ap.error(f"--n must be at least 1, got {args.n}")
    torch.set_num_threads(1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import uvicorn
    server = uvicorn.Server(uvicorn_config(create_app(args.runs), "127.0.0.1", port))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"127.0.0.1:{port}"
    models = httpx.get(f"http://{url}/api/studio", timeout=60).json()["tasks"]
    fixed = inputs()
    print(f"{'task':8} {'model':28} {'in -> out':22} {'median ms':>9} {'p90 ms':>7} {'n':>3}")
    for task in ("sketch", "upscale", "repair"):
        if not models[task]:
            print(f"{task:8} (no model under --runs)")
            continue
        path = models[task][0]["path"]
        fields = (lambda i: {"image": sketch(i)}) if task == "sketch" else (lambda i, t=task: fixed[t])
        times, last = asyncio.run(timed(url, task, path, fields, args.n))
        p90 = sorted(times)[int(0.9 * len(times))]
        size = {"sketch": "256x256", "upscale": "128x128", "repair": "256x256"}[task]
        print(f"{task:8} {path[:28]:28} {size + ' -> ' + str(last['width']) + 'x' + str(last['height']):22} "
              f"{statistics.median(times) * 1000:9.1f} {p90 * 1000:7.1f} {len(times):3}")
    if models["sketch"]:
        rendered, replaced, secs = asyncio.run(burst(url, models["sketch"][0]["path"]))
        print(f"\nlive drawing: 20 sketches sent at once -> {rendered} rendered, {replaced} replaced by newer ones, "
              f"the newest shown after {secs * 1000:.0f} ms")
    server.should_exit = True
    time.sleep(0.5)


if __name__ == "__main__":
    main()

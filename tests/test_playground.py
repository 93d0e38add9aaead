"""The playground against a real uvicorn server on 127.0.0.1 (a free port, in a thread):
HTTP API, websocket sessions with a real client, validation, the image lab, --runs
containment; plus the lab's step against the trainer's maths."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import torch
import websockets

from ganforge import modeling, provenance
from ganforge.errors import GanforgeError
from ganforge.losses import LOSSES, gradient_penalty
from ganforge.models import dcgan, musegan
from ganforge.playground import messages, runs, server
from ganforge.playground.lab import GP_WEIGHT, Lab, LabSettings
from ganforge.playground.session import Outbox

STATIC = Path(server.__file__).parent / "static"


# ----------------------------------------------------------------- fixtures
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(runs_root: Path):
    """A real playground server over `runs_root` on a free port, in a thread: "127.0.0.1:PORT"."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(server.uvicorn_config(server.create_app(runs_root), "127.0.0.1", port))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """--runs with: an exported image model, a conditional one, and a run still training."""
    root = tmp_path_factory.mktemp("runs")
    torch.manual_seed(0)
    modeling.save_pretrained(dcgan.Generator(8, 8, 1, 8), root / "models" / "digits", {"kind": "images"})
    names = [str(i) for i in range(10)]
    modeling.save_pretrained(dcgan.Generator(8, 8, 1, 8, c_dim=10), root / "cond", {"class_names": names})
    modeling.save_pretrained(musegan.Generator(40, 2, 2, 16, 24, width=8), root / "music",
                             {"kind": "music", "low": 48, "track_names": ["S", "B"], "programs": [19, 19],
                              "tempo": 100.0})
    from ganforge.models import molgan
    modeling.save_pretrained(molgan.Generator(8, 9, 5, width=16), root / "molecules",
                             {"kind": "molecules", "atoms": ["C", "N", "O", "F"], "max_atoms": 9})
    live = root / "live"
    (live / "samples").mkdir(parents=True)
    (live / "metrics.jsonl").write_text(json.dumps({"step": 10, "Loss/D": 1.3, "Loss/G": 0.7}) + "\n")
    from PIL import Image
    Image.new("RGB", (20, 20), "orange").save(live / "samples" / "latest.png")
    (root / "not-a-run").mkdir()
    return root


@pytest.fixture(scope="module")
def url(runs_root: Path):
    with served(runs_root) as host:
        yield host


class Client:
    """A websocket client that sorts what arrives: frames by the latest, the rest in order."""

    def __init__(self, ws):
        self.ws, self.frames, self.other = ws, [], []

    async def send(self, msg) -> None:
        await self.ws.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    async def next(self, kind: str, timeout: float = 20.0, where=lambda m: True) -> dict:
        """The next message of `kind` (that satisfies `where`), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no '{kind}' message within {timeout} s (others: {self.other[-3:]})"
            try:
                msg = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            except TimeoutError:
                raise AssertionError(f"no '{kind}' message within {timeout} s (others: {self.other[-3:]})") from None
            if msg["type"] == "frame":
                self.frames.append(msg)
                await self.ws.send('{"type": "ack"}')  # as the page does once it has drawn a frame
            else:
                self.other.append(msg)
            if msg["type"] == kind and where(msg):
                return msg


async def sessions_open(url: str) -> int:
    async with httpx.AsyncClient(timeout=30) as client:  # (httpx's 5 s is too short beside a flood on 2 busy cores)
        return (await client.get(f"http://{url}/api/info")).json()["sessions"]


async def wait_sessions(url: str, n: int, timeout: float = 10.0) -> None:
    """Until `n` sessions are open (a closed tab's session ends a moment after it closes)."""
    deadline = time.monotonic() + timeout
    while (now := await sessions_open(url)) != n:
        assert time.monotonic() < deadline, f"{now} sessions open, expected {n}"
        await asyncio.sleep(0.05)


def append_line(path: Path, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


def session(url: str, body) -> None:
    async def main():
        async with websockets.connect(f"ws://{url}/ws", max_size=2**24) as ws:
            await body(Client(ws))
    asyncio.run(main())


# ----------------------------------------------------------------- HTTP
def test_page_and_static_files_are_served_without_any_network(url: str):
    page = httpx.get(f"http://{url}/")
    assert page.status_code == 200 and "ganforge playground" in page.text
    for name in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert httpx.get(f"http://{url}{name}").status_code == 200, name
    for f in STATIC.iterdir():  # nothing from a CDN: every script, style and font ships
        assert not re.search(r"https?://", f.read_text()), f"{f.name} refers to the network"


def test_info_and_runs_listing(url: str):
    info = httpx.get(f"http://{url}/api/info").json()
    assert info["defaults"]["batch_size"] == 512 and "wgan-gp" in info["losses"]
    listed = {r["path"]: r for r in httpx.get(f"http://{url}/api/runs").json()["runs"]}
    assert listed["models/digits"]["kind"] == "model" and listed["cond"]["kind"] == "model"
    assert listed["live"] == {"path": "live", "kind": "run", "has_model": False}
    assert "not-a-run" not in listed
    live = httpx.get(f"http://{url}/api/runs/live").json()
    assert live["curves"]["Loss/D"] == [[10, 1.3]]


@pytest.mark.parametrize("rel", ["../", "models/../../x", "%2e%2e/x"])
def test_api_refuses_paths_outside_runs(url: str, rel: str):
    r = httpx.get(f"http://{url}/api/runs/{rel}")
    assert r.status_code in (400, 404), r.text  # never the listing of a folder outside --runs


def test_resolve_contains_paths(runs_root: Path, tmp_path: Path):
    assert runs.resolve(runs_root, "models/digits") == (runs_root / "models" / "digits").resolve()
    for bad, why in [("../x", "'..'"), ("/etc", "absolute"), ("a/../../b", "'..'"), ("~/x", "absolute"),
                     ("a\\..\\b", "forward slashes"), ("nothing/here", "no such")]:
        with pytest.raises(GanforgeError, match=why):
            runs.resolve(runs_root, bad)
    outside = tmp_path / "outside"
    outside.mkdir()
    link = runs_root / "escape"
    link.symlink_to(outside)
    try:
        with pytest.raises(GanforgeError, match="outside"):
            runs.resolve(runs_root, "escape")
        assert "escape" not in [r["path"] for r in runs.list_runs(runs_root)]
    finally:
        link.unlink()


# ----------------------------------------------------------------- websocket: the 2-D lab
def test_play_pause_single_steps_and_reset(url: str):
    async def body(c: Client):
        data = await c.next("data")
        first = await c.next("frame")
        assert first["step"] == 0 and not first["playing"] and data["distribution"] == "ring8"
        assert len(data["real"]) == len(first["fake"]) == 800 and len(first["heat"]) == first["heat_size"] ** 2
        assert len(first["manifold"]) == 2 * first["z_grid"] ** 2
        await c.send({"type": "play"})
        moving = await c.next("frame", where=lambda f: f["playing"] and f["step"] >= 20)
        assert moving["steps_per_s"] > 0
        await c.send({"type": "pause"})
        paused = await c.next("frame", where=lambda f: not f["playing"])
        assert paused["metrics"]["total_modes"] == 8 and 0 <= paused["metrics"]["modes"] <= 8
        await c.send({"type": "step_d"})
        d = await c.next("frame", where=lambda f: f["d_updates"] == paused["d_updates"] + 1)
        assert d["step"] == paused["step"]
        await c.send({"type": "step_g"})
        await c.next("frame", where=lambda f: f["step"] == paused["step"] + 1)
        await c.send({"type": "reset"})
        await c.next("frame", where=lambda f: f["step"] == 0 and f["d_updates"] == 0)
    session(url, body)


def test_settings_reset_but_learning_rates_apply_live(url: str):
    async def body(c: Client):
        await c.next("frame")
        await c.send({"type": "step_g"})
        await c.next("frame", where=lambda f: f["step"] == 1)
        await c.send({"type": "settings", "settings": {"lr_g": 0.0005, "lr_d": 0.001}})
        s = await c.next("settings")
        assert s["settings"]["lr_g"] == 0.0005
        assert (await c.next("frame"))["step"] == 1  # kept
        for loss in ("wgan-gp", "hinge", "lsgan", "minimax"):
            await c.send({"type": "settings", "settings": {"loss": loss, "width": 16, "n_critic": 2}})
            assert (await c.next("settings"))["settings"]["loss"] == loss
            await c.send({"type": "step_g"})
            f = await c.next("frame", where=lambda f: f["step"] == 1)
            assert f["heat_range"] == ([0.0, 1.0] if loss == "minimax" else f["heat_range"])
    session(url, body)


def test_drawn_points_train(url: str):
    async def body(c: Client):
        await c.next("frame")
        pts = [[0.5 * (i % 2) - 0.25, 0.1 * (i % 5)] for i in range(40)]
        await c.send({"type": "points", "points": pts})
        await c.next("frame", where=lambda f: f["step"] == 0)
        await c.send({"type": "step_g"})
        f = await c.next("frame", where=lambda f: f["step"] == 1)
        assert f["metrics"] is None  # mode coverage is for ring8 and grid25 only
    session(url, body)


BAD = [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ({"type": 3}, "JSON object"),
    ({"type": "launch"}, "unknown message type"),
    ({"type": "play", "now": True}, "unknown field"),
    ({"type": "settings", "settings": {"lr_g": 5}}, "between"),
    ({"type": "settings", "settings": {"lr_d": "fast"}}, "number"),
    ({"type": "settings", "settings": {"width": True}}, "number"),
    ({"type": "settings", "settings": {"batch_size": 100000}}, "between"),
    ({"type": "settings", "settings": {"depth": 2.5}}, "whole number"),
    ({"type": "settings", "settings": {"loss": "magic"}}, "one of"),
    ({"type": "settings", "settings": {"rm": 1}}, "unknown field"),
    ({"type": "settings", "settings": []}, "object"),
    ('{"type": "settings", "settings": {"lr_g": NaN}}', "between"),
    ({"type": "points", "points": [[0, 0]] * 2}, "3 to 2000"),
    ({"type": "points", "points": [[0, 0]] * 2001}, "3 to 2000"),
    ({"type": "points", "points": [[0, 0], [1, 1], [99, 0]]}, "between"),
    ({"type": "points", "points": [[0, 0], [1, 1], [1]]}, "pair"),
    ("x" * (messages.MAX_MESSAGE_BYTES + 10), "too large"),
    (b"\x00\x01", "binary"),
    ({"type": "image.open", "path": "../../etc"}, "'..'"),
    ({"type": "image.open", "path": "/etc"}, "absolute"),
    ({"type": "image.open", "path": ""}, "non-empty"),
    ({"type": "image.sample", "n": 1000}, "between"),
    ({"type": "image.sample"}, "open an exported model"),
    ({"type": "image.directions", "values": [0, 0]}, "list of 4"),
]


def test_bad_messages_get_error_frames_and_the_session_lives_on(url: str):
    async def body(c: Client):
        await c.next("frame")
        for msg, expected in BAD:
            await c.send(msg)
            err = await c.next("error")
            assert expected in err["message"], (msg if len(str(msg)) < 200 else "big", err)
        await c.send({"type": "step_g"})
        await c.next("frame", where=lambda f: f["step"] == 1)
    session(url, body)


# ----------------------------------------------------------------- websocket: sessions
def test_tabs_have_their_own_sessions_and_closing_ends_them(url: str, monkeypatch: pytest.MonkeyPatch):
    async def main():
        await wait_sessions(url, 0)  # earlier tests' tabs
        async with websockets.connect(f"ws://{url}/ws") as a, websockets.connect(f"ws://{url}/ws") as b:
            ca, cb = Client(a), Client(b)
            await ca.next("frame")
            await cb.next("frame")
            await wait_sessions(url, 2)
            await ca.send({"type": "step_g"})
            await ca.next("frame", where=lambda f: f["step"] == 1)
            await cb.send({"type": "step_d"})
            f = await cb.next("frame", where=lambda f: f["d_updates"] == 1)
            assert f["step"] == 0  # a's step did not touch b
            monkeypatch.setattr(server, "MAX_SESSIONS", 2)
            async with websockets.connect(f"ws://{url}/ws") as c:
                err = json.loads(await asyncio.wait_for(c.recv(), 10))
                assert err["type"] == "error" and "too many" in err["message"]
        await wait_sessions(url, 0)  # closing the tabs ended their sessions
    def workers() -> int:
        return sum(t.name in ("ganforge-session", "ganforge-render") for t in threading.enumerate())

    asyncio.run(main())
    deadline = time.monotonic() + 10  # every tab is closed now (earlier tests' too)
    while workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers() == 0, "a session's worker thread outlived its tab"


def test_outbox_keeps_only_the_latest_frame_and_waits_for_acks():
    woken = []
    box = Outbox(lambda: woken.append(1))
    for i in range(1000):
        box.put_frame(f"frame {i}")
    for i in range(100):
        box.put_reply({"type": "error", "message": str(i)})
    out = box.take()
    assert out[-1] == "frame 999" and len(out) == 1 + 16 and box.take() == []
    box.put_frame("a")
    assert box.take() == ["a"]           # the second frame in flight
    box.put_frame("b")
    box.put_reply({"type": "settings"})
    assert box.take() == ['{"type": "settings"}']  # no credit: replies only, "b" waits
    box.put_frame("c")                   # ... and is replaced, never queued
    box.ack()
    assert box.take() == ["c"]


def test_a_page_that_does_not_acknowledge_gets_two_frames(url: str):
    async def body(c: Client):
        await c.send({"type": "play"})
        frames = []
        with pytest.raises(TimeoutError):
            while True:
                msg = json.loads(await asyncio.wait_for(c.ws.recv(), 1.5))
                frames += [msg] if msg["type"] == "frame" else []
        assert len(frames) == 2
        await c.send({"type": "ack"})
        await c.send({"type": "pause"})
        await c.next("frame", where=lambda f: not f["playing"])
    session(url, body)


# ----------------------------------------------------------------- websocket: the image lab
def served_record(data_url: str, tmp_path: Path) -> dict:
    """The provenance record of a picture or sound the page got, as `ganforge inspect` reads a saved copy."""
    import base64
    kind, payload = data_url.split(";base64,")
    saved = tmp_path / ("saved.png" if kind.endswith("png") else "saved.wav")
    saved.write_bytes(base64.b64decode(payload))
    return provenance.read(saved)


def test_image_lab_grid_reseed_directions_interpolation(url: str, runs_root: Path, tmp_path: Path):
    async def body(c: Client):
        await c.send({"type": "image.open", "path": "models/digits"})
        opened = await c.next("image.opened")
        assert opened["has_model"] and opened["c_dim"] == 0 and opened["image"].startswith("data:image/png;base64,")
        await c.send({"type": "image.sample", "seed": 3, "n": 9})
        grid = await c.next("image.grid")
        assert (grid["rows"], grid["cols"], grid["seed"]) == (3, 3, 3)
        record = served_record(grid["image"], tmp_path)  # a picture saved from the page says what made it
        assert record["model"] == provenance.model_id(runs_root / "models" / "digits")
        assert (record["seed"], record["task"], "directions" in record) == ("3", "playground samples", False)
        await c.send({"type": "image.directions", "values": [1.5, 0, -2, 0.5]})
        moved = await c.next("image.grid")
        assert moved["image"] != grid["image"]
        assert served_record(moved["image"], tmp_path)["directions"] == "principal [1.5, 0.0, -2.0, 0.5]"
        await c.send({"type": "image.interpolate", "a": 0, "b": 8, "steps": 6})
        walk = await c.next("image.interpolation")
        assert served_record(walk["image"], tmp_path)["task"] == "playground interpolation 0 -> 8"
        await c.send({"type": "image.interpolate", "a": 0, "b": 40, "steps": 6})
        assert "below 9" in (await c.next("error"))["message"]
    session(url, body)


def test_image_lab_conditional_rows(url: str):
    async def body(c: Client):
        await c.send({"type": "image.open", "path": "cond"})
        opened = await c.next("image.opened")
        assert opened["c_dim"] == 10 and opened["class_names"][3] == "3"
        assert (opened["rows"], opened["cols"]) == (10, 6)  # one row per class, as many columns as fit in 64
        await c.send({"type": "image.interpolate", "a": 3, "b": 5, "steps": 4})
        await c.next("image.interpolation")
    session(url, body)


def test_image_lab_shows_and_plays_music(url: str, tmp_path: Path):
    async def body(c: Client):
        await c.send({"type": "image.open", "path": "music"})
        opened = await c.next("image.opened")
        assert opened["music"] and not opened["points"] and opened["image"].startswith("data:image/png")
        assert opened["audio"].startswith("data:audio/wav;base64,") and len(opened["audio"]) > 10_000
        assert served_record(opened["audio"], tmp_path)["task"] == "playground sound"
        assert (opened["rows"], opened["cols"]) == (4, 2)  # 8 piano rolls at most, two a row
        await c.send({"type": "image.interpolate", "a": 0, "b": 5, "steps": 4})
        assert (await c.next("image.interpolation"))["image"].startswith("data:image/png")
    session(url, body)


def test_image_lab_draws_molecules(url: str):
    async def body(c: Client):
        await c.send({"type": "image.open", "path": "molecules"})
        opened = await c.next("image.opened")
        assert opened["molecules"] and not opened["points"] and opened["image"].startswith("data:image/png")
        assert (opened["rows"], opened["cols"]) == (4, 4)  # 16 molecules at most, four a row
        await c.send({"type": "image.interpolate", "a": 0, "b": 5, "steps": 4})
        assert (await c.next("image.interpolation"))["image"].startswith("data:image/png")
    session(url, body)


def test_image_lab_follows_a_training_run(url: str, runs_root: Path):
    async def body(c: Client):
        await c.send({"type": "image.open", "path": "live"})
        opened = await c.next("image.opened")
        assert opened["kind"] == "run" and not opened["has_model"]
        first = await c.next("image.run")
        assert first["latest"].startswith("data:image/png") and first["curves"]["Loss/G"] == [[10, 0.7]]
        row = {"step": 20, "Loss/D": 1.2, "Loss/G": 0.8, "Metric/modes": 7.0}
        await asyncio.to_thread(append_line, runs_root / "live" / "metrics.jsonl", json.dumps(row))  # it writes on
        update = await c.next("image.run", where=lambda m: len(m["curves"]["Loss/D"]) == 2)
        assert update["curves"]["Metric/modes"] == [[20, 7.0]]
    session(url, body)


# ----------------------------------------------------------------- serve()
def test_serve_refuses_a_used_port_and_a_runs_file(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(GanforgeError, match="cannot listen"):
            server.serve("127.0.0.1", s.getsockname()[1], tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(GanforgeError, match="not a directory"):
        server.serve("127.0.0.1", free_port(), tmp_path / "file")
    with pytest.raises(GanforgeError, match="--port"):
        server.serve("127.0.0.1", 70000, tmp_path)


def test_cli_serve_warns_when_not_bound_to_loopback(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--runs", str(tmp_path)], stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stderr.readline() for _ in range(2)]
        assert "warning" in lines[0] and "0.0.0.0" in lines[0], lines
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "ganforge serve did not come up"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(10)


# ----------------------------------------------------------------- the lab's step
def plain_steps(lab: Lab, steps: int) -> None:
    """The trainer's maths in the plain way: two D forwards, .backward(), toggled grads."""
    obj, constraint = LOSSES[lab.settings.loss]
    G, D, B = lab.G, lab.D, lab.settings.batch_size
    for _ in range(steps):
        for _ in range(lab.settings.n_critic):
            real = lab.dist.sample(B, lab.data_rng)
            z = torch.randn(B, 2, generator=lab.noise)
            with torch.no_grad():
                fake = G(z)
            G.requires_grad_(False)
            D.requires_grad_(True)
            loss = obj.d_real(D(real)) + obj.d_fake(D(fake))
            if constraint == "gp":
                loss = loss + GP_WEIGHT * gradient_penalty(D, real, fake, None, lab.noise)
            lab.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            lab.opt_d.step()
        G.requires_grad_(True)
        D.requires_grad_(False)
        loss = obj.g(D(G(torch.randn(B, 2, generator=lab.noise))))
        lab.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        lab.opt_g.step()
    D.requires_grad_(True)


@pytest.mark.parametrize("loss,optimizer", [("non-saturating", "adam"), ("non-saturating", "sgd"), ("minimax", "sgd"),
                                            ("wgan-gp", "sgd"), ("lsgan", "sgd"), ("hinge", "sgd")])
def test_lean_step_is_the_trainers_maths(loss: str, optimizer: str):
    # SGD's update is linear in the gradient, so float rounding (one D forward on 2B rows
    # against two on B) stays at rounding level; Adam divides near-zero gradients by their
    # own size and can amplify it, so one Adam case is enough to check the update itself.
    settings = {"loss": loss, "optimizer": optimizer, "lr_g": 0.01, "lr_d": 0.01, "width": 32, "batch_size": 64,
                "n_critic": 2 if loss == "wgan-gp" else 1}
    lean, plain = Lab(LabSettings(**settings)), Lab(LabSettings(**settings), lean=False)
    for _ in range(15):
        lean.train_step()
    plain_steps(plain, 15)
    for a, b in zip(list(lean.G.parameters()) + list(lean.D.parameters()),
                    list(plain.G.parameters()) + list(plain.D.parameters())):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert torch.equal(lean.noise.get_state(), plain.noise.get_state())


def test_static_page_has_the_controls_the_issue_names():
    html = (STATIC / "index.html").read_text()
    for control in ("distribution", "loss", "optimizer", "lr_g", "lr_d", "n_critic", "width", "depth",
                    "batch_size", "play", "step_d", "step_g", "reset", "modes", "hq", "speed", "step"):
        assert f'id="{control}"' in html, control


def test_a_diverged_model_still_renders_valid_json():
    from ganforge.playground.render import Renderer

    lab = Lab(LabSettings(width=16, loss="wgan-gp"))
    renderer = Renderer(lab)
    with torch.no_grad():
        for p in lab.G.parameters():
            p.fill_(float("nan"))
    lab.train_step()
    renderer.snapshot()
    frame = renderer.frame(0.0, playing=False)
    json.dumps(frame, allow_nan=False)  # JSON that a browser can parse
    assert frame["diverged"] and frame["losses"] == {"D": None, "G": None} and frame["metrics"]["modes"] == 0

"""The studio tab's server side against a real uvicorn server and tiny real runs of each
game (studio_fixtures): upscale, repair and sketch requests over the websocket, their
sizes, kept pixels and provenance; latest-wins while a request runs; and every bad request
(oversize, too many pixels, corrupt, wrong game, outside --runs, mask mismatch) one line,
crafted uploads (fuzzed) included."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import given, strategies as st
from PIL import Image, ImageDraw

from ganforge import provenance
from ganforge.playground import messages, server
from ganforge.playground.studio import Studio, decode
from hostile import HOSTILE, clean
from studio_fixtures import data_url, decoded, digit_picture, studio_runs
from test_playground import Client, served, session
from test_superres import photo


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return studio_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def url(runs_root: Path):
    with served(runs_root) as host:
        yield host


def photo_picture(w: int = 30, h: int = 20, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.uniform(0, 255, (h, w, 3)).astype(np.uint8))


def sketch(strokes: list[tuple[int, int, int, int]], side: int = 256) -> Image.Image:
    """Black strokes on white, as the page's canvas draws them."""
    canvas = Image.new("RGB", (side, side), "white")
    for line in strokes:
        ImageDraw.Draw(canvas).line(line, fill="black", width=10)
    return canvas


def request(task: str, path: str, image: Image.Image | str, ident: int = 1, **extra) -> dict:
    return {"type": "studio.run", "task": task, "path": path, "id": ident,
            "image": image if isinstance(image, str) else data_url(image), **extra}


async def result(c: Client, ident: int, timeout: float = 30.0) -> dict:
    """The studio's answer to request `ident`: its result, or the error it got."""
    kinds = ("studio.result", "error")
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no answer to request {ident} within {timeout} s (others: {c.other[-3:]})"
        msg = json.loads(await asyncio.wait_for(c.ws.recv(), left))
        if msg["type"] == "frame":
            await c.ws.send('{"type": "ack"}')
            continue
        c.other.append(msg)
        if msg["type"] in kinds and msg.get("id") == ident:
            return msg


# ----------------------------------------------------------------- HTTP
def test_the_models_are_listed_by_task_from_their_game(url: str):
    listing = httpx.get(f"http://{url}/api/studio", timeout=30).json()
    paths = {task: [m["path"] for m in models] for task, models in listing["tasks"].items()}
    assert paths == {"upscale": ["sr"], "repair": ["repair"], "sketch": ["edges"]}, paths
    assert listing["tasks"]["upscale"][0]["scale"] == 2 and listing["tasks"]["sketch"][0]["pairs"] == "edges"
    assert listing["limits"]["image_bytes"] == messages.MAX_IMAGE_BYTES == 4 * 2**20
    page = httpx.get(f"http://{url}/", timeout=30).text
    for control in ("tab-studio", "studio-file", "upscale-run", "repair-run", "sketch-run", "sketch-canvas",
                    "mask-canvas", "brush"):
        assert f'id="{control}"' in page, control
    assert httpx.get(f"http://{url}/static/studio.js", timeout=30).status_code == 200


# ----------------------------------------------------------------- the three tasks
def test_upscale_gives_the_scaled_size_with_its_provenance(url: str, runs_root: Path):
    async def body(c: Client):
        await c.send(request("upscale", "sr", photo_picture(30, 20), 1, name="holiday.png"))
        got = await result(c, 1)
        assert got["type"] == "studio.result", got
        picture = decoded(got["image"])
        assert picture.size == (60, 40) == (got["width"], got["height"]) and picture.mode == "RGB"
        record = provenance.parse(picture.info.get(provenance.KEY))
        assert record["task"] == "playground upscale" and record["scale"] == "x2"
        assert record["model"] == provenance.model_id(runs_root / "sr") and record["input"] == "holiday.png"
        await c.send(request("upscale", "sr", data_url(photo_picture(17, 9), "JPEG"), 2))  # a JPEG too
        got = await result(c, 2)
        assert (got["width"], got["height"]) == (34, 18), got
    session(url, body)


def test_repair_changes_only_the_painted_pixels(url: str):
    image = digit_picture(3, 32)
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rectangle([10, 8, 21, 19], fill=255)
    async def body(c: Client):
        await c.send(request("repair", "repair", image, 3, mask=data_url(mask)))
        got = await result(c, 3)
        assert got["type"] == "studio.result", got
        out = np.asarray(decoded(got["image"]))
        hole = np.asarray(mask) >= 128
        assert out.shape == (32, 32)
        assert np.array_equal(out[~hole], np.asarray(image)[~hole]), "a known pixel changed"
        assert not np.array_equal(out[hole], np.asarray(image)[hole]), "the hole was not filled"
        assert provenance.parse(decoded(got["image"]).info[provenance.KEY])["hole"] == f"{hole.mean():.1%}"
    session(url, body)


def test_a_sketch_renders_and_more_strokes_change_it(url: str):
    async def body(c: Client):
        await c.send(request("sketch", "edges", sketch([(40, 40, 200, 60)]), 4))
        first = await result(c, 4)
        assert first["type"] == "studio.result", first
        a = np.asarray(decoded(first["image"]), dtype=float)
        assert a.shape == (16, 16) and a.std() > 1, "a blank rendering"
        await c.send(request("sketch", "edges", sketch([(40, 40, 200, 60), (60, 200, 200, 120), (128, 20, 128, 240)]), 5))
        b = np.asarray(decoded((await result(c, 5))["image"]), dtype=float)
        assert np.abs(a - b).mean() > 0.5, "more strokes, the same rendering"
    session(url, body)


def test_while_a_request_runs_the_newest_sketch_replaces_the_waiting_ones(url: str):
    """A slow upscale is in flight; five sketches arrive meanwhile: the four older are replaced
    (each told so), only the newest is rendered."""
    big = Image.fromarray(photo(1, 640, 640))  # (smooth: its 1280 x 1280 result is a PNG of a few MB)
    async def body(c: Client):
        await c.send(request("upscale", "sr", big, 10))
        for i in range(11, 16):
            await c.send(request("sketch", "edges", sketch([(20, 20, 20 + 30 * (i - 10), 200)]), i))
        assert (await result(c, 10))["type"] == "studio.result"
        assert (await result(c, 15))["type"] == "studio.result"
        await asyncio.sleep(0.3)
        while True:  # what else arrived
            try:
                c.other.append(json.loads(await asyncio.wait_for(c.ws.recv(), 0.5)))
            except TimeoutError:
                break
        replaced = sorted(m["id"] for m in c.other if m["type"] == "studio.replaced")
        rendered = sorted(m["id"] for m in c.other if m["type"] == "studio.result")
        assert replaced == [11, 12, 13, 14] and rendered == [10, 15], (replaced, rendered)
    session(url, body)


def test_closing_the_tab_ends_its_studio_thread(url: str):
    def studios() -> int:
        return sum(t.name == "ganforge-studio" for t in threading.enumerate())
    async def body(c: Client):
        await c.send(request("sketch", "edges", sketch([(10, 10, 200, 200)]), 1))
        assert (await result(c, 1))["type"] == "studio.result"
        assert studios() >= 1
    session(url, body)
    deadline = time.monotonic() + 10
    while studios() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert studios() == 0, "a studio thread outlived its tab"


# ----------------------------------------------------------------- bad requests: one line each
def png_bytes_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def cut_png() -> str:
    full = data_url(photo_picture(40, 40))
    data = base64.b64decode(full.split(",", 1)[1])
    return png_bytes_url(data[:len(data) // 2])  # the header reads, the pixels do not


def bomb_png(side: int = 20000) -> str:
    """A PNG header claiming side x side pixels (a decompression bomb): refused from the header."""
    import struct
    import zlib
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return png_bytes_url(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


BAD = [  # (request fields, what the one line must say)
    ({"image": lambda: bomb_png()}, "far too many pixels"),
    ({"image": "data:image/png;base64," + "A" * (6 * 2**20)}, "too large"),
    ({"image": lambda: data_url(Image.new("L", (3000, 2000)))}, "million pixels"),
    ({"image": png_bytes_url(b"\x89PNG\r\n\x1a\n" + b"junk" * 50)}, "not a readable PNG"),
    ({"image": lambda: cut_png()}, "not a decodable image"),
    ({"image": lambda: data_url(Image.new("RGB", (20, 20)), "GIF")}, "PNG or JPEG"),
    ({"image": "data:image/png;base64,@@@@"}, "base64"),
    ({"image": "hello"}, "data URL"),
    ({"task": "paint"}, "one of"),
    ({"task": "sketch", "path": "sr"}, "is a superres model; sketch takes a model of the pix2pix game"),
    ({"task": "repair", "path": "edges", "mask": lambda: data_url(Image.new("L", (30, 20), 255))},
     "is a pix2pix model"),
    ({"path": "models/digits"}, "is a generation model"),
    ({"path": "live"}, "holds no exported model"),
    ({"path": "../../etc"}, "'..'"),
    ({"path": "/etc"}, "absolute"),
    ({"path": "nowhere"}, "no such run"),
    ({"task": "repair", "path": "repair", "mask": lambda: data_url(Image.new("L", (31, 20), 255))},
     "the mask is 31x20 but the image is 30x20"),
    ({"task": "repair", "path": "repair", "mask": lambda: data_url(Image.new("L", (30, 20), 0))}, "mask is empty"),
    ({"task": "repair", "path": "repair"}, "'mask' must be an image"),
    ({"mask": lambda: data_url(Image.new("L", (30, 20)))}, "'mask' is for the repair task"),
    ({"id": "seven"}, "'id' must be a number"),
    ({"colour": "red"}, "unknown field"),
    ({"image": lambda: data_url(photo_picture(3, 40))}, "at least 4 px"),
]


def test_every_bad_request_gets_one_line_and_the_studio_goes_on(url: str):
    async def body(c: Client):
        for i, (fields, expected) in enumerate(BAD, start=100):
            fields = {k: v() if callable(v) else v for k, v in fields.items()}
            msg = request("upscale", "sr", photo_picture(30, 20), i) | fields
            await c.send(msg)
            got = await result(c, i if isinstance(msg["id"], int) else None)
            assert got["type"] == "error", (expected, got)
            line = got["message"]
            assert expected in line and "\n" not in line and "Traceback" not in line and len(line) < 300, (expected, line)
            if isinstance(msg["id"], int) and msg.get("task") in messages.STUDIO_TASKS:
                assert got["task"] == msg["task"] and got["request"] == "studio.run", got
        await c.send(request("sketch", "edges", sketch([(0, 0, 255, 255)]), 999))
        assert (await result(c, 999))["type"] == "studio.result"
        await c.send({"type": "step_g"})  # and the 2-D lab of the same tab too
        await c.next("frame", where=lambda f: f["step"] == 1)
    session(url, body)


def test_a_header_turned_by_exif_is_compared_as_shown():
    """A phone's JPEG is stored 30x20 with 'rotate a quarter turn': shown (and masked) 20x30."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    photo_picture(30, 20).save(buf, format="JPEG", exif=exif)
    image = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    msg = messages.parse(json.dumps(request("repair", "repair", image, 1, mask=data_url(Image.new("L", (20, 30), 255)))))
    assert msg["size"] == (20, 30)
    with pytest.raises(messages.BadMessage, match="the mask is 30x20 but the image is 20x30"):
        messages.parse(json.dumps(request("repair", "repair", image, 1, mask=data_url(Image.new("L", (30, 20), 255)))))
    # a PNG's eXIf chunk turns it too (the studio decodes it turned): its mask is the shown size
    buf = io.BytesIO()
    photo_picture(30, 20).save(buf, format="PNG", exif=exif)
    turned_png = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    msg = messages.parse(json.dumps(request("repair", "repair", turned_png, 1,
                                            mask=data_url(Image.new("L", (20, 30), 255)))))
    assert msg["size"] == (20, 30) and decode(msg["image"], 3, "the image").shape == (30, 20, 3)


def test_uploads_are_rate_limited_before_they_are_decoded(url: str):
    """Eight image uploads at once: the tab's budget (server.UPLOAD_BURST) passes six, the rest
    get one line each without being parsed; a second later uploads pass again."""
    big = data_url(Image.fromarray(np.random.default_rng(2).integers(0, 255, (200, 200, 3), dtype=np.uint8)))
    assert len(big) > messages.COMMAND_BYTES
    async def body(c: Client):
        for i in range(300, 300 + server.UPLOAD_BURST + 2):
            await c.send(request("repair", "repair", big, i))  # (no mask: refused once parsed, nothing runs)
        lines = []
        while len(lines) < server.UPLOAD_BURST + 2:
            msg = await c.next("error")
            lines.append(msg["message"])
            assert msg["request"] == "studio.run", msg  # shown in the studio, beside its requests
        parsed = sum("'mask' must be an image" in line for line in lines)
        dropped = sum(line.startswith("too many uploads") for line in lines)
        assert parsed + dropped == len(lines) and parsed >= server.UPLOAD_BURST and dropped >= 1, lines
        await asyncio.sleep(1.0)
        await c.send(request("upscale", "sr", big, 400))
        assert (await result(c, 400))["type"] == "studio.result"
    session(url, body)


# ----------------------------------------------------------------- hostile uploads, fuzzed
GOOD_PNG = base64.b64decode(data_url(photo_picture(12, 10)).split(",", 1)[1])


@HOSTILE
@given(head=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", GOOD_PNG[:33], GOOD_PNG[:60]]),
       tail=st.binary(max_size=300), flips=st.lists(st.tuples(st.integers(0, len(GOOD_PNG) - 1),
                                                               st.integers(0, 255)), max_size=4),
       task=st.sampled_from(["upscale", "repair", "sketch"]))
def test_crafted_uploads_are_refused_in_one_line_or_served(runs_root: Path, head: bytes, tail: bytes, flips, task: str):
    """Bytes behind a PNG/JPEG signature, or a real PNG with bytes flipped: parse refuses them
    with BadMessage, or the studio runs them and answers a picture or one GanforgeError line."""
    data = bytearray(GOOD_PNG) if not tail and flips else bytearray(head + tail)
    for at, value in flips:
        if at < len(data):
            data[at] = value
    image = png_bytes_url(bytes(data))
    fields = {"mask": data_url(Image.new("L", (12, 10), 255))} if task == "repair" else {}
    path = {"upscale": "sr", "repair": "repair", "sketch": "edges"}[task]
    try:
        msg = messages.parse(json.dumps(request(task, path, image, 1, **fields)))
    except messages.BadMessage as e:
        assert str(e) and "\n" not in str(e)
        return
    out = clean(lambda: Studio(runs_root, lambda m: None).run(msg))
    assert isinstance(out, Exception) or out["type"] == "studio.result", out

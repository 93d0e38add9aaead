"""The studio tab end to end in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) against tiny real runs: strokes drawn with the mouse render live (throttled) and
change the rendering; an uploaded file (and a dropped GIF) is upscaled to the model's scale;
a mask painted with the mouse is repaired, every unpainted pixel kept."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio_fixtures import decoded, digit_picture, studio_runs
from test_playground import served
from test_playground_browser import CHROMIUM, open_page

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                               "(scripts/setup.sh --test installs it)")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    with served(studio_runs(tmp_path_factory)) as host:
        yield f"http://{host}/"


def open_studio(page) -> None:
    page.click("#tab-studio")
    page.wait_for_function("document.getElementById('sketch-run').value === 'edges' && "
                           "document.getElementById('upscale-run').value === 'sr'", timeout=20_000)


def draw(page, selector: str, points: list[tuple[float, float]], pause_ms: int = 0) -> None:
    """One stroke with the mouse through `points` (fractions of the element's box)."""
    box = page.locator(selector).bounding_box()
    xy = [(box["x"] + u * box["width"], box["y"] + v * box["height"]) for u, v in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for p in xy[1:]:
        page.mouse.move(*p, steps=4)
        if pause_ms:
            page.wait_for_timeout(pause_ms)
    page.mouse.up()


def src(page, selector: str) -> str | None:
    return page.get_attribute(selector, "src")


def test_a_sketch_renders_live_and_changes_with_more_strokes(server_url: str):
    with open_page(server_url) as (page, _):
        sent: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
        page.reload()  # (the socket opened before the listener: open a new one under it)
        page.wait_for_selector("#conn.ok", timeout=20_000)
        open_studio(page)
        # a long stroke, ~1.2 s: renders go out while drawing, throttled to one every 150 ms
        start = time.monotonic()
        draw(page, "#sketch-canvas", [(0.2 + 0.6 * i / 11, 0.3 + 0.3 * (i % 2)) for i in range(12)], pause_ms=100)
        drawing = time.monotonic() - start
        page.wait_for_function("(document.getElementById('sketch-output').src || '').startsWith('data:image/png')",
                               timeout=20_000)
        sketches = sum('"sketch"' in m for m in sent)
        assert 3 <= sketches <= drawing * 1000 / 150 + 3, (sketches, drawing)
        page.wait_for_timeout(400)  # the release's final render
        first = src(page, "#sketch-output")
        a = np.asarray(decoded(first).convert("L"), dtype=float)
        assert a.shape == (16, 16) and a.std() > 1, "a blank rendering"
        draw(page, "#sketch-canvas", [(0.5, 0.05), (0.5, 0.95)])
        draw(page, "#sketch-canvas", [(0.1, 0.9), (0.9, 0.7)])
        page.wait_for_function(f"document.getElementById('sketch-output').src !== {first!r}", timeout=20_000)
        page.wait_for_timeout(400)
        b = np.asarray(decoded(src(page, "#sketch-output")).convert("L"), dtype=float)
        assert np.abs(a - b).mean() > 0.5, "more strokes, the same rendering"
        assert "rendered at 16x16" in page.text_content("#sketch-status")


def test_upload_upscale_then_paint_a_mask_and_repair(server_url: str, tmp_path: Path):
    digit = digit_picture(5, 32).convert("RGB").resize((30, 20))
    upload = tmp_path / "digit.png"
    digit.save(upload)
    with open_page(server_url) as (page, _):
        open_studio(page)
        page.set_input_files("#studio-file", str(upload))
        page.wait_for_function("document.getElementById('studio-image-info').textContent.includes('30 × 20')",
                               timeout=20_000)
        page.click("#upscale-go")
        page.wait_for_function("document.getElementById('studio-result').naturalWidth > 0", timeout=30_000)
        size = page.evaluate("[document.getElementById('studio-result').naturalWidth, "
                             "document.getElementById('studio-result').naturalHeight]")
        assert size == [60, 40], size
        assert "30x20 -> 60x40" in page.text_content("#studio-status")
        upscaled = src(page, "#studio-result")

        page.click("#repair-go")  # nothing painted yet: said, nothing sent
        assert "paint over" in page.text_content("#studio-status")
        draw(page, "#mask-canvas", [(0.3, 0.3), (0.7, 0.6)])
        page.click("#repair-go")
        page.wait_for_function(f"document.getElementById('studio-result').src !== {upscaled!r} && "
                               "document.getElementById('studio-status').textContent.startsWith('repair:')",
                               timeout=30_000)
        repaired = np.asarray(decoded(src(page, "#studio-result")))
        mask = np.asarray(decoded(page.evaluate("maskURL()")).convert("L")) >= 128
        grey = np.asarray(Image.open(upload).convert("L"))
        assert repaired.shape == (20, 30) and 0.02 < mask.mean() < 0.9, (repaired.shape, mask.mean())
        assert np.array_equal(repaired[~mask], grey[~mask]), "an unpainted pixel changed"
        assert not np.array_equal(repaired[mask], grey[mask]), "the painted part was not filled"

        # a GIF dropped on the drop zone: the page decodes it and sends a PNG
        gif = tmp_path / "drop.gif"
        digit.resize((24, 16)).save(gif)
        data = page.evaluate_handle("""(b64) => {
            const dt = new DataTransfer(), bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            dt.items.add(new File([bytes], "drop.gif", { type: "image/gif" }));
            return dt; }""", base64.b64encode(gif.read_bytes()).decode())
        page.dispatch_event("#studio-drop", "drop", {"dataTransfer": data})
        page.wait_for_function("document.getElementById('studio-image-info').textContent === 'drop.png: 24 × 16 px'",
                               timeout=20_000)
        page.click("#upscale-go")
        page.wait_for_function("document.getElementById('studio-result').naturalWidth === 48", timeout=30_000)
        assert page.evaluate("document.getElementById('studio-result').naturalHeight") == 32

        # the server's one line for a bad request shows beside the studio, not as a page-wide error
        thin = tmp_path / "thin.png"
        digit.resize((3, 40)).save(thin)
        page.set_input_files("#studio-file", str(thin))
        page.wait_for_function("document.getElementById('studio-image-info').textContent === 'thin.png: 3 × 40 px'",
                               timeout=20_000)
        page.click("#upscale-go")
        page.wait_for_function("document.getElementById('studio-status').textContent.includes('at least 4 px')",
                               timeout=20_000)
        assert page.is_hidden("#error")

        big = tmp_path / "big.png"
        Image.new("L", (3000, 2000), 128).save(big)  # (a few KB, but too many pixels)
        page.set_input_files("#studio-file", str(big))
        page.wait_for_function("document.getElementById('studio-status').textContent.includes('million pixels')",
                               timeout=20_000)

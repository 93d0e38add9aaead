"""End to end in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
load the page, pick ring8, press play, wait for 8 modes, pause, screenshot."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                               "(scripts/setup.sh --test installs it)")


@pytest.fixture
def server_url(tmp_path: Path):
    from test_playground import served

    with served(tmp_path) as host:
        yield f"http://{host}/"


@contextmanager
def open_page(url: str):
    """The playground in headless Chromium, connected: (page, the page's script errors). The
    page must have raised no script error by the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_selector("#conn.ok", timeout=20_000)
            yield page, errors
            assert not errors, errors
        finally:
            browser.close()


def test_ring8_reaches_eight_modes_in_the_browser(server_url: str, tmp_path: Path):
    from PIL import Image, ImageStat

    shot = tmp_path / "playground.png"
    with open_page(server_url) as (page, _):
        page.select_option("#distribution", "ring8")
        page.click("#play")
        page.wait_for_function("Number(document.getElementById('modes').dataset.modes) >= 8",
                               timeout=120_000, polling=250)
        page.click("#play")  # the same button pauses
        page.wait_for_function("document.getElementById('play').textContent.includes('Play')", timeout=10_000)
        page.wait_for_timeout(300)  # the paused frame is drawn
        page.screenshot(path=str(shot))
        if os.environ.get("GANFORGE_SCREENSHOT"):  # keep a copy to look at
            page.screenshot(path=os.environ["GANFORGE_SCREENSHOT"])
        assert int(page.text_content("#step").replace(",", "")) > 0
    with Image.open(shot) as im:
        stat = ImageStat.Stat(im.convert("L"))
        colours = len(im.convert("RGB").resize((200, 125)).getcolors(maxcolors=1 << 16) or [])
    assert stat.stddev[0] > 10, "the screenshot is blank"
    assert colours > 50, f"the screenshot has only {colours} colours"


def test_the_image_lab_plays_a_music_model(server_url: str, tmp_path: Path):
    """A music model in --runs: its piano rolls show and its player holds a WAV the browser decodes."""
    import torch

    from ganforge import modeling
    from ganforge.models import musegan

    torch.manual_seed(0)
    modeling.save_pretrained(musegan.Generator(40, 2, 2, 16, 24, width=8), tmp_path / "chorale",
                             {"kind": "music", "low": 48, "track_names": ["S", "B"], "programs": [19, 19],
                              "tempo": 100.0})
    with open_page(server_url) as (page, _):
        page.click("#tab-imagelab")
        page.click("#runs li:has-text('chorale')")
        page.wait_for_selector("#grid-audio:not([hidden])", timeout=30_000)
        # the browser decodes the WAV: a phrase of 2 bars at 100 beats a minute lasts 4.8 s (+ release)
        page.wait_for_function("document.getElementById('grid-audio').duration > 4", timeout=20_000)
        assert "piano rolls" in page.text_content("#image-hint")
        assert page.evaluate("document.getElementById('grid').naturalWidth") > 100
        # the sliders are the model's principal directions, labelled with their variance; random on request
        assert page.text_content("#sliders label").startswith("PC1 ")
        before = page.get_attribute("#grid", "src")
        page.select_option("#basis", "random")
        page.wait_for_function("document.querySelector('#sliders label').textContent.startsWith('d1')", timeout=20_000)
        page.select_option("#basis", "principal")
        page.wait_for_function("document.querySelector('#sliders label').textContent.startsWith('PC1')", timeout=20_000)
        page.fill("#sliders input", "2")
        page.dispatch_event("#sliders input", "input")
        page.wait_for_function(f"document.getElementById('grid').src !== {before!r}", timeout=20_000)

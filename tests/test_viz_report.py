"""Curves, timelapse GIF, 2-D decision surface and the one-page run report (checked in
headless Chromium: every picture must decode)."""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.viz import plots
from ganforge.viz.decision import auto_extent, decision_surface
from ganforge.viz.report import write_report
from ganforge.viz.timelapse import build_timelapse, frame_count, pick_evenly

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


# ----------------------------------------------------------------- curves
def write_metrics(path: Path) -> None:
    rows = [{"step": s, "Loss/D/real": 0.7 - s / 1000, "Loss/D": 1.4, "Loss/G": 0.8 + s / 500,
             "D/real_logit": 0.1 * s, "D/D(x)": 0.6, "Speed/images_per_s": 900.0, "LR/G": 2e-4}
            for s in range(10, 310, 10)]
    rows[5]["Loss/G"] = None                                  # a non-finite value, written as null
    rows[7].pop("Loss/D/real")                                 # a stat missing from one row
    rows[12]["Grad/G/norm"] = 0.3                              # a stat in one row only
    rows.append({"step": 300, "Metric/modes": 7.0, "Health/mode_collapse": 1.0})
    lines = [json.dumps(r) for r in rows]
    lines.append(json.dumps({"evaluate": "mode_coverage", "Metric/modes": 8.0, "settings": {"n_fake": 2500}}))
    lines.append('{"step": 310, "Loss/G": 0.')              # a row being written when read
    path.write_text("\n".join(lines))


def test_curves_from_metrics_with_nulls_missing_keys_and_a_cut_line(tmp_path):
    write_metrics(tmp_path / "metrics.jsonl")
    rows = plots.read_rows(tmp_path / "metrics.jsonl")
    assert len(rows) == 32  # 31 training rows and the evaluate record; the cut line skipped
    data = plots.series(rows)
    steps, g = data["Loss/G"]
    assert len(steps) == 30 and math.isnan(g[5]) and list(steps) == sorted(steps)
    assert len(data["Loss/D/real"][0]) == 29 and list(data["Metric/modes"][1]) == [7.0]  # evaluate row: table only
    assert [plots.group_of(n) for n in ("Loss/D", "Loss/D/real", "Loss/G", "D/real_logit", "D/D(x)",
                                        "Grad/G/norm", "Speed/images_per_s", "Metric/fid", "Health/x", "odd")] == \
        ["Discriminator loss", "Discriminator loss", "Generator loss", "Discriminator logits",
         "Discriminator outputs", "Gradient norms", "Throughput", "Metrics", None, "Other"]
    out = plots.plot_curves(tmp_path / "metrics.jsonl", tmp_path / "curves.png")
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width >= 800 and img.height >= 3 * 250  # 4 rows of panels
    assert not list(tmp_path.glob(".*tmp"))


def test_curves_of_one_row_and_of_none():
    one = plots.curves_png([{"step": 1, "Loss/G": 0.5, "Loss/D": None}])
    empty = plots.curves_png([])
    for png in (one, empty):
        assert Image.open(io.BytesIO(png)).size[0] > 0


def test_smoothing_keeps_gaps_and_constants():
    v = np.array([1.0] * 10 + [math.nan] + [1.0] * 20)
    s = plots.smooth(v, 0.9)
    assert math.isnan(s[10]) and np.allclose(np.delete(s, 10), 1.0)  # debiased: no ramp from 0
    ramp = np.arange(40.0)
    assert plots.smooth(ramp, 0.6)[-1] < 39 and np.array_equal(plots.smooth(ramp[:5], 0.6), ramp[:5])


def test_curves_leave_the_global_matplotlib_backend_alone():
    import matplotlib
    before = matplotlib.get_backend()
    plots.curves_png([{"step": 1, "Loss/G": 0.5}])
    assert matplotlib.get_backend() == before


# ----------------------------------------------------------------- timelapse
COLOURS = {s: (s % 256, (7 * s) % 256, 200) for s in range(0, 3000, 10)}


def test_timelapse_frames_are_in_step_order_subsampled_with_the_last_held(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    for step, colour in COLOURS.items():  # 300 pictures, names not zero-padded: order by number
        Image.new("RGB", (40, 40), colour).save(samples / f"step-{step}.png")
    Image.new("RGB", (40, 40), "black").save(samples / "latest.png")
    gif = build_timelapse(tmp_path, max_frames=25, frame_ms=100, hold_ms=2000)
    assert gif == tmp_path / "timelapse.gif" and frame_count(gif) == 25
    expected = [sorted(COLOURS)[i] for i in pick_evenly(len(COLOURS), 25)]
    assert expected[0] == 0 and expected[-1] == 2990
    with Image.open(gif) as img:
        assert img.width >= 256  # small pictures are enlarged so the step label is readable
        durations, shown = [], []
        for i in range(img.n_frames):
            img.seek(i)
            durations.append(img.info["duration"])
            rgb = np.asarray(img.convert("RGB"))
            shown.append(tuple(int(c) for c in rgb[10, 10]))
            assert (rgb[-15:, :60] < 100).any()  # the step is written under the picture
    assert durations[:-1] == [100] * 24 and durations[-1] == 2000
    for step, colour in zip(expected, shown):  # GIF palettes are exact for so few colours
        assert max(abs(a - b) for a, b in zip(colour, COLOURS[step])) <= 8, step
    assert not list(tmp_path.glob(".*tmp"))


def test_pick_evenly():
    assert pick_evenly(5, 100) == [0, 1, 2, 3, 4]
    picked = pick_evenly(1000, 100)
    assert len(picked) == 100 and picked[0] == 0 and picked[-1] == 999 and picked == sorted(set(picked))
    assert pick_evenly(7, 1) == [6]


def test_timelapse_without_pictures_is_one_line(tmp_path):
    with pytest.raises(GanforgeError, match="no sample pictures"):
        build_timelapse(tmp_path)


# ----------------------------------------------------------------- decision surface
class Linear(nn.Module):
    """logit = 4 (x - 0.5): D says "real" right of x = 0.5."""

    def forward(self, x):
        return 4 * (x[:, 0] - 0.5)


def test_decision_surface_boundary_and_points_are_where_they_belong():
    real = torch.tensor([[1.5, -1.5]])
    fake = torch.tensor([[-1.5, 1.5]])
    img = np.asarray(decision_surface(Linear(), real, fake, extent=(-2, 2, -2, 2), size=101))
    assert img.shape == (101, 101, 3)
    boundary = (0.5 + 2) / 4 * 100  # x = 0.5 -> column 62.5
    row = img[50].astype(int)
    left, right = row[: int(boundary) - 3], row[int(boundary) + 4:]
    assert (left[:, 0] > left[:, 1]).all()    # pink: D says fake
    assert (right[:, 1] > right[:, 0]).all()  # green: D says real
    grey = [c for c in range(101) if (row[c] == (110, 110, 110)).all()]
    assert grey and all(abs(c - boundary) <= 1 for c in grey)
    assert tuple(img[12, 12]) == (235, 110, 20)  # fake point at (-1.5, 1.5): top left, orange
    assert tuple(img[88, 88]) == (60, 60, 60)    # real point at (1.5, -1.5): bottom right


def test_decision_surface_y_grows_upwards_and_extent_covers_both_sets():
    class Up(nn.Module):
        def forward(self, x):
            return 10 * x[:, 1]

    real, fake = torch.randn(200, 2) + 5, torch.randn(200, 2) * 0.1 - 3
    xmin, xmax, ymin, ymax = auto_extent(real, fake)
    both = torch.cat([real, fake])
    assert xmin < both[:, 0].min() and xmax > both[:, 0].max() and ymin < both[:, 1].min() and ymax > both[:, 1].max()
    assert math.isclose(xmax - xmin, ymax - ymin)  # square: circles stay circles
    img = np.asarray(decision_surface(Up(), real[:0], fake[:0], extent=2.0, size=64)).astype(int)
    assert img[2, 30, 1] > img[2, 30, 0] and img[61, 30, 0] > img[61, 30, 1]  # top green, bottom pink


# ----------------------------------------------------------------- the report
def images_of(html: str) -> list[bytes]:
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert all(s.startswith("data:image/") for s in srcs), "every picture is embedded"
    return [base64.b64decode(s.split(",", 1)[1]) for s in srcs]


def test_report_of_a_real_run_is_one_self_contained_page(copy_run):
    run = copy_run("ring8")
    (run / "timelapse.gif").unlink(missing_ok=True)  # built when missing
    (run / "alarms.jsonl").write_text(json.dumps({"step": 15, "alarm": "mode_collapse", "message": "samples <b>alike</b>",
                                                  "cure": "try --loss wgan-gp"}) + "\n")
    with open(run / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"evaluate": "mode_coverage", "Metric/modes": 6.0,
                            "settings": {"n_fake": 2500, "seed": 0}}) + "\n")
    out = write_report(run)
    assert out == run / "report.html" and (run / "timelapse.gif").is_file() and (run / "curves.png").is_file()
    html = out.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html and "<link" not in html
    pictures = images_of(html)
    assert len(pictures) == 3  # latest samples, timelapse, curves
    for data in pictures:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    for text in ("mode_collapse", "samples &lt;b&gt;alike&lt;/b&gt;", "try --loss wgan-gp", "n_fake=<code>2500</code>",
                 "after training", "CPU model", "images/s (median)", "lr_g:", "finished, model exported"):
        assert text in html, text
    assert not list(run.glob(".*tmp"))


def test_report_without_alarms_or_run_info_says_so(copy_run):
    run = copy_run("digits")
    (run / "alarms.jsonl").unlink(missing_ok=True)
    (run / "run_info.json").unlink(missing_ok=True)
    rows = [{k: v for k, v in json.loads(line).items() if not k.startswith("Health/")}
            for line in (run / "metrics.jsonl").read_text().splitlines()]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "samples" / "latest.png").write_bytes(b"not a picture")  # damaged: a note, not a traceback
    html = write_report(run).read_text()
    assert "no alarms" in html and "run_info.json not found" in html and "no evaluations recorded" in html
    assert "latest.png could not be read" in html and "timelapse of samples" in html


def test_report_bad_inputs_are_one_line(tmp_path):
    cases = {tmp_path / "missing": "does not exist", tmp_path / "afile": "is not a directory",
             tmp_path / "empty": "is not a ganforge run"}
    (tmp_path / "afile").write_text("")
    (tmp_path / "empty").mkdir()
    for path, message in cases.items():
        with pytest.raises(GanforgeError, match=message) as e:
            write_report(path)
        assert "\n" not in str(e.value)


def test_report_into_an_unwritable_place_is_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    write_metrics(run / "metrics.jsonl")
    (run / "report.html").mkdir()  # cannot be replaced by a file, even for root
    with pytest.raises(GanforgeError, match=r"cannot write .*report\.html"):
        write_report(run)
    if os.geteuid() != 0:  # permissions do not bind root
        (run / "report.html").rmdir()
        run.chmod(0o555)
        try:
            with pytest.raises(GanforgeError, match="cannot write to run directory"):
                write_report(run)
        finally:
            run.chmod(0o755)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                  "(scripts/setup.sh --test installs it)")
def test_every_picture_of_the_report_decodes_in_chromium(copy_run):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
    report = write_report(copy_run("digits"))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.resolve().as_uri(), wait_until="load")
            shown = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
        finally:
            browser.close()
    assert len(shown) == 3 and all(done and width > 0 for _, done, width in shown), shown
    assert all(url.startswith(("file:", "data:")) for url in requests), requests  # nothing from a network

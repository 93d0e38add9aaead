"""`ganforge report RUN_DIR`: one self-contained HTML page about a run.

Everything is inside `RUN_DIR/report.html` (pictures as base64 data URIs, inline CSS, no
scripts), so the file can be mailed or opened offline: health alarms, config, the latest
samples and their timelapse, loss and metric curves, evaluation records with their
settings, hardware and throughput.
"""

from __future__ import annotations

import base64
import json
import math
import statistics
import time
from html import escape
from pathlib import Path

import yaml
from PIL import Image

from ganforge import atomic
from ganforge.errors import GanforgeError
from ganforge.viz import plots
from ganforge.viz.timelapse import build_timelapse, sample_frames

HARDWARE_KEYS = {"device": "device", "gpu": "GPU", "cpu": "CPU model", "cores": "CPU cores",
                 "threads": "torch threads", "torch": "torch", "ganforge": "ganforge",
                 "python": "Python", "started": "started"}
MIN_SHOWN = 320  # small pictures are shown enlarged (whole factors, sharp pixels)

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d232b}
header{background:#1f2933;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}header p{margin:0;color:#c4cdd5}
main{max-width:1160px;margin:0 auto;padding:8px 20px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;margin:18px 0;padding:14px 20px}
h2{font-size:17px;margin:2px 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#f0f3f6;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:19px}.card span{color:#52606d;font-size:13px}
.pics{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}figure{margin:0}
figcaption{color:#52606d;font-size:13px;margin-top:4px}
img{max-width:100%;height:auto}img.px{image-rendering:pixelated}
table{border-collapse:collapse;font-size:14px;width:100%}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f0f3f6;font-weight:600}td.num{font-variant-numeric:tabular-nums}
.ok{color:#1e7b34;font-weight:600}.alarm{color:#b42318;font-weight:600}.muted{color:#7b8794}
pre{background:#f7f8fa;border:1px solid #e4e7eb;border-radius:6px;padding:10px;overflow:auto;font-size:13px}
code{font-size:13px}h3{font-size:15px;margin:14px 0 8px}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:2px 18px;font-size:14px}
.kv div{display:flex;justify-content:space-between;border-bottom:1px solid #e4e7eb;padding:3px 0}
.kv b{font-weight:500;font-variant-numeric:tabular-nums}
pre.cfg{column-width:240px;column-gap:24px}
"""


# ----------------------------------------------------------------- checks and files
def check_run_dir(run_dir: str | Path) -> Path:
    """The run directory, or a one-line GanforgeError saying why it is not one."""
    d = Path(run_dir)
    if not d.exists():
        raise GanforgeError(f"run directory {d} does not exist")
    if not d.is_dir():
        raise GanforgeError(f"{d} is not a directory; expected a ganforge run directory")
    if not (d / "config.yaml").is_file() and not (d / "metrics.jsonl").is_file():
        raise GanforgeError(f"{d} is not a ganforge run (it has no config.yaml or metrics.jsonl); "
                            "pass the --out directory of `ganforge train`")
    return d


def _check_writable(d: Path) -> None:
    probe = d / ".report-write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise GanforgeError(f"cannot write to run directory {d}: {e.strerror or e}") from None


def _read_jsonl(path: Path) -> list[dict]:
    return plots.read_rows(path) if path.is_file() else []


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _picture(path: Path, caption: str, alt: str) -> str:
    """A <figure> with the picture embedded; small ones displayed enlarged (a note if unreadable)."""
    try:
        data = path.read_bytes()
        with Image.open(path) as img:
            w, h, mime = img.width, img.height, Image.MIME.get(img.format or "PNG", "image/png")
    except OSError as e:  # a damaged or half-written picture: the rest of the report still helps
        return f'<p class="muted">{escape(path.name)} could not be read: {escape(str(e))}</p>'

    f = max(1, -(-MIN_SHOWN // max(w, 1))) if w < MIN_SHOWN else 1
    cls = ' class="px"' if f > 1 else ""
    return (f'<figure><img{cls} src="{_data_uri(data, mime)}" width="{w * f}" height="{h * f}" '
            f'alt="{escape(alt)}"><figcaption>{escape(caption)}</figcaption></figure>')


# ----------------------------------------------------------------- small formatting helpers
def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return escape(str(v))
    if isinstance(v, int):
        return f"{v:,}"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _table(head: list[str] | None, rows: list[list[str]]) -> str:
    """Cells are already HTML (escaped by the caller); no head row when `head` is None."""
    th = "" if head is None else "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table>{th}<tbody>{body}</tbody></table>"


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}" if m else f"{seconds:.1f} s"


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


# ----------------------------------------------------------------- the sections
def alarms_of(run_dir: Path, rows: list[dict]) -> list[dict]:
    """Alarms from RUN_DIR/alarms.jsonl; without that file, the first step of each `Health/*`
    stat in the rows."""
    if (run_dir / "alarms.jsonl").is_file():
        return [a for a in _read_jsonl(run_dir / "alarms.jsonl") if "alarm" in a]
    first: dict[str, int] = {}
    for row in rows:
        for k, v in row.items():
            if k.startswith("Health/") and v and k[7:] not in first:
                first[k[7:]] = row.get("step")
    return [{"step": s, "alarm": a, "message": f"Health/{a} was reported", "cure": ""} for a, s in first.items()]


def _alarms_section(alarms: list[dict]) -> str:
    if not alarms:
        return _section("Health", '<p class="ok">no alarms</p>', "health")
    rows = [[_fmt(a.get("step")), f'<span class="alarm">{escape(str(a.get("alarm")))}</span>',
             escape(str(a.get("message", ""))), escape(str(a.get("cure", "")))] for a in alarms]
    return _section(f"Health: {len(alarms)} alarm{'s' * (len(alarms) != 1)}",
                    _table(["step", "alarm", "what was seen", "likely cure"], rows), "health")


def _kind(run_dir: Path) -> str | None:
    """"images", "points", "music", "audio"..., from the exported model's config (None before the export)."""
    info = _read_json(run_dir / "model" / "config.json") or {}
    data = info.get("data_info") or info.get("data") or info
    return data.get("kind") if isinstance(data, dict) else None


def _pictures_section(run_dir: Path) -> str:
    figures, notes = [], []
    samples = run_dir / "samples"
    frames = sample_frames(samples)
    latest = samples / "latest.png" if (samples / "latest.png").is_file() else (frames[-1][1] if frames else None)
    if latest is not None:
        step = f" (step {frames[-1][0]:,})" if frames else ""
        figures.append(_picture(latest, f"latest samples{step}, fixed z, EMA generator", "latest samples"))
        if _kind(run_dir) == "points":
            notes.append("2-D pictures: real points dark grey, generated orange; the background is the "
                         "discriminator's sigmoid(D(x)): green where it says real, pink where it says fake, "
                         "grey line at 0.5")
        if _kind(run_dir) == "audio":
            notes.append("audio pictures: each clip's waveform above its log-magnitude spectrogram "
                         "(time left to right, low frequencies at the bottom, 90 dB of range)")
        if _kind(run_dir) == "video":
            notes.append("video pictures: one row of frames a clip (time left to right), each row a fixed z")
    if (samples / "latest.gif").is_file():  # video: the same fixed-z clips, playing
        figures.append(_picture(samples / "latest.gif", "the latest samples playing (samples/latest.gif; every "
                                "picture's GIF is beside it)", "latest clips"))
    if (samples / "latest.wav").is_file():  # music and audio: the fixed-z samples, one after another
        beside = "WAV" if _kind(run_dir) == "audio" else "MIDI"
        figures.append('<figure><audio controls preload="none" src="samples/latest.wav"></audio>'
                       "<figcaption>listen: the first latest samples (samples/latest.wav; "
                       f"every picture's {beside} is beside it)</figcaption></figure>")
    if (samples / "latest.txt").is_file():  # text: the fixed z's latest lines themselves
        lines = (samples / "latest.txt").read_text(encoding="utf-8", errors="replace")
        figures.append(f"<figure><pre>{escape(lines)}</pre><figcaption>the latest lines (samples/latest.txt; "
                       "every picture's lines are beside it, step-N.txt)</figcaption></figure>")
    gif = run_dir / "timelapse.gif"
    if frames:
        try:
            if not gif.is_file() or gif.stat().st_mtime < max(p.stat().st_mtime for _, p in frames):
                build_timelapse(run_dir)
            figures.append(_picture(gif, f"timelapse over {len(frames)} sample pictures", "timelapse of samples"))
        except (GanforgeError, OSError) as e:
            notes.append(f"timelapse not made: {e}")
    if not figures:
        notes.append("no sample pictures yet")
    body = f'<div class="pics">{"".join(figures)}</div>' + "".join(f'<p class="muted">{escape(n)}</p>' for n in notes)
    return _section("Samples", body, "samples")


def _curves_section(run_dir: Path, rows: list[dict]) -> str:
    png = plots.curves_png(rows)
    try:  # also beside the report, for slides
        atomic.write_bytes(run_dir / "curves.png", png)
    except (OSError, atomic.CannotWrite):
        pass
    body = f'<img src="{_data_uri(png, "image/png")}" alt="loss and metric curves">'
    train = [r for r in rows if isinstance(r.get("step"), int) and "evaluate" not in r]
    if train:
        last = train[-1]
        cells = "".join(f"<div><code>{escape(k)}</code><b>{_fmt(v)}</b></div>"
                        for k, v in last.items() if k != "step" and not k.startswith("Health/"))
        body += f'<h3>Values at step {last["step"]:,}</h3><div class="kv">{cells}</div>'
    return _section("Curves", body, "curves")


def _settings_text(settings) -> str:
    if not isinstance(settings, dict):
        return '<span class="muted">during training</span>'
    return ", ".join(f"{escape(str(k))}=<code>{escape(str(v))}</code>" for k, v in settings.items())


def _metrics_section(rows: list[dict]) -> str:
    records = [r for r in rows if "evaluate" in r or any(str(k).startswith("Metric/") for k in r)]
    if not records:
        return _section("Metrics", '<p class="muted">no evaluations recorded '
                        "(run <code>ganforge evaluate RUN_DIR</code>)</p>", "metrics")
    table = []
    for r in records:
        metrics = "<br>".join(f"<code>{escape(k[7:])}</code> = {_fmt(v)}" for k, v in r.items()
                              if str(k).startswith("Metric/"))
        source = escape(str(r["evaluate"])) if "evaluate" in r else "training"
        step = _fmt(r.get("step")) if "step" in r else '<span class="muted">after training</span>'
        table.append([step, source, metrics, _settings_text(r.get("settings"))])
    return _section("Metrics", _table(["step", "recorded by", "metrics", "settings"], table), "metrics")


def throughput(rows: list[dict]) -> dict[str, float]:
    """Median and last images/s and steps/s, and the training time the logged rates imply."""
    data = plots.series(rows)
    out: dict[str, float] = {}
    for name in ("Speed/images_per_s", "Speed/steps_per_s"):
        if name in data:
            vals = [v for v in data[name][1] if math.isfinite(v) and v > 0]
            if vals:
                key = name.split("/")[1]
                out[f"{key} median"], out[f"{key} last"] = statistics.median(vals), vals[-1]
    if "Speed/steps_per_s" in data:
        steps, rate = data["Speed/steps_per_s"]
        prev, seconds = 0.0, 0.0
        for s, r in zip(steps, rate):
            if math.isfinite(r) and r > 0:
                seconds += max(s - prev, 0) / r
            prev = s
        out["training seconds"] = seconds
    return out


def _hardware_section(run_dir: Path, cfg: dict, rows: list[dict]) -> str:
    info = _read_json(run_dir / "run_info.json")
    if info:
        hw = [[HARDWARE_KEYS.get(k, escape(k)), _fmt(v)] for k, v in
              sorted(info.items(), key=lambda kv: list(HARDWARE_KEYS).index(kv[0]) if kv[0] in HARDWARE_KEYS else 99)]
        note = ""
    else:
        train = cfg.get("train", {}) if isinstance(cfg.get("train"), dict) else {}
        hw = [["device (asked for)", _fmt(train.get("device", "auto"))],
              ["torch threads (asked for)", _fmt(train.get("threads") or "auto")]]
        note = '<p class="muted">run_info.json not found: only what the config asked for is known.</p>'
    speed = throughput(rows)
    labels = {"images_per_s median": "images/s (median)", "images_per_s last": "images/s (last interval)",
              "steps_per_s median": "steps/s (median)", "steps_per_s last": "steps/s (last interval)",
              "training seconds": "training time (from logged rates)"}
    sp = [[labels[k], _duration(v) if k == "training seconds" else _fmt(v)] for k, v in speed.items()]
    body = (f'<div class="pics"><div style="flex:1;min-width:300px"><h3>Hardware</h3>{_table(None, hw)}'
            f'{note}</div><div style="flex:1;min-width:300px"><h3>Throughput</h3>'
            f'{_table(None, sp) if sp else "<p class=muted>no Speed/* stats logged</p>"}</div></div>')
    return _section("Hardware and throughput", body, "hardware")


def _config_section(text: str | None) -> str:
    body = f'<pre class="cfg">{escape(text)}</pre>' if text else '<p class="muted">no config.yaml in this run</p>'
    return _section("Config", body, "config")


def _header(run_dir: Path, cfg: dict, rows: list[dict], alarms: list[dict]) -> str:
    data = cfg.get("data", {}) if isinstance(cfg.get("data"), dict) else {}
    model = cfg.get("model", {}) if isinstance(cfg.get("model"), dict) else {}
    total = (cfg.get("train") or {}).get("steps") if isinstance(cfg.get("train"), dict) else None
    steps = [r["step"] for r in rows if isinstance(r.get("step"), int)]
    done = max(steps, default=0)
    finished = (run_dir / "model" / "model.safetensors").is_file()
    what = " · ".join(escape(str(x)) for x in (cfg.get("preset"), data.get("source"), model.get("family"),
                                                (cfg.get("loss") or {}).get("name") if isinstance(cfg.get("loss"), dict) else None) if x)
    status = "finished, model exported" if finished else "not finished (no exported model)"
    speed = throughput(rows).get("images_per_s median")
    cards = [(f"{done:,}" + (f" / {total:,}" if isinstance(total, int) else ""), "steps logged"),
             (status, "status"), (_fmt(speed) if speed else "—", "images/s (median)"),
             (f"{len(alarms)}", "health alarms")]
    card_html = "".join(f'<div class="card"><b>{c}</b><span>{escape(s)}</span></div>' for c, s in cards)
    return (f"<header><h1>ganforge run: {escape(run_dir.resolve().name)}</h1><p>{what} · report written "
            f"{time.strftime('%Y-%m-%d %H:%M')}</p></header><main><section><div class=\"cards\">{card_html}</div></section>")


# ----------------------------------------------------------------- the page
def render(run_dir: str | Path) -> str:
    """The report page as a string (builds the timelapse GIF and curves.png on the way)."""
    d = check_run_dir(run_dir)
    rows = _read_jsonl(d / "metrics.jsonl")
    cfg_text = (d / "config.yaml").read_text() if (d / "config.yaml").is_file() else None
    try:
        cfg = yaml.safe_load(cfg_text) if cfg_text else {}
    except yaml.YAMLError:
        cfg = {}
    cfg = cfg if isinstance(cfg, dict) else {}
    alarms = alarms_of(d, rows)
    parts = [_header(d, cfg, rows, alarms), _alarms_section(alarms), _pictures_section(d),
             _curves_section(d, rows), _metrics_section(rows), _hardware_section(d, cfg, rows),
             _config_section(cfg_text), "</main>"]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>ganforge report: {escape(d.resolve().name)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(parts)}</body></html>")


def write_report(run_dir: str | Path) -> Path:
    """Write RUN_DIR/report.html (one self-contained page) and return its path.

    >>> from ganforge.viz.report import write_report
    >>> write_report("runs/ring8")
    PosixPath('runs/ring8/report.html')
    """
    d = check_run_dir(run_dir)
    _check_writable(d)
    page = render(d)
    return atomic.write_text(d / "report.html", page)

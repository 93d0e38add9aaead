"""OUT/report.html of `ganforge augment`: the downstream table, the settings, and a grid of
real beside synthetic images of every class (one self-contained file, pictures inline)."""

from __future__ import annotations

import base64
import io
import json
from html import escape
from pathlib import Path

import torch

from ganforge import atomic
from ganforge.augmentation.evaluate import format_table
from ganforge.viz.grid import image_grid
from ganforge.viz.report import CSS

SHOWN = 8  # images of each class in each grid row


def _grid(x: torch.Tensor, y: torch.Tensor, classes: int) -> str:
    """A data URI of a PNG: one row per class, SHOWN images each (blank where fewer)."""
    rows = []
    for c in range(classes):
        xc = x[y == c][:SHOWN]
        pad = torch.zeros((SHOWN - len(xc), *x.shape[1:]), dtype=x.dtype)
        rows.append(torch.cat([xc, pad]))
    picture = image_grid(torch.cat(rows).float() / 127.5 - 1, nrow=SHOWN)
    scale = max(1, 240 // picture.width)
    picture = picture.resize((picture.width * scale, picture.height * scale), 0)  # 0: nearest, sharp pixels
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def write_report(out: Path, result: dict, real, synthetic, class_names: list[str]) -> Path:
    table = result.get("evaluation")
    minority = result["settings"].get("minority")
    text = (format_table(table, class_names[minority] if minority is not None else None) if table
            else "no downstream check (run with --evaluate)")
    k = len(class_names)
    pictures = (f'<figure><img src="{_grid(*real, k)}" alt="real"><figcaption>real (one row per class: '
                f'{escape(", ".join(class_names))})</figcaption></figure>'
                f'<figure><img src="{_grid(*synthetic, k)}" alt="synthetic"><figcaption>synthetic, kept by the '
                f'filter {escape(str(result["settings"]["filter"]))}</figcaption></figure>')
    settings = {k: v for k, v in result.items() if k in ("settings", "data", "gan")}
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>augment: {escape(result['data']['name'])}"
            f"</title><style>{CSS}figure{{display:inline-block;margin:8px}}</style></head><body>"
            f"<header><h1>ganforge augment: {escape(result['data']['name'])}</h1><p>tested on the "
            f"{escape(result['data']['test_split'])}</p></header><main>"
            f"<section><h2>Downstream check</h2><pre>{escape(text)}</pre></section>"
            f"<section><h2>Real and synthetic</h2>{pictures}</section>"
            f"<section><h2>Settings</h2><pre>{escape(json.dumps(settings, indent=1))}</pre></section>"
            "</main></body></html>")
    return atomic.write_text(out / "report.html", html)

"""Provenance: every file written from a model says that it was generated, by which ganforge,
which model (a short sha256 of its weights) and which seed, so generated pictures, music and
arrays can be told from real ones and traced back to the model that made them.

One record, a flat dict of short strings, carried the way each format carries text:

  .png   a text chunk `ganforge-provenance` (plus `Software`)   Pillow's PngInfo
  .gif   the GIF comment extension
  .mid   a MIDI text meta event at time 0 (on the tempo track)
  .wav   a RIFF LIST/INFO chunk: ICMT (the record) and ISFT (the software)
  .npy   a JSON sidecar `x.npy.json` (NPY has no room for metadata)
  .smi   a first comment line `# ganforge-provenance {json}` (SMILES and CSV files of molecules)
  .csv
  .txt   (lines of generated text)

In every format but the sidecar the record is the text `ganforge-provenance {json}`: readable by
any tool that shows comments, and parsed back by `read`. `ganforge inspect FILE` prints it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from datetime import datetime, timezone
from pathlib import Path

from ganforge import atomic
from ganforge.errors import GanforgeError

KEY = "ganforge-provenance"  # the PNG keyword, and the first word of the text elsewhere
UNSAVED = "unsaved model"    # a generator built in memory: no weights file to hash
SHORT = 16                   # hex digits of the sha256 kept (64 bits: collisions need ~4e9 models)
SIDECAR = ".json"            # x.npy -> x.npy.json
MAX_TEXT = 1 << 20           # a record is a few hundred bytes; bigger text chunks are not read
KINDS = (".png", ".gif", ".mid", ".midi", ".wav", ".npy", ".json", ".smi", ".csv", ".txt")


def software() -> str:
    from ganforge import __version__
    return f"ganforge {__version__}"


def weights_file(model_dir: str | Path) -> Path:
    """An export's (or a run's, RUN/model/) model.safetensors."""
    model_dir = Path(model_dir)
    inner = model_dir / "model" / "model.safetensors"
    return inner if inner.is_file() else model_dir / "model.safetensors"


def model_id(model_dir: str | Path | None) -> str:
    """`sha256:0123456789abcdef` of the model's weights, or "unsaved model" without a file."""
    if model_dir is None or not weights_file(model_dir).is_file():
        return UNSAVED
    digest = hashlib.sha256()
    with open(weights_file(model_dir), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()[:SHORT]}"


def record(model: str, task: str, *, created: bool = True, **fields) -> dict[str, str]:
    """The record of one output: who made it, from which model, how (None fields left out),
    and when (`created=False` leaves the time out, so that a seeded run's files stay bitwise
    reproducible)."""
    out = {"generated_by": software(), "task": task, "model": model}
    out.update({k: str(v) for k, v in fields.items() if v is not None})
    if created:
        out["created"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def stamp_png(path: str | Path, rec: dict) -> Path:
    """Add the record to a PNG already written (a training sample picture), atomically."""
    from PIL import Image
    path = Path(path)
    with Image.open(path) as im:
        im.load()
    return atomic.write(path, lambda f: im.save(f, format="PNG", pnginfo=png_info(rec)))


def text(rec: dict) -> str:
    """The record as one ASCII line (JSON escapes the rest: INFO chunks and GIF comments are bytes)."""
    return f"{KEY} {json.dumps(rec, ensure_ascii=True, separators=(', ', ': '))}"


def parse(line: str | bytes | None) -> dict | None:
    """text(record) -> the record; None for text that is not one."""
    if isinstance(line, bytes):
        line = line.decode("latin-1")
    if not isinstance(line, str) or not line.startswith(KEY + " "):
        return None
    try:
        rec = json.loads(line[len(KEY) + 1:])
    except ValueError:
        return None
    return {str(k): str(v) for k, v in rec.items()} if isinstance(rec, dict) else None


# ----------------------------------------------------------------- writing, per format
def png_info(rec: dict | None):
    """Pillow's PngInfo for `image.save(f, format="PNG", pnginfo=...)`; None without a record."""
    if rec is None:
        return None
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    info.add_text("Software", rec.get("generated_by", software()))
    info.add_text(KEY, text(rec))
    return info


def gif_comment(rec: dict | None) -> dict:
    """Options for Pillow's GIF writer: {"comment": ...}, or {} without a record."""
    return {} if rec is None else {"comment": text(rec).encode("ascii")}


def midi_text(rec: dict):
    """A pretty_midi.Text event at time 0 for PrettyMIDI.text_events."""
    import pretty_midi
    return pretty_midi.Text(text(rec), 0.0)


def comment_line(rec: dict) -> str:
    """The record as a text file's first line, a comment: `# ganforge-provenance {json}`."""
    return f"# {text(rec)}"


def write_sidecar(path: str | Path, rec: dict | None) -> None:
    """x.npy -> x.npy.json beside it, written whole or not at all."""
    if rec is None:
        return
    side = Path(f"{path}{SIDECAR}")
    tmp = side.with_name(f".{side.name}.tmp")
    try:
        tmp.write_text(json.dumps({KEY: rec}, indent=1) + "\n")
        tmp.replace(side)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise GanforgeError(f"cannot write {side}: {e.strerror or e}") from None


def _info_entry(tag: bytes, value: str) -> bytes:
    data = value.encode("ascii", "replace") + b"\0"  # INFO strings are NUL-terminated
    return tag + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")  # even-aligned


def wav_with_info(wav: bytes, rec: dict | None) -> bytes:
    """A RIFF/WAVE file's bytes with a LIST/INFO chunk (ICMT: the record, ISFT: the software)
    appended and the RIFF size fixed: scipy's writer has no way to add one."""
    if rec is None:
        return wav
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    body = b"INFO" + _info_entry(b"ISFT", rec.get("generated_by", software())) + _info_entry(b"ICMT", text(rec))
    out = wav + b"LIST" + struct.pack("<I", len(body)) + body
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


# ----------------------------------------------------------------- reading
def read(path: str | Path) -> dict | None:
    """The record a file carries, or None if it has none. A GanforgeError (one line) for a
    missing file, a kind of file this does not know, or one that cannot be parsed."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise GanforgeError(f"{path}: no such file")
    if suffix not in KINDS:
        raise GanforgeError(f"{path}: not a kind of file ganforge writes provenance into "
                            f"(expected {', '.join(KINDS)})")
    reader = {".png": _read_image, ".gif": _read_image, ".mid": _read_midi, ".midi": _read_midi,
              ".wav": _read_wav, ".npy": _read_npy, ".json": _read_sidecar, ".smi": _read_text,
              ".csv": _read_text, ".txt": _read_text}[suffix]
    return reader(path)


def _read_image(path: Path) -> dict | None:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            kind = im.format
            im.load()  # PNG text chunks after the image data are read with it
            found = im.info.get(KEY) or im.info.get("comment")
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise GanforgeError(f"{path}: not a readable {path.suffix[1:].upper()} image") from None
    expected = path.suffix[1:].upper()
    if kind != expected:
        raise GanforgeError(f"{path}: a {kind} image under a {path.suffix} name (expected a real {expected})")
    return parse(found)


def _read_midi(path: Path) -> dict | None:
    import mido
    try:
        midi = mido.MidiFile(str(path))
    except Exception:  # noqa: BLE001  (mido raises many kinds on damaged files, as in data/scores.py)
        raise GanforgeError(f"{path}: not a readable MIDI file") from None
    for track in midi.tracks:
        for msg in track:
            if msg.is_meta and msg.type in ("text", "marker") and (rec := parse(msg.text)):
                return rec
    return None


def _read_wav(path: Path) -> dict | None:
    """Walk the RIFF chunks (a bounded read each) to the LIST/INFO chunk's ICMT."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise GanforgeError(f"{path}: not a RIFF/WAVE file")
        size = os.fstat(f.fileno()).st_size
        while f.tell() + 8 <= size:
            tag, length = struct.unpack("<4sI", f.read(8))
            if tag == b"LIST" and length <= MAX_TEXT:
                rec = _info_comment(f.read(length))
                if rec is not None:
                    return rec
            else:
                f.seek(length + length % 2, io.SEEK_CUR)
    return None


def _info_comment(body: bytes) -> dict | None:
    if body[:4] != b"INFO":
        return None
    at = 4
    while at + 8 <= len(body):
        tag, length = struct.unpack("<4sI", body[at:at + 8])
        if tag == b"ICMT":
            return parse(body[at + 8:at + 8 + length].rstrip(b"\0"))
        at += 8 + length + length % 2
    return None


def _read_text(path: Path) -> dict | None:
    """The first line of a text file, if it is the record's comment."""
    with open(path, "rb") as f:
        first = f.readline(MAX_TEXT)
    return parse(first[2:].rstrip(b"\r\n")) if first.startswith(b"# ") else None


def _read_npy(path: Path) -> dict | None:
    side = Path(f"{path}{SIDECAR}")
    return _read_sidecar(side) if side.is_file() else None


def _read_sidecar(path: Path) -> dict | None:
    try:
        if path.stat().st_size > MAX_TEXT:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise GanforgeError(f"{path}: not a readable JSON file") from None
    rec = data.get(KEY) if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in rec.items()} if isinstance(rec, dict) else None


def describe(rec: dict) -> list[str]:
    """One `field: value` line per field, the names aligned."""
    width = max(map(len, rec))
    return [f"{k + ':':<{width + 1}} {v}" for k, v in rec.items()]

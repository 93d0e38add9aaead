"""Validation of every message a page sends over the websocket.

`parse(text)` returns a checked dict (types and ranges enforced, unknown keys refused) or
raises `BadMessage` with one line for the page's error frame. Nothing from the page reaches
the models unchecked.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import warnings
from typing import Any

from ganforge.playground.lab import DISTRIBUTIONS, LAB_LOSSES, OPTIMIZERS

COMMAND_BYTES = 64 * 1024       # every message but a studio request; bounds a drawn-points upload too (~40 KB)
MAX_POINTS = 2000               # drawn points per upload
MIN_POINTS = 3
POINT_RANGE = 10.0              # |x|, |y| of a drawn point

# setting -> (type, low, high) or the allowed strings
SETTINGS: dict[str, tuple] = {
    "distribution": DISTRIBUTIONS,
    "loss": LAB_LOSSES,
    "optimizer": OPTIMIZERS,
    "lr_g": (float, 1e-6, 0.1),
    "lr_d": (float, 1e-6, 0.1),
    "n_critic": (int, 1, 10),
    "width": (int, 4, 512),
    "depth": (int, 1, 4),
    "batch_size": (int, 16, 2048),
    "seed": (int, 0, 2**31 - 1),
}
IMAGE_LIMITS = {"seed": (int, 0, 2**31 - 1), "n": (int, 1, 64), "steps": (int, 2, 16),
                "a": (int, 0, 63), "b": (int, 0, 63), "basis": ("principal", "random")}
DIRECTIONS = 4                  # latent-direction sliders
DIRECTION_RANGE = 3.0           # slider values in [-3, 3] (principal: the component's std; random: z's)
STUDIO_TASKS = ("upscale", "repair", "sketch")  # studio.py's TASKS
MAX_IMAGE_BYTES = 4 * 2**20     # an uploaded image (PNG or JPEG), decoded from base64
MAX_MASK_BYTES = 2**20          # a painted mask (a black and white PNG compresses ~50x)
MAX_PIXELS = 2**22              # width x height of an upload (2048 x 2048), read from its header before decoding
MAX_NAME = 128                  # the upload's file name, kept in the result's provenance
# the largest message the socket takes: a repair request (image + mask in base64, 4/3 their size)
MAX_MESSAGE_BYTES = (MAX_IMAGE_BYTES + MAX_MASK_BYTES) * 4 // 3 + 4096
FORMATS = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}  # magic bytes -> Pillow's format name


class BadMessage(ValueError):
    """A message the page should not have sent; its text goes back in an error frame, with
    `about` (the request, a studio task and id) so that the page can show it where it was asked."""

    about: dict = {}


def _number(name: str, value: Any, kind: type, lo: float, hi: float) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadMessage(f"'{name}' must be a number, got {type(value).__name__}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise BadMessage(f"'{name}' must be a whole number, got {value}")
        value = int(value)
    value = float(value) if kind is float else value
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadMessage(f"'{name}' must be between {lo:g} and {hi:g}, got {value}")
    return value


def _checked(name: str, value: Any, rule: tuple) -> Any:
    if isinstance(rule[0], str):  # a choice of names
        if value not in rule:
            raise BadMessage(f"'{name}' must be one of {', '.join(rule)}, got {str(value)[:40]!r}")
        return value
    return _number(name, value, *rule)


def _fields(msg: dict, rules: dict[str, tuple], allowed_extra: tuple[str, ...] = ("type",)) -> dict:
    unknown = sorted(set(msg) - set(rules) - set(allowed_extra))
    if unknown:
        raise BadMessage(f"unknown field '{unknown[0][:40]}' in '{msg['type']}'")
    return {k: _checked(k, msg[k], rules[k]) for k in rules if k in msg}


def _points(value: Any) -> list[list[float]]:
    if not isinstance(value, list) or not MIN_POINTS <= len(value) <= MAX_POINTS:
        raise BadMessage(f"'points' must be a list of {MIN_POINTS} to {MAX_POINTS} [x, y] pairs")
    out = []
    for p in value:
        if not isinstance(p, list) or len(p) != 2:
            raise BadMessage("each point must be an [x, y] pair")
        out.append([_number("point", v, float, -POINT_RANGE, POINT_RANGE) for v in p])
    return out


def _settings(msg: dict) -> dict:
    settings = msg.get("settings")
    if not isinstance(settings, dict):
        raise BadMessage("'settings' must be an object")
    return {"type": "settings", "settings": _fields({"type": "settings", **settings}, SETTINGS)}


def _directions(msg: dict) -> dict:
    _fields(msg, {}, ("type", "values"))
    values = msg.get("values")
    if not isinstance(values, list) or len(values) != DIRECTIONS:
        raise BadMessage(f"'values' must be a list of {DIRECTIONS} numbers")
    return {"type": msg["type"], "values": [_number("value", v, float, -DIRECTION_RANGE, DIRECTION_RANGE)
                                            for v in values]}


def _path_value(path: Any) -> str:
    # (containment in --runs is checked where the folder is opened: runs.resolve)
    if not isinstance(path, str) or not 0 < len(path) <= 512:
        raise BadMessage("'path' must be a non-empty string (a run or model under --runs)")
    return path


def _path(msg: dict) -> dict:
    _fields(msg, {}, ("type", "path"))
    return {"type": msg["type"], "path": _path_value(msg.get("path"))}


def _picture(value: Any, field: str, limit: int, formats: tuple[str, ...]) -> tuple[bytes, tuple[int, int]]:
    """A data URL of a PNG/JPEG -> (its bytes, (width, height) as shown), checked from the
    header: size in bytes and pixels bounded, so that nothing large is ever decoded."""
    if not isinstance(value, str) or not value.startswith("data:image/") or ";base64," not in value[:40]:
        raise BadMessage(f"'{field}' must be an image as a data URL (data:image/png;base64,...)")
    payload = value.split(";base64,", 1)[1]
    if len(payload) * 3 // 4 > limit + 2:
        raise BadMessage(f"the {field} is too large ({len(payload) * 3 // 4 / 2**20:.1f} MB; at most "
                         f"{limit / 2**20:g} MB)")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage(f"'{field}' is not valid base64") from None
    kind = next((name for magic, name in FORMATS.items() if data.startswith(magic)), None)
    if kind not in formats:
        raise BadMessage(f"the {field} must be a {' or '.join(formats)} file")
    from PIL import Image  # (the header only: Pillow decodes pixels when asked, not on open)
    too_many = f"at most {MAX_PIXELS / 1e6:.1f} million pixels (2048x2048)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # (refused below, in one line)
            with Image.open(io.BytesIO(data), formats=[kind]) as im:
                w, h = im.size
                # EXIF orientation shown a quarter turn round, as the studio decodes it (open_image):
                # a JPEG's EXIF is in its header, a PNG's eXIf chunk before its pixels is in im.info
                # (its getexif() would decode the whole image to look for one after them)
                exif = im.getexif() if kind == "JPEG" else Image.Exif()
                if kind == "PNG" and im.info.get("exif"):
                    exif.load(im.info["exif"])
                turned = exif.get(0x0112) in (5, 6, 7, 8)
    except Image.DecompressionBombError:
        raise BadMessage(f"the {field} has far too many pixels: {too_many}") from None
    except Exception:  # noqa: BLE001 -- any failure to read a header is a corrupt upload
        raise BadMessage(f"the {field} is not a readable {kind} (corrupt or cut short)") from None
    if not (0 < w * h <= MAX_PIXELS):
        raise BadMessage(f"the {field} is {w}x{h} px: {too_many}")
    return data, ((h, w) if turned else (w, h))


def _studio(msg: dict) -> dict:
    """studio.run: a task, a model under --runs, an image (and a mask the image's size, for repair)."""
    _fields(msg, {}, ("type", "task", "path", "image", "mask", "name", "id"))
    out = {"type": msg["type"], "task": _checked("task", msg.get("task"), STUDIO_TASKS),
           "path": _path_value(msg.get("path"))}
    if "id" in msg:
        out["id"] = _number("id", msg["id"], int, 0, 2**31 - 1)
    if "name" in msg:
        name = msg["name"]
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise BadMessage(f"'name' must be a file name of at most {MAX_NAME} characters")
        out["name"] = "".join(ch for ch in name if ch.isprintable()) or None
    out["image"], size = _picture(msg.get("image"), "image", MAX_IMAGE_BYTES, ("PNG", "JPEG"))
    if out["task"] == "repair":
        out["mask"], mask_size = _picture(msg.get("mask"), "mask", MAX_MASK_BYTES, ("PNG",))
        if mask_size != size:
            raise BadMessage(f"the mask is {mask_size[0]}x{mask_size[1]} but the image is {size[0]}x{size[1]} "
                             "(width x height): paint the mask over the image itself")
    elif "mask" in msg:
        raise BadMessage(f"'mask' is for the repair task, not {out['task']}")
    out["size"] = size
    return out


def _studio_checked(msg: dict) -> dict:
    try:
        return _studio(msg)
    except BadMessage as e:  # said in the studio, beside the task it was for
        task, ident = msg.get("task"), msg.get("id")
        e.about = {"request": msg["type"], "task": task if task in STUDIO_TASKS else None,
                   "id": ident if isinstance(ident, int) and not isinstance(ident, bool) else None}
        raise


SIMPLE = {"ack": {}, "play": {}, "pause": {}, "reset": {}, "step_d": {}, "step_g": {}, "image.close": {},
          "image.sample": {k: IMAGE_LIMITS[k] for k in ("seed", "n")},
          "image.interpolate": {k: IMAGE_LIMITS[k] for k in ("a", "b", "steps")},
          "image.basis": {"basis": IMAGE_LIMITS["basis"]}}
SPECIAL = {"settings": _settings, "image.directions": _directions, "image.open": _path,
           "studio.run": _studio_checked,
           "points": lambda m: {"type": "points", "points": _points(m.get("points")),
                                **_fields({k: v for k, v in m.items() if k != "points"}, {})}}


def parse(text: str | bytes) -> dict:
    """A page's message -> a validated dict with a 'type'; raises BadMessage otherwise."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"message too large ({len(text)} bytes; at most {MAX_MESSAGE_BYTES})")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        raise BadMessage("message is not valid JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise BadMessage("message must be a JSON object with a string 'type'")
    kind = msg["type"]
    if kind != "studio.run" and len(text) > COMMAND_BYTES:  # (only a studio request carries pictures)
        raise BadMessage(f"message too large ({len(text)} bytes; at most {COMMAND_BYTES} but for a studio request)")
    if kind in SPECIAL:
        return SPECIAL[kind](msg)
    if kind in SIMPLE:
        return {"type": kind, **_fields(msg, SIMPLE[kind])}
    raise BadMessage(f"unknown message type '{kind[:40]}'")

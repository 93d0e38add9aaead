"""Validation of every message a page sends over the websocket.

`parse(text)` returns a checked dict (types and ranges enforced, unknown keys refused) or
raises `BadMessage` with one line for the page's error frame. Nothing from the page reaches
the models unchecked.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ganforge.playground.lab import DISTRIBUTIONS, LAB_LOSSES, OPTIMIZERS

MAX_MESSAGE_BYTES = 64 * 1024   # bounds a drawn-points upload too (2,000 points ~ 40 KB)
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


class BadMessage(ValueError):
    """A message the page should not have sent; its text goes back in an error frame."""


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


def _path(msg: dict) -> dict:
    _fields(msg, {}, ("type", "path"))
    path = msg.get("path")
    if not isinstance(path, str) or not 0 < len(path) <= 512:
        raise BadMessage("'path' must be a non-empty string (a run or model under --runs)")
    return {"type": msg["type"], "path": path}


SIMPLE = {"ack": {}, "play": {}, "pause": {}, "reset": {}, "step_d": {}, "step_g": {}, "image.close": {},
          "image.sample": {k: IMAGE_LIMITS[k] for k in ("seed", "n")},
          "image.interpolate": {k: IMAGE_LIMITS[k] for k in ("a", "b", "steps")},
          "image.basis": {"basis": IMAGE_LIMITS["basis"]}}
SPECIAL = {"settings": _settings, "image.directions": _directions, "image.open": _path,
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
    if kind in SPECIAL:
        return SPECIAL[kind](msg)
    if kind in SIMPLE:
        return {"type": kind, **_fields(msg, SIMPLE[kind])}
    raise BadMessage(f"unknown message type '{kind[:40]}'")

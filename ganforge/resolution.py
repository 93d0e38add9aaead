"""Image resolutions: what users write and what tensors are.

Users write a side (``64``: 64x64) or ``WIDTHxHEIGHT`` as image sizes are usually given
(``"64x48"``: 64 wide, 48 tall). Everything inside works on ``(height, width)``, the order
of the last two tensor dimensions. Model hparams keep an int for square images and
``[height, width]`` otherwise, so square exports stay as they were.
"""

from __future__ import annotations

import re
from typing import Any

from ganforge.errors import GanforgeError

Resolution = int | str | tuple[int, int] | list[int]  # 64, "64x48", (48, 64) or [48, 64]
MAX_SIDE = 8192  # pixels a side: beyond, one image alone is gigabytes of floats in a network
EXPECTED = "a positive side such as 64, or WIDTHxHEIGHT such as 64x48"
# "64" or "64x48" (width x height); at most 6 digits a side, so int() never meets 5,000 of them
_TEXT = re.compile(r"\s*([0-9]{1,6})\s*(?:[xX×]\s*([0-9]{1,6})\s*)?")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."  # a pasted 5,000-digit side stays one short line


def size(value: Any) -> tuple[int, int] | None:
    """(height, width) of a resolution given as an int, "64", "64x48" or [h, w]; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise GanforgeError(f"resolution must be {EXPECTED}, got {_shown(value)}")
    if isinstance(value, int):
        hw = (value, value)
    elif isinstance(value, str) and (m := _TEXT.fullmatch(value)):
        w, h = m.group(1), m.group(2) or m.group(1)
        hw = (int(h), int(w))
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        hw = (value[0], value[1])
    else:
        raise GanforgeError(f"resolution must be {EXPECTED}, got {_shown(value)}")
    if min(hw) < 1:
        raise GanforgeError(f"resolution must be {EXPECTED}, got {_shown(value)}")
    if max(hw) > MAX_SIDE:
        raise GanforgeError(f"resolution must be at most {MAX_SIDE} pixels a side, got {_shown(value)}")
    return hw


def canonical(value: Any) -> int | str | None:
    """The form a config keeps: an int side for square images, "WxH" otherwise."""
    hw = size(value)
    if hw is None:
        return None
    return hw[0] if hw[0] == hw[1] else f"{hw[1]}x{hw[0]}"


def hparam(hw: tuple[int, int]) -> int | list[int]:
    """The form model hparams keep: an int for square images, [height, width] otherwise."""
    return hw[0] if hw[0] == hw[1] else [hw[0], hw[1]]


def describe(hw: tuple[int, int]) -> str:
    """"64 px" for square images, "64x48 (width x height)" otherwise, for messages."""
    return f"{hw[0]} px" if hw[0] == hw[1] else f"{hw[1]}x{hw[0]} (width x height)"

"""Colour parsing shared by every node: names, ``#rgb``/``#rrggbb``/``#rrggbbaa`` and tuples."""

from __future__ import annotations

from functools import lru_cache
from typing import Union

from PIL import ImageColor

Color = Union[str, tuple[int, int, int], tuple[int, int, int, int]]


@lru_cache(maxsize=1024)
def _parse_str(value: str) -> tuple[int, int, int, int]:
    try:
        rgba = ImageColor.getcolor(value, "RGBA")
    except ValueError as exc:
        raise ValueError(
            f"unknown colour {value!r}: use a name like 'white', '#rrggbb', '#rrggbbaa' or an (r, g, b[, a]) tuple"
        ) from exc
    return tuple(rgba)  # type: ignore[return-value]


def to_rgba(value: Color) -> tuple[int, int, int, int]:
    """Normalise a colour to an ``(r, g, b, a)`` tuple of 0..255 ints."""
    if isinstance(value, str):
        return _parse_str(value)
    if isinstance(value, tuple) and len(value) in (3, 4) and all(isinstance(c, int) and 0 <= c <= 255 for c in value):
        return (value[0], value[1], value[2], value[3] if len(value) == 4 else 255)
    raise ValueError(f"bad colour {value!r}: use a name, '#rrggbb[aa]' or an (r, g, b[, a]) tuple of 0..255 ints")

"""``Text``: a block of text in a bundled font, optionally word-wrapped to a width and aligned.

Rendering text is the expensive part of a frame, so the shaped block is cached as an alpha mask
keyed by everything that affects its shape (text, font, width, alignment, spacing); colour and
opacity are applied at paste time, so recolouring or fading a text never re-renders glyphs.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from . import fonts
from .colors import Color, to_rgba
from .geometry import Rect
from .node import Node, prop
from .nodes import _Faded

Align = Literal["left", "center", "right"]
_ALIGNS = ("left", "center", "right")

_CACHE_SIZE = 256
_mask_cache: "OrderedDict[tuple, PILImage.Image]" = OrderedDict()


def wrap_lines(text: str, font: ImageFont.FreeTypeFont, width: int | None) -> list[str]:
    """Split ``text`` into display lines: at newlines, then greedily at spaces to fit ``width`` pixels.

    A single word wider than ``width`` is broken between characters so nothing is ever cut off.
    """
    out: list[str] = []
    for paragraph in text.split("\n"):
        if width is None or font.getlength(paragraph) <= width:
            out.append(paragraph)
            continue
        line = ""
        for word in paragraph.split(" "):
            candidate = word if not line else f"{line} {word}"
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                out.append(line)
            line = ""
            while font.getlength(word) > width and len(word) > 1:
                cut = _fit_prefix(word, font, width)
                out.append(word[:cut])
                word = word[cut:]
            line = word
        out.append(line)
    return out


def _fit_prefix(word: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    lo, hi = 1, len(word)
    while lo < hi:  # the longest prefix (at least one character) that fits
        mid = (lo + hi + 1) // 2
        if font.getlength(word[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def render_mask(
    text: str, size: int, *, bold: bool, mono: bool, width: int | None, align: Align, line_spacing: float,
) -> PILImage.Image:
    """The text as an 'L' alpha mask (cached; callers must not modify it)."""
    key = (text, size, bold, mono, width, align, line_spacing)
    mask = _mask_cache.get(key)
    if mask is not None:
        _mask_cache.move_to_end(key)
        return mask
    font = fonts.get(size, mono=mono, bold=bold)
    ascent, descent = font.getmetrics()
    line_h = max(ascent + descent, round(size * line_spacing))
    lines = wrap_lines(text, font, width)
    widths = [font.getlength(line) for line in lines]
    box_w = width if width is not None else max(1, int(max(widths, default=0) + 0.999))
    mask = PILImage.new("L", (max(1, box_w), max(1, line_h * len(lines))), 0)
    draw = ImageDraw.Draw(mask)
    for i, (line, w) in enumerate(zip(lines, widths)):
        x = {"left": 0, "center": (box_w - w) / 2, "right": box_w - w}[align]
        draw.text((x, i * line_h + (line_h - ascent - descent) // 2), line, font=font, fill=255)
    _mask_cache[key] = mask
    if len(_mask_cache) > _CACHE_SIZE:
        _mask_cache.popitem(last=False)
    return mask


def _align(value: str) -> str:
    if value not in _ALIGNS:
        raise ValueError(f"align must be one of {_ALIGNS}, got {value!r}")
    return value


def _width(value: int | None) -> int | None:
    if value is not None and int(value) <= 0:
        raise ValueError(f"text width must be positive or None, got {value}")
    return None if value is None else int(value)


class Text(Node):
    """Text in DejaVu Sans (or Sans Mono with ``mono=True``).

    ``width=None`` keeps each line on one line; a width wraps at spaces and aligns each line
    (``left``/``center``/``right``) inside that width.  ``size`` is the font size in pixels.
    """

    text = prop("text", str)
    size = prop("size", int)
    color = prop("color", to_rgba)
    bold = prop("bold", bool)
    mono = prop("mono", bool)
    width = prop("width", _width)
    align = prop("align", _align)
    line_spacing = prop("line_spacing", float)

    def __init__(
        self, text: str = "", *, x: int = 0, y: int = 0, size: int = 24, color: Color = "white",
        bold: bool = False, mono: bool = False, width: int | None = None, align: Align = "left",
        line_spacing: float = 1.2, **kw,
    ) -> None:
        super().__init__(x=x, y=y, **kw)
        self._text, self._size, self._color = str(text), int(size), to_rgba(color)
        self._bold, self._mono = bool(bold), bool(mono)
        self._width, self._align = _width(width), _align(align)
        self._line_spacing = float(line_spacing)
        self._faded = _Faded()

    def _mask(self) -> PILImage.Image:
        return render_mask(
            self._text, self._size, bold=self._bold, mono=self._mono, width=self._width,
            align=self._align, line_spacing=self._line_spacing,  # type: ignore[arg-type]
        )

    def local_bounds(self) -> Rect:
        if not self._text:
            return Rect(self._x, self._y, 0, 0)
        w, h = self._mask().size
        return Rect(self._x, self._y, w, h)

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        if not self._text:
            return
        mask = self._mask()
        canvas.paste(self._color[:3], (ox, oy), self._faded.get(mask, opacity * self._color[3] / 255))

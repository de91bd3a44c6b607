"""Pixels for a terminal grid: pyte colours → RGB, and a glyph-cell cache to build rows fast.

Drawing a 160x45 terminal with Pillow text calls costs 52–93 ms; composing a row from cached
cell images (one numpy concatenate) costs tens of microseconds.  Cells are keyed by everything
that changes their pixels: character, colours, bold, underline, strikethrough.
"""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw

from . import fonts

RGB = tuple[int, int, int]

# xterm's default palette for the 16 named colours pyte reports.
_NAMED: dict[str, RGB] = {
    "black": (0, 0, 0), "red": (205, 0, 0), "green": (0, 205, 0), "brown": (205, 205, 0),
    "blue": (0, 0, 238), "magenta": (205, 0, 205), "cyan": (0, 205, 205), "white": (229, 229, 229),
    "brightblack": (127, 127, 127), "brightred": (255, 0, 0), "brightgreen": (0, 255, 0),
    "brightbrown": (255, 255, 0), "brightblue": (92, 92, 255), "brightmagenta": (255, 0, 255),
    "brightcyan": (0, 255, 255), "brightwhite": (255, 255, 255),
}
_NAMED["yellow"] = _NAMED["brown"]
_NAMED["brightyellow"] = _NAMED["brightbrown"]
_NAMED["bfightmagenta"] = _NAMED["brightmagenta"]  # pyte 0.8's spelling of background 105


def color_rgb(value: str, default: RGB) -> RGB:
    """A pyte colour ('default', a name, or 'rrggbb' hex for 256-colour and truecolour) as RGB."""
    if value == "default":
        return default
    named = _NAMED.get(value)
    if named is not None:
        return named
    try:
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except (ValueError, IndexError):
        return default


class GlyphCells:
    """Renders and caches character cells of one monospace font size."""

    def __init__(self, font_size: int, fg: RGB, bg: RGB, cache_size: int = 8192) -> None:
        self.fg, self.bg = fg, bg
        self.font = fonts.mono(font_size)
        self.bold_font = fonts.mono(font_size, bold=True)
        self.cell_w = max(1, round(self.font.getlength("M")))
        # Line height from the ink of tall and deep glyphs, not the font's (generous) ascent, so
        # a 13 px font gives 16 px rows: 45 rows in 720 px, like the recipe's 160x45 xterm.
        top, bottom = self._ink_span("ÁÉMgjpqy|_()[]{}")
        self.line_h = max(1, round(font_size * 1.2), bottom - top + 1)
        self._y = (self.line_h - (bottom - top)) // 2 - top
        self._cache: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
        self._cache_size = cache_size
        self._blank = np.empty((self.line_h, self.cell_w, 3), np.uint8)
        self._blank[:] = bg

    def _ink_span(self, sample: str) -> tuple[int, int]:
        _, top, _, bottom = self.font.getbbox(sample)
        return top, bottom

    def cell(self, char: Any) -> np.ndarray:
        """Pixels of one pyte ``Char``: two cells wide for a wide character, zero for pyte's stub
        cell after it, so a row is simply the concatenation of its cells."""
        cached = self._cache.get(char)
        if cached is not None:
            return cached
        if char.data == "":
            arr = self._blank[:, :0]
            self._cache[char] = arr
            return arr
        fg = color_rgb(char.fg, self.fg)
        bg = color_rgb(char.bg, self.bg)
        if char.reverse:
            fg, bg = bg, fg
        wide = unicodedata.east_asian_width(char.data[0]) in "WF"
        width = self.cell_w * (2 if wide else 1)
        im = PILImage.new("RGB", (width, self.line_h), bg)
        if char.data.strip():
            draw = ImageDraw.Draw(im)
            draw.text((0, self._y), char.data, font=self.bold_font if char.bold else self.font, fill=fg)
        if char.underscore:
            im.paste(fg, (0, self.line_h - 1, width, self.line_h))
        if char.strikethrough:
            im.paste(fg, (0, self.line_h // 2, width, self.line_h // 2 + 1))
        arr = np.asarray(im)
        self._cache[char] = arr
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return arr

    def row(self, chars: tuple, columns: int) -> np.ndarray:
        """A (line_h, columns*cell_w, 3) image of one screen line."""
        get = self._cache.get
        parts = [get(ch) for ch in chars]
        for i in [i for i, p in enumerate(parts) if p is None]:  # misses are rendered once
            parts[i] = self.cell(chars[i])
        row = np.concatenate(parts, axis=1)
        want = columns * self.cell_w
        if row.shape[1] < want:  # a stray stub cell, or a wide character pyte measured differently
            row = np.concatenate([row] + [self._blank] * ((want - row.shape[1]) // self.cell_w + 1), axis=1)
        return row[:, :want]

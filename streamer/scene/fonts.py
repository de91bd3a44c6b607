"""The fonts bundled under ``assets/fonts`` (DejaVu, with its licence); never the machine's own.

>>> fonts.sans(24, bold=True)      # a cached PIL FreeTypeFont
>>> fonts.mono(13)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

import streamer

ASSETS_DIR = Path(streamer.__file__).resolve().parents[1] / "assets"
FONTS_DIR = ASSETS_DIR / "fonts"

_FILES = {
    (False, False): "DejaVuSans.ttf",
    (False, True): "DejaVuSans-Bold.ttf",
    (True, False): "DejaVuSansMono.ttf",
    (True, True): "DejaVuSansMono-Bold.ttf",
}


def path(*, mono: bool = False, bold: bool = False) -> Path:
    """Path of the bundled font file for this style."""
    p = FONTS_DIR / _FILES[(mono, bold)]
    if not p.is_file():
        raise FileNotFoundError(f"bundled font {p} is missing: the checkout's assets/fonts directory is incomplete")
    return p


@lru_cache(maxsize=64)
def get(size: int, *, mono: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A cached FreeType font of the bundled family at ``size`` pixels."""
    if size <= 0:
        raise ValueError(f"font size must be positive, got {size}")
    return ImageFont.truetype(str(path(mono=mono, bold=bold)), size)


def sans(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return get(size, mono=False, bold=bold)


def mono(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return get(size, mono=True, bold=bold)

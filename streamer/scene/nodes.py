"""Simple leaf nodes: ``Background`` (colour or picture), ``Panel`` (a filled, optionally rounded and
outlined rectangle) and ``Image`` (a picture from a path or a Pillow image, alpha respected).

Each keeps its pixels pre-rendered and pastes them with Pillow's masked ``paste`` (a full-frame
numpy alpha blend costs ~40 ms; a masked paste of the damaged part costs a fraction of that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageOps

from .colors import Color, to_rgba
from .geometry import Rect
from .node import Node, prop

ImageSource = Union[str, Path, PILImage.Image]


def load_image(source: ImageSource) -> PILImage.Image:
    """Open ``source`` as an RGBA Pillow image, with an error that says what to fix."""
    if isinstance(source, PILImage.Image):
        return source.convert("RGBA")
    path = Path(source)
    try:
        with PILImage.open(path) as im:
            return im.convert("RGBA")
    except FileNotFoundError:
        raise FileNotFoundError(f"image {path} does not exist (paths are relative to the working directory)") from None
    except PILImage.UnidentifiedImageError:
        raise ValueError(f"{path} is not an image Pillow can read (use PNG or JPEG)") from None


class _Faded:
    """Remembers one opacity-scaled copy of an alpha mask (opacity rarely changes every frame)."""

    def __init__(self) -> None:
        self._src: PILImage.Image | None = None
        self._level = -1
        self._mask: PILImage.Image | None = None

    def get(self, mask: PILImage.Image, opacity: float) -> PILImage.Image:
        if opacity >= 1.0:
            return mask
        level = round(opacity * 255)
        if mask is not self._src or level != self._level:
            self._mask = mask.point(lambda v: (v * level + 127) // 255)
            self._src, self._level = mask, level
        return self._mask  # type: ignore[return-value]


class Background(Node):
    """Fills the whole stage with a colour, or with a picture scaled to cover it."""

    color = prop("color", to_rgba)

    def __init__(self, color: Color = "black", *, image: ImageSource | None = None, **kw) -> None:
        super().__init__(**kw)
        self._color = to_rgba(color)
        self._image_src = load_image(image) if image is not None else None
        self._fitted: tuple[tuple[int, int], np.ndarray] | None = None

    @property
    def image(self) -> PILImage.Image | None:
        return self._image_src

    @image.setter
    def image(self, source: ImageSource | None) -> None:
        self._image_src = load_image(source) if source is not None else None
        self._fitted = None
        self._changed()

    def _size(self) -> tuple[int, int]:
        return (self._stage.width, self._stage.height) if self._stage is not None else (1280, 720)

    def local_bounds(self) -> Rect:
        w, h = self._size()
        return Rect(self._x, self._y, w, h)

    def is_opaque(self) -> bool:
        # A picture is composed onto the colour, so the colour's alpha decides.
        return self._color[3] == 255

    def _pixels(self) -> np.ndarray:
        size = self._size()
        if self._fitted is None or self._fitted[0] != size:
            base = PILImage.new("RGB", size, self._color[:3])
            fitted = ImageOps.fit(self._image_src, size)  # type: ignore[arg-type]
            base.paste(fitted, (0, 0), fitted)
            self._fitted = (size, np.asarray(base))
        return self._fitted[1]

    def _blit(self, dst: np.ndarray, sx: int, sy: int) -> None:  # type: ignore[override]
        h, w = dst.shape[:2]
        if self._image_src is None:
            dst[:] = self._color[:3]
        else:
            dst[:] = self._pixels()[sy:sy + h, sx:sx + w]

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        w, h = self._size()
        if self._image_src is None:
            alpha = round(self._color[3] * opacity)
            if alpha >= 255:
                canvas.paste(self._color[:3], (ox, oy, ox + w, oy + h))
            else:
                mask = PILImage.new("L", (w, h), alpha)
                canvas.paste(self._color[:3], (ox, oy), mask)
        else:
            im = PILImage.fromarray(self._pixels())
            if opacity >= 1.0:
                canvas.paste(im, (ox, oy))
            else:
                canvas.paste(im, (ox, oy), PILImage.new("L", (w, h), round(255 * opacity)))


class Panel(Node):
    """A filled rectangle with optional outline and rounded corners; fill may be translucent (#rrggbbaa)."""

    width = prop("width", int)
    height = prop("height", int)
    fill = prop("fill", lambda c: None if c is None else to_rgba(c))
    outline = prop("outline", lambda c: None if c is None else to_rgba(c))
    outline_width = prop("outline_width", int)
    radius = prop("radius", int)

    def __init__(
        self, *, x: int = 0, y: int = 0, width: int = 100, height: int = 100, fill: Color | None = "#202020",
        outline: Color | None = None, outline_width: int = 2, radius: int = 0, **kw,
    ) -> None:
        super().__init__(x=x, y=y, **kw)
        self._width, self._height = int(width), int(height)
        self._fill = None if fill is None else to_rgba(fill)
        self._outline = None if outline is None else to_rgba(outline)
        self._outline_width, self._radius = int(outline_width), int(radius)
        self._cache: tuple[tuple, PILImage.Image] | None = None
        self._faded = _Faded()

    def local_bounds(self) -> Rect:
        return Rect(self._x, self._y, max(0, self._width), max(0, self._height))

    def _plain(self) -> bool:
        return self._radius <= 0 and self._outline is None and self._fill is not None and self._fill[3] == 255

    def is_opaque(self) -> bool:
        return self._plain()

    def _blit(self, dst: np.ndarray, sx: int, sy: int) -> None:  # type: ignore[override]
        dst[:] = self._fill[:3]  # type: ignore[index]

    def _image(self) -> PILImage.Image:
        key = (self._width, self._height, self._fill, self._outline, self._outline_width, self._radius)
        if self._cache is None or self._cache[0] != key:
            im = PILImage.new("RGBA", (max(1, self._width), max(1, self._height)), (0, 0, 0, 0))
            ImageDraw.Draw(im).rounded_rectangle(
                (0, 0, self._width - 1, self._height - 1), radius=self._radius, fill=self._fill,
                outline=self._outline, width=self._outline_width if self._outline is not None else 0,
            )
            self._cache = (key, im)
        return self._cache[1]

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        if self._width <= 0 or self._height <= 0:
            return
        if self._plain() and opacity >= 1.0:
            canvas.paste(self._fill[:3], (ox, oy, ox + self._width, oy + self._height))  # type: ignore[index]
            return
        im = self._image()
        canvas.paste(im, (ox, oy), self._faded.get(im.getchannel("A"), opacity))


class Image(Node):
    """A picture from a file path or a Pillow image; alpha respected; optionally scaled to width/height."""

    def __init__(
        self, source: ImageSource, *, x: int = 0, y: int = 0, width: int | None = None, height: int | None = None, **kw,
    ) -> None:
        super().__init__(x=x, y=y, **kw)
        self._size_req = (width, height)
        self._set_source(source)

    def _set_source(self, source: ImageSource) -> None:
        im = load_image(source)
        w, h = self._size_req
        if w is not None or h is not None:
            # Keep the aspect ratio when only one side is given.
            w = w if w is not None else max(1, round(im.width * h / im.height))
            h = h if h is not None else max(1, round(im.height * w / im.width))
            im = im.resize((w, h), PILImage.Resampling.LANCZOS)
        self._rgba = im
        self._alpha = im.getchannel("A")
        self._opaque = self._alpha.getextrema()[0] == 255
        self._rgb = im.convert("RGB")
        self._faded = _Faded()

    @property
    def source(self) -> PILImage.Image:
        return self._rgba

    @source.setter
    def source(self, value: ImageSource) -> None:
        self._set_source(value)
        self._changed()

    @property
    def size(self) -> tuple[int, int]:
        return self._rgba.size

    def local_bounds(self) -> Rect:
        return Rect(self._x, self._y, self._rgba.width, self._rgba.height)

    def is_opaque(self) -> bool:
        return self._opaque

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        if self._opaque and opacity >= 1.0:
            canvas.paste(self._rgb, (ox, oy))
        else:
            canvas.paste(self._rgb, (ox, oy), self._faded.get(self._alpha, opacity))

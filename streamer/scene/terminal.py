"""``TerminalView``: a node that shows a terminal emulated by pyte (ANSI colours, cursor control).

The grid is sized to fit the node's box, so everything the terminal shows is on the frame, and
the cursor starts on the bottom row so text scrolls up from the bottom like ``tail -f``: the
newest line is always visible.

Cost model (frame thread): the pyte screen is only read in ``_sync`` (called by ``Stage.render``).
The drawn grid is a ring of text rows: a scroll only advances the ring's top row (no pixels move),
and only rows whose content differs are composed from cached glyph cells; unchanged frames cost
nothing.  Copying out (``_blit``) unrolls the ring in at most two slices.
The scroll is reported to the stage as a move (see ``Node._moves``), so the frame and its YUV copy
move rows too instead of redrawing and reconverting the whole grid.
``feed`` may be called from any thread.
"""

from __future__ import annotations

import codecs
import threading
from itertools import repeat

import numpy as np
import pyte
from pyte import modes as mo
from PIL import Image as PILImage

from .colors import Color, to_rgba
from .geometry import Rect
from .node import Node
from .termglyphs import GlyphCells


class _TrackingScreen(pyte.Screen):
    """A pyte screen that counts full-screen scrolls (so pixels can be moved, not redrawn) and
    refuses resizes requested by the byte stream (DECCOLM would otherwise switch to 132 columns)."""

    def __init__(self, columns: int, lines: int) -> None:
        self.scrolled = 0
        super().__init__(columns, lines)

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y != bottom or top != 0 or bottom != self.lines - 1:
            super().index()
            return
        before = self.dirty
        self.dirty = set()
        super().index()
        # pyte marks every row dirty on a scroll; we move pixels instead, so only rows that were
        # already stale (now one row higher) and the new bottom row need drawing.
        self.dirty = {y - 1 for y in before if y > 0}
        self.dirty.add(bottom)
        self.scrolled += 1

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        pass  # the grid is fixed by the node's box

    def draw(self, data: str) -> None:
        # pyte's draw is fully general (charsets, wide and combining characters, insert mode) and pays
        # for it per character: ~2.5 µs each here, ~250 µs for a typical log line.  Almost every log
        # line is printable ASCII in replace mode with autowrap, where each character simply fills
        # one cell with the cursor's attributes; fill those a row segment at a time, exactly as pyte
        # would (tests compare the two), and leave anything else to pyte.
        text = data.translate(self.g1_charset if self.charset else self.g0_charset)
        mode = self.mode
        if not (text.isascii() and text.isprintable()) or mo.IRM in mode or mo.DECAWM not in mode:
            super().draw(data)
            return
        cursor, columns = self.cursor, self.columns
        attrs = cursor.attrs
        char_type, rest, make = type(attrs), tuple(attrs)[1:], tuple.__new__
        pos, n = 0, len(text)
        while pos < n:
            if cursor.x >= columns:
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            take = min(n - pos, columns - x)
            line = self.buffer[cursor.y]
            for column, char in enumerate(text[pos:pos + take], x):
                line[column] = make(char_type, (char, *rest))
            cursor.x = x + take
            pos += take
        self.dirty.add(cursor.y)


class TerminalView(Node):
    """A terminal emulator on the stage; ``feed()`` it bytes or text as a program would write them.

    ``font_size`` 13 gives 8x16 px cells: 160 columns x 45 rows on a 1280x720 box.  Plain ``\\n``
    starts a new line (a tty's ONLCR), long lines wrap, invalid UTF-8 shows as U+FFFD.  With
    ``defer_newline`` (default) a trailing newline is applied only when more output arrives, so a
    log's newest line is on the bottom row rather than above an empty one.
    """

    def __init__(
        self, *, x: int = 0, y: int = 0, width: int = 1280, height: int = 720, font_size: int = 13,
        fg: Color = "#00ff00", bg: Color = "#000000", defer_newline: bool = True, **kw,
    ) -> None:
        super().__init__(x=x, y=y, **kw)
        self._width, self._height = int(width), int(height)
        self._fg, self._bg = to_rgba(fg)[:3], to_rgba(bg)[:3]
        self._cells = GlyphCells(font_size, self._fg, self._bg)
        cw, lh = self._cells.cell_w, self._cells.line_h
        self.columns = max(1, self._width // cw)
        self.rows = max(1, self._height // lh)
        # Centre the grid in the box; leftover pixels are background.
        self._gx = (self._width - self.columns * cw) // 2
        self._gy = (self._height - self.rows * lh) // 2
        self._defer_newline = defer_newline
        self._held_newline = False
        self._lock = threading.Lock()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._screen = _TrackingScreen(self.columns, self.rows)
        self._stream = pyte.Stream(self._screen)
        self._reset_cursor()
        # The grid's pixels as a ring of text rows: screen row y is drawn at ring row (y + _top) % rows,
        # so scrolling by n rows is _top += n instead of moving 2.7 MB (the stage moves its frame anyway).
        self._grid = np.empty((self.rows * lh, self.columns * cw, 3), np.uint8)
        self._grid[:] = self._bg
        self._top = 0
        self._keys: list[tuple | None] = [None] * self.rows  # what each screen row shows
        self.bytes_fed = 0

    def _reset_cursor(self) -> None:
        self._screen.cursor_position(self.rows, 1)  # bottom row: text scrolls up from the bottom

    # -- input (any thread) ---------------------------------------------------------------
    def feed(self, data: bytes | str) -> None:
        """Write program output to the terminal: UTF-8 bytes (decoded incrementally) or text."""
        if not data:
            return  # scenes feed every frame, mostly nothing: skip the lock and the decoder
        with self._lock:  # callers may feed from several threads (log follower, chat)
            if isinstance(data, (bytes, bytearray, memoryview)):
                self.bytes_fed += len(data)
                text = self._decoder.decode(bytes(data))
            else:
                text = data
            if not text:
                return
            # A tty's ONLCR: programs write "\n" and expect the next line to start at column 0.
            # Done here rather than with pyte's LNM mode, which junk in a log could switch off.
            text = text.replace("\n", "\r\n")
            if self._defer_newline:
                # Hold a final newline back until more output comes, so the newest line sits on
                # the bottom row instead of above an empty cursor row.
                if self._held_newline:
                    text = "\r\n" + text
                self._held_newline = text.endswith("\r\n")
                if self._held_newline:
                    text = text[:-2]
            self._stream.feed(text)
            if not self._screen.dirty and not self._screen.scrolled:
                return
        self._touch()  # the changed rows are found in _sync, on the frame thread

    def feed_line(self, text: str) -> None:
        """Write ``text`` as a line of its own: on a fresh line even if program output stopped mid-line."""
        with self._lock:
            mid_line = not self._held_newline and self._screen.cursor.x != 0
        self.feed(("\n" if mid_line else "") + text + "\n")

    def clear(self) -> None:
        """Blank the screen and put the cursor back on the bottom row."""
        with self._lock:
            self._held_newline = False
            self._screen.reset()
            self._reset_cursor()
        self._touch()

    def display(self) -> list[str]:
        """The screen's text, one string per row (for tests and debugging)."""
        with self._lock:
            return list(self._screen.display)

    @property
    def cursor(self) -> tuple[int, int]:
        """(column, row) of the cursor, 0-based."""
        with self._lock:
            return self._screen.cursor.x, self._screen.cursor.y

    @property
    def cell_size(self) -> tuple[int, int]:
        return self._cells.cell_w, self._cells.line_h

    def row_rect(self, row: int) -> Rect:
        """Where a grid row lies, relative to the node's top-left."""
        lh = self._cells.line_h
        return Rect(self._gx, self._gy + row * lh, self.columns * self._cells.cell_w, lh)

    # -- frame thread ---------------------------------------------------------------------
    def _sync(self) -> None:
        lh = self._cells.line_h
        grid = self._grid
        changed: list[int] = []
        with self._lock:
            screen = self._screen
            scrolled, screen.scrolled = screen.scrolled, 0
            dirty, screen.dirty = screen.dirty, set()
            if scrolled >= self.rows:
                self._keys = [None] * self.rows
                dirty = set(range(self.rows))
            elif scrolled:
                self._top = (self._top + scrolled) % self.rows
                self._keys = self._keys[scrolled:] + [None] * scrolled
                dirty.update(range(self.rows - scrolled, self.rows))
            cols = range(self.columns)
            for y in sorted(dirty):
                if not 0 <= y < self.rows:
                    continue
                line = screen.buffer[y]
                # dict.get with the line's default, not line[x]: an empty cell would go through pyte's
                # Python-level __missing__, once per blank column of every changed row.
                key = tuple(map(line.get, cols, repeat(line.default, self.columns)))
                if key != self._keys[y]:
                    ring = (y + self._top) % self.rows
                    grid[ring * lh:(ring + 1) * lh] = self._cells.row(key, self.columns)
                    self._keys[y] = key
                    changed.append(y)
        if 0 < scrolled < self.rows:
            # The surface moved up; report it as a move so the stage (and the YUV copy behind it) can move
            # pixels too instead of redrawing the grid.  The rows drawn above, including the newly exposed
            # bottom rows, are ordinary damage.
            width = self.columns * self._cells.cell_w
            self._moves.append((Rect(self._gx, self._gy + scrolled * lh, width, (self.rows - scrolled) * lh),
                                -scrolled * lh))
        self._partial.extend(self.row_rect(y) for y in changed)

    def local_bounds(self) -> Rect:
        return Rect(self._x, self._y, self._width, self._height)

    def is_opaque(self) -> bool:
        return True

    def _blit(self, dst: np.ndarray, sx: int, sy: int) -> None:  # type: ignore[override]
        """Fill ``dst`` with the node's pixels from node-local (sx, sy): margins, then the ring unrolled."""
        h, w = dst.shape[:2]
        grid = self._grid
        gh, gw = grid.shape[:2]
        # The part of dst that the grid covers, in node-local pixels.
        x0, x1 = max(sx, self._gx), min(sx + w, self._gx + gw)
        y0, y1 = max(sy, self._gy), min(sy + h, self._gy + gh)
        if x1 <= x0 or y1 <= y0:
            dst[:] = self._bg
            return
        if (x0, x1, y0, y1) != (sx, sx + w, sy, sy + h):
            dst[:] = self._bg  # margins around the grid
        cols = slice(x0 - self._gx, x1 - self._gx)
        out = dst[:, x0 - sx:x1 - sx]
        ring = (y0 - self._gy + self._top * self._cells.line_h) % gh  # ring pixel row of local row y0
        first = min(y1 - y0, gh - ring)
        out[y0 - sy:y0 - sy + first] = grid[ring:ring + first, cols]
        if first < y1 - y0:  # wrapped past the ring's end: the rest starts at its top
            out[y0 - sy + first:y1 - sy] = grid[:y1 - y0 - first, cols]

    def _draw(self, canvas: PILImage.Image, ox: int, oy: int, opacity: float) -> None:
        # Only the part inside the canvas is converted (the canvas is one damaged region).
        x0, y0 = max(0, -ox), max(0, -oy)
        x1, y1 = min(self._width, canvas.width - ox), min(self._height, canvas.height - oy)
        if x1 <= x0 or y1 <= y0:
            return
        pixels = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
        self._blit(pixels, x0, y0)
        im = PILImage.fromarray(pixels)
        if opacity >= 1.0:
            canvas.paste(im, (ox + x0, oy + y0))
        else:
            canvas.paste(im, (ox + x0, oy + y0), PILImage.new("L", im.size, round(255 * opacity)))

"""Keep the outgoing picture in yuv420p and convert only the rows that changed.

Converting a whole 1280x720 RGB frame to yuv420p costs ~3–5 ms per frame — paid 30 times a second even
when nothing moved.  Instead one persistent ``av.VideoFrame`` holds the picture; each frame, the damaged
rectangles are widened to full-width row bands (even-aligned, because yuv420p shares one chroma row
between two luma rows), only those rows are converted with swscale, and the result is copied into the
persistent planes.  A static frame therefore costs nothing here.

A frame source may also report row *moves* (a terminal scrolling: rows shifted up by a line height).
Those are applied to the YUV planes directly — luma rows by ``dy``, chroma rows by ``dy / 2`` — and only
the newly exposed rows are converted, so a scroll costs a memmove instead of a full-frame conversion.
The commonest move, the whole picture up (a full-screen terminal scrolling), costs not even that: the
planes live in taller backing arrays, the picture is a window onto them, and the move slides the window
down; the frame handed to the encoder is re-made over the new window without copying (PyAV's DLPack
import).  Only when the window reaches the end of its backing rows is it copied back to the top, once
every ``slack`` rows of scrolling.  Moves are exact only for full-width moves by an even number of rows
starting on an even row: swscale's horizontal filter reads the pixel to the left (so a partial-width
move would leave wrong edge columns) and one chroma row covers two luma rows.  Any other move is
converted like damage.

The same frame (or, after a slide, a new frame over the same memory) is handed to the encoder every
time, and written in place between encodes.  That is safe because libx264 copies the input picture
inside ``x264_encoder_encode`` before returning (checked by a test that decodes the
output and compares it with what was drawn).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from streamer.media.rowmove import move_rows

Rect = tuple[int, int, int, int]
Move = tuple[Rect, int]  # (source rect, dy): the rect's rows now lie dy rows lower (negative: higher)

# Bands closer than this many rows are merged: one swscale call has a fixed cost, so converting a few
# unchanged rows is cheaper than a second call.
DEFAULT_MERGE_GAP = 16
# FAST_BILINEAR and AREA both reduce chroma 2:1 from the two rows of a pair only, so a band converted on
# its own matches a full-frame conversion (within 1 level); BILINEAR/BICUBIC reach into neighbouring rows
# and would leave seams at band edges.  FAST_BILINEAR is the cheapest.
DEFAULT_INTERPOLATION = Interpolation.FAST_BILINEAR


def damaged_row_bands(
    rects: Iterable[Rect], height: int, merge_gap: int = DEFAULT_MERGE_GAP
) -> list[tuple[int, int]]:
    """Turn damage rectangles ``(x, y, w, h)`` into sorted, merged, even-aligned row ranges ``[y0, y1)``."""
    spans: list[tuple[int, int]] = []
    for rect in rects:
        _x, y, _w, h = (int(v) for v in rect)
        y0 = max(0, y)
        y1 = min(height, y + h)
        if y1 <= y0:
            continue
        y0 &= ~1
        y1 = min(height, (y1 + 1) & ~1)
        spans.append((y0, y1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for y0, y1 in spans:
        if merged and y0 <= merged[-1][1] + merge_gap:
            if y1 > merged[-1][1]:
                merged[-1] = (merged[-1][0], y1)
        else:
            merged.append((y0, y1))
    return merged


def _aligned_rows(rows: int, width: int, fill: int) -> np.ndarray:
    """A C-ordered (rows, width) uint8 array filled with ``fill``, its first byte 64-byte aligned (SIMD loads)."""
    raw = np.full(rows * width + 64, fill, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + rows * width].reshape(rows, width)


def plane_view(plane: av.video.plane.VideoPlane) -> np.ndarray:
    """A writable (rows, width) uint8 view of a plane, skipping the line padding."""
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


class _BandConverter:
    """Converts RGB bands of one fixed height; keeps its input frame and swscale context between calls."""

    def __init__(self, width: int, height: int) -> None:
        self.rgb_frame = av.VideoFrame(width, height, "rgb24")
        plane = self.rgb_frame.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
        self.rgb_view = rows[:, : width * 3].reshape(height, width, 3)
        self.reformatter = VideoReformatter()

    def convert(self, rgb_rows: np.ndarray, interpolation: Interpolation) -> av.VideoFrame:
        np.copyto(self.rgb_view, rgb_rows)
        # One thread: swscale's default hands each call to a pool of worker threads, and waking them
        # costs more CPU than converting a band of a few text rows (~250 vs ~160 us per band, measured
        # with caches cold as they are after the encoder ran).
        return self.reformatter.reformat(self.rgb_frame, format="yuv420p", interpolation=interpolation, threads=1)


class YuvFrameStore:
    """The current picture as a persistent yuv420p ``av.VideoFrame``, updated band by band."""

    def __init__(
        self,
        width: int,
        height: int,
        *,
        interpolation: Interpolation | str = DEFAULT_INTERPOLATION,
        merge_gap: int = DEFAULT_MERGE_GAP,
        max_cached_heights: int = 16,
        slack_rows: int | None = None,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"yuv420p needs a positive, even frame size, got {width}x{height}")
        self.width = width
        self.height = height
        self.interpolation = (
            Interpolation[interpolation] if isinstance(interpolation, str) else interpolation
        )
        self.merge_gap = merge_gap
        # Backing planes: the picture's rows plus ``slack`` spare rows below, each plane 64-byte aligned
        # with no line padding (x264 reads any linesize).
        self._slack = height if slack_rows is None else max(0, slack_rows) & ~1
        rows = height + self._slack
        self._backing = [_aligned_rows(rows, width, 16), _aligned_rows(rows // 2, width // 2, 128),
                         _aligned_rows(rows // 2, width // 2, 128)]  # black in limited-range BT.601
        self._windows: dict[int, tuple[list[np.ndarray], av.VideoFrame]] = {}
        self._set_window(0)
        self._converters: OrderedDict[int, _BandConverter] = OrderedDict()
        self._max_cached_heights = max_cached_heights
        self.rows_converted = 0  # cumulative, for benchmarks and stats
        self.rows_moved = 0
        self.window_slides = 0
        self.window_rewinds = 0

    def _set_window(self, top: int) -> None:
        """Show backing rows ``[top, top + height)``: plane views and a frame over them (no copy).

        Views and frame are kept per window position (at most ``slack / 2 + 1`` of them, a few hundred
        bytes each): a terminal scrolling line by line comes back to the same few positions, and making
        the frame anew cost ~50 us per scroll."""
        self._top = top
        window = self._windows.get(top)
        if window is None:
            luma, u, v = self._backing
            half, h = top // 2, self.height
            planes = [luma[top:top + h], u[half:half + h // 2], v[half:half + h // 2]]
            window = self._windows[top] = (planes, av.VideoFrame.from_dlpack(tuple(planes), format="yuv420p"))
        self._planes, self.frame = window

    def _converter(self, band_height: int) -> _BandConverter:
        converter = self._converters.get(band_height)
        if converter is None:
            converter = _BandConverter(self.width, band_height)
            self._converters[band_height] = converter
            if len(self._converters) > self._max_cached_heights:
                self._converters.popitem(last=False)
        else:
            self._converters.move_to_end(band_height)
        return converter

    def _check(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(
                f"expected a ({self.height}, {self.width}, 3) uint8 RGB frame, "
                f"got shape {rgb.shape} dtype {rgb.dtype}"
            )

    def update(
        self, rgb: np.ndarray, rects: Sequence[Rect], moves: Sequence[Move] = (),
        prepare_rows: Callable[[int, int], None] | None = None,
    ) -> int:
        """Apply ``moves`` in order, then convert the rows touched by ``rects`` from ``rgb`` into the YUV
        frame; return rows converted.  A move that cannot be applied exactly is converted instead.
        ``prepare_rows(y0, y1)``, if given, is called before rows ``[y0, y1)`` of ``rgb`` are read (a
        source whose moved rows are redrawn lazily brings them up to date there)."""
        self._check(rgb)
        if moves:
            rects = list(rects)
            for rect, dy in moves:
                if not self._move_rows(rect, dy):
                    x, y, w, h = rect
                    rects.append((x, y + dy, w, h))
        converted = 0
        for y0, y1 in damaged_row_bands(rects, self.height, self.merge_gap):
            if prepare_rows is not None:
                prepare_rows(y0, y1)
            self._convert_band(rgb, y0, y1)
            converted += y1 - y0
        self.rows_converted += converted
        return converted

    def _move_rows(self, rect: Rect, dy: int) -> bool:
        """Move full-width rows ``[y, y + h)`` by ``dy`` in every plane; False if that would not be exact."""
        x, y, w, h = (int(v) for v in rect)
        if x != 0 or w != self.width or (y | h | dy) & 1 or h <= 0:
            return False
        if y < 0 or y + h > self.height or y + dy < 0 or y + h + dy > self.height:
            return False
        if y + dy == 0 and y + h == self.height and dy < 0 and -dy <= self._slack:
            self._slide_window(-dy)
        else:
            for plane, scale in zip(self._planes, (1, 2, 2)):
                move_rows(plane, y // scale, (y + dy) // scale, h // scale)
        self.rows_moved += h
        return True

    def _slide_window(self, rows: int) -> None:
        """Move the whole picture up by ``rows``: the window slides down over the backing rows.

        The rows it uncovers at the bottom get what a move would have left there (the old bottom rows), so
        both ways give the same picture; the caller converts them anyway if they were damaged."""
        top = self._top
        if top + rows > self._slack:
            # The window would leave its backing rows: copy the picture back to the top (once per slack rows).
            for backing, scale in zip(self._backing, (1, 2, 2)):
                move_rows(backing, top // scale, 0, self.height // scale)
            top = 0
            self.window_rewinds += 1
        for backing, scale in zip(self._backing, (1, 2, 2)):
            bottom, n = (top + self.height) // scale, rows // scale
            move_rows(backing, bottom - n, bottom, n)
        self._set_window(top + rows)
        self.window_slides += 1

    def update_all(self, rgb: np.ndarray) -> int:
        """Convert the whole frame (first frame, or after the RGB frame may have changed untracked)."""
        self._check(rgb)
        self._convert_band(rgb, 0, self.height)
        self.rows_converted += self.height
        return self.height

    def _convert_band(self, rgb: np.ndarray, y0: int, y1: int) -> None:
        converted = self._converter(y1 - y0).convert(rgb[y0:y1], self.interpolation)
        y_plane, u_plane, v_plane = self._planes
        y_plane[y0:y1] = plane_view(converted.planes[0])
        u_plane[y0 // 2 : y1 // 2] = plane_view(converted.planes[1])
        v_plane[y0 // 2 : y1 // 2] = plane_view(converted.planes[2])

    def to_rgb(self) -> np.ndarray:
        """The stored picture converted back to RGB (for tests and debugging; not on the hot path)."""
        return self.frame.to_ndarray(format="rgb24")

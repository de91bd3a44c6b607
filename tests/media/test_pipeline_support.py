"""Shared helpers for the pipeline tests (synthetic sources, decoding, waiting).  No tests in here."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from tests.ingest import wait_until  # noqa: F401 - re-exported for the pipeline tests

W, H = 1280, 720
RED = (230, 30, 30)
BACKGROUND_TOP = (20, 60, 160)  # the upper half of the synthetic background
BACKGROUND_BOTTOM = (30, 140, 40)


class SyntheticSource:
    """A two-tone background drawn once; from t >= ``rect_from`` a red box that moves right each frame."""

    width = W
    height = H

    def __init__(self, rect_from: float = 1.0) -> None:
        self.frame = np.zeros((H, W, 3), np.uint8)
        self.rect_from = rect_from
        self._drawn_background = False
        self._box: tuple[int, int, int, int] | None = None
        self.renders = 0

    def _background(self, y0: int, y1: int, x0: int = 0, x1: int = W) -> None:
        mid = H // 2
        if y0 < mid:
            self.frame[y0 : min(y1, mid), x0:x1] = BACKGROUND_TOP
        if y1 > mid:
            self.frame[max(y0, mid) : y1, x0:x1] = BACKGROUND_BOTTOM

    def box_at(self, t: float) -> tuple[int, int, int, int]:
        x = 100 + int((t - self.rect_from) * 30) * 4
        return (min(x, W - 200), 250, 160, 120)

    def render(self, t: float) -> list[tuple[int, int, int, int]]:
        self.renders += 1
        damage = []
        if not self._drawn_background:
            self._background(0, H)
            self._drawn_background = True
            damage.append((0, 0, W, H))
        if t >= self.rect_from:
            box = self.box_at(t)
            if box != self._box:
                if self._box is not None:
                    x, y, w, h = self._box
                    self._background(y, y + h, x, x + w)
                    damage.append(self._box)
                x, y, w, h = box
                self.frame[y : y + h, x : x + w] = RED
                damage.append(box)
                self._box = box
        return damage


class CountingSource:
    """Every frame fills a band with a grey level derived from the frame's stream time (tests frame reuse)."""

    width = W
    height = H

    def __init__(self) -> None:
        self.frame = np.zeros((H, W, 3), np.uint8)

    @staticmethod
    def level(slot: int) -> int:
        return 30 + (slot * 37) % 200

    def render(self, t: float) -> list[tuple[int, int, int, int]]:
        slot = round(t * 30)
        self.frame[200:300] = self.level(slot)
        return [(0, 200, W, 100)]


@dataclass
class Probe:
    video_codec: str = ""
    width: int = 0
    height: int = 0
    pix_fmt: str = ""
    audio_codec: str = ""
    sample_rate: int = 0
    channels: int = 0
    video_pts: list[float] = field(default_factory=list)  # seconds
    video_keyframes: list[bool] = field(default_factory=list)
    audio_pts: list[float] = field(default_factory=list)
    audio_samples: int = 0
    container_duration: float | None = None
    last_frame: np.ndarray | None = None
    frames: dict[int, np.ndarray] = field(default_factory=dict)  # decoded RGB by frame index


def probe(source: str | bytes, keep_frames: bool = False) -> Probe:
    """Demux and decode an FLV file (path or bytes) completely."""
    result = Probe()
    opened = av.open(io.BytesIO(source) if isinstance(source, bytes) else source, format="flv")
    with opened as container:
        if container.duration is not None:
            result.container_duration = container.duration / av.time_base
        vstream = container.streams.video[0]
        astream = container.streams.audio[0]
        result.video_codec = vstream.codec_context.name
        result.audio_codec = astream.codec_context.name
        result.sample_rate = astream.codec_context.sample_rate
        result.channels = astream.codec_context.channels
        for packet in container.demux(vstream, astream):
            if packet.pts is None:
                continue  # the flush packet at the end
            seconds = float(packet.pts * packet.time_base)
            if packet.stream.type == "video":
                result.video_pts.append(seconds)
                result.video_keyframes.append(packet.is_keyframe)
                for frame in packet.decode():
                    result.width, result.height, result.pix_fmt = frame.width, frame.height, frame.format.name
                    rgb = frame.to_ndarray(format="rgb24")
                    result.last_frame = rgb
                    if keep_frames:
                        result.frames[len(result.video_pts) - 1] = rgb
            else:
                for frame in packet.decode():
                    result.audio_samples += frame.samples
                result.audio_pts.append(seconds)
    return result


def assert_colour(rgb: np.ndarray, expected: tuple[int, int, int], tolerance: int = 12) -> None:
    mean = rgb.reshape(-1, 3).mean(axis=0)
    assert np.all(np.abs(mean - np.array(expected)) <= tolerance), f"mean colour {mean} != {expected}"


class BlockingSink:
    """A byte sink that, after ``stall()``, blocks every write until ``release()``.

    Simulates an ingest that stops reading (the real network sink blocks the same way).  ``close()``
    makes a blocked write raise, like the network sink does once it has given up on the connection.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._open = threading.Event()
        self._open.set()
        self.blocked = threading.Event()
        self.closed = False
        self.writes_while_stalled = 0

    def stall(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def write(self, data: bytes) -> int:
        while not self._open.is_set():
            self.blocked.set()
            self._open.wait(0.05)
        self.blocked.clear()
        if self.closed:
            raise BrokenPipeError("sink closed")
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self._open.set()

    def factory(self, target: str, **_kwargs: object) -> "BlockingSink":
        return self


def seconds(pts: int, time_base: Fraction) -> float:
    return float(pts * time_base)

"""Counters, recent timings and the one-line health summary of a running pipeline."""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass


class FrameStamps:
    """The last ``size`` frames' timings, as ``(start, render_s, convert_s, encode_s)``: when the frame's
    encode began (perf counter) and the seconds its render, its RGB→YUV update and its encode took.  One
    append per frame (the frame thread's only bookkeeping), read by others.

    ``deque.append`` and ``list(deque)`` are atomic under the GIL, so readers need no lock."""

    def __init__(self, size: int = 300, fps_window: int = 60) -> None:
        self._stamps: deque[tuple[float, float, float, float]] = deque(maxlen=size)
        self._fps_window = fps_window
        # ``add(stamps)`` is the deque's own append: a C call, no Python frame, once per frame.
        self.add = self._stamps.append

    def p50_ms(self) -> tuple[float, float, float]:
        """Median render, convert and encode milliseconds over the kept frames (zeros before any)."""
        recent = list(self._stamps)
        if not recent:
            return 0.0, 0.0, 0.0
        return tuple(statistics.median(s[i] * 1000 for s in recent) for i in (1, 2, 3))  # type: ignore[return-value]

    def fps(self) -> float:
        """Frames per second over the last ``fps_window`` frame starts."""
        starts = [s[0] for s in list(self._stamps)[-self._fps_window:]]
        if len(starts) < 2 or starts[-1] <= starts[0]:
            return 0.0
        return (len(starts) - 1) / (starts[-1] - starts[0])


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot of the pipeline's counters.

    frames_rendered   slots for which ``source.render`` returned normally
    frames_sent       video packets written into an output (muxed)
    frames_repeated   slots that re-sent the last good picture because ``render`` raised
    frames_skipped    slots never rendered because the previous frame ran late (stream time kept up)
    render_errors     exceptions raised by ``render``
    video_packets_dropped  video dropped under backpressure (queue full, then up to the next keyframe)
    packets_discarded packets thrown away because the output had died (until ``switch_output``)
    audio_packets_dropped  audio dropped only if the queue's hard cap was hit (should stay 0)
    """

    frames_rendered: int = 0
    frames_sent: int = 0
    frames_repeated: int = 0
    frames_skipped: int = 0
    render_errors: int = 0
    video_packets_dropped: int = 0
    packets_discarded: int = 0
    audio_packets_dropped: int = 0
    audio_packets_sent: int = 0
    render_ms: float = 0.0
    convert_ms: float = 0.0
    encode_ms: float = 0.0
    queue_depth: int = 0
    queued_video: int = 0
    max_queue_depth: int = 0
    bytes_out: int = 0
    outputs: int = 0
    output_alive: bool = False
    fps: float = 0.0
    uptime: float = 0.0

    @property
    def slots(self) -> int:
        """Every slot the clock has passed through: rendered, repeated or skipped."""
        return self.frames_rendered + self.frames_repeated + self.frames_skipped


def format_health_line(stats: PipelineStats) -> str:
    mb_out = stats.bytes_out / 1e6
    state = "up" if stats.output_alive else "DOWN"
    return (
        f"fps {stats.fps:.1f} | frames {stats.frames_rendered} repeated {stats.frames_repeated} "
        f"skipped {stats.frames_skipped} | render {stats.render_ms:.1f} ms convert {stats.convert_ms:.1f} ms "
        f"encode {stats.encode_ms:.1f} ms | queue {stats.queue_depth} | dropped video {stats.video_packets_dropped} "
        f"discarded {stats.packets_discarded} | out {mb_out:.2f} MB | output #{stats.outputs} {state} "
        f"| uptime {stats.uptime:.0f} s"
    )


class RateLimitedLog:
    """Log the first occurrence in full, then at most one summary line per ``interval`` seconds."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.count = 0
        self._suppressed = 0
        self._last = float("-inf")
        self._lock = threading.Lock()

    def should_log(self, now: float | None = None) -> tuple[bool, int]:
        """Return ``(log_now, suppressed_since_last_log)``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self.count += 1
            if now - self._last >= self.interval:
                suppressed, self._suppressed, self._last = self._suppressed, 0, now
                return True, suppressed
            self._suppressed += 1
            return False, 0

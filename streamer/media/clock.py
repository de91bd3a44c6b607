"""One stream clock for video and audio.

Every timestamp comes from an integer counter: video pts is the frame *slot* index (time base 1/fps) and
audio pts is a sample count (time base 1/sample_rate).  Slots are derived from the monotonic wall clock,
so when a frame is late the loop jumps to the current slot (counting the skipped ones) instead of
drifting: stream time never falls behind wall time, and audio stays locked to video because both are
computed from the same slot numbers with exact integer arithmetic.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Callable


class StreamClock:
    """Maps wall-clock time to video slots and slots to audio sample positions."""

    def __init__(
        self,
        fps: int | Fraction = 30,
        sample_rate: int = 44100,
        time_fn: Callable[[], float] = time.monotonic,
        sleep_fn: Callable[[float], None] = time.sleep,
    ) -> None:
        self.fps = Fraction(fps)
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        # Plain ints for the per-frame arithmetic (Fraction's properties are Python calls).
        self._num, self._den = self.fps.numerator, self.fps.denominator
        self.sample_rate = int(sample_rate)
        self._time_fn = time_fn
        self._sleep_fn = sleep_fn
        self._origin: float | None = None

    @property
    def video_time_base(self) -> Fraction:
        return 1 / self.fps

    @property
    def audio_time_base(self) -> Fraction:
        return Fraction(1, self.sample_rate)

    @property
    def started(self) -> bool:
        return self._origin is not None

    def start(self, now: float | None = None) -> None:
        """Slot 0 begins now (or at ``now``)."""
        self._origin = self._time_fn() if now is None else now

    def now(self) -> float:
        return self._time_fn()

    def _require_origin(self) -> float:
        if self._origin is None:
            raise RuntimeError("StreamClock.start() has not been called")
        return self._origin

    def slot_at(self, now: float) -> int:
        """The slot whose interval contains wall-clock time ``now`` (never negative)."""
        elapsed = now - self._require_origin()
        if elapsed <= 0:
            return 0
        # A tiny epsilon so a wake-up a few ns before the deadline (float rounding) still counts as on time.
        return int(elapsed * self._num / self._den + 1e-6)

    def deadline(self, slot: int) -> float:
        """Wall-clock (monotonic) time at which ``slot`` starts."""
        return self._require_origin() + slot * self._den / self._num

    def stream_time(self, slot: int) -> float:
        """Seconds of stream time at the start of ``slot``."""
        return slot * self._den / self._num

    def samples_at(self, slot: int) -> int:
        """Audio samples that lie before the start of ``slot`` (exact: 1470 per slot at 30 fps/44.1 kHz)."""
        return slot * self.sample_rate * self._den // self._num

    def slots_for(self, seconds: float) -> int:
        """Number of whole slots in ``seconds`` of stream time (rounded to the nearest slot)."""
        return round(seconds * self.fps)

    def catch_up(self, wanted_slot: int, now: float | None = None) -> tuple[int, int]:
        """Return ``(slot_to_render, slots_skipped)``.

        If wall time has already moved past ``wanted_slot`` (the previous frame took too long), the
        frame for the *current* slot is rendered instead and the slots in between are skipped.
        """
        current = self.slot_at(self.now() if now is None else now)
        if current > wanted_slot:
            return current, current - wanted_slot
        return wanted_slot, 0

    def wait_for(self, slot: int) -> tuple[int, int, float]:
        """Sleep until ``slot`` begins; return ``(slot_to_render, slots_skipped, now)`` like ``catch_up``.

        The frame loop's one clock call per frame: its Python calls are paid 30 times a second, in caches
        that the encoder has just flushed.  A plain sleep of at most a frame (a stop request is seen
        at the next frame) is also cheaper than waiting on an Event, which builds a lock every time.
        """
        origin = self._require_origin()
        now = self._time_fn()
        delay = origin + slot * self._den / self._num - now
        if delay > 0:
            self._sleep_fn(delay)
            now = self._time_fn()
        elapsed = now - origin
        current = int(elapsed * self._num / self._den + 1e-6) if elapsed > 0 else 0
        if current > slot:
            return current, current - slot, now
        return slot, 0, now

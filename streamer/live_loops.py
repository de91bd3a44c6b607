"""Background loops of a live show: each runs on its own thread, so no HTTP call can ever stall a frame.

``PeriodicTask`` calls an action every ``interval`` seconds. An action that raises is logged (the first time
in full, then one line per failure) and retried with bounded exponential backoff: a platform that answers 5xx
for a while slows the loop down but never ends the show.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """``base * 2**n`` capped at ``cap`` seconds, for the n-th consecutive failure (0-based)."""

    base: float
    cap: float

    def delay(self, failures: int) -> float:
        return min(self.cap, self.base * (2 ** max(0, failures - 1)))


class PeriodicTask:
    """Run ``action`` now (or after ``first_delay``) and then every ``interval`` s until ``stop`` is set.

    ``action`` may return a number of seconds to wait before the next run instead of ``interval`` (the
    status loop re-checks sooner after a "not live").
    """

    def __init__(self, name: str, interval: float, action: Callable[[], float | None], stop: threading.Event,
                 *, first_delay: float = 0.0, backoff_cap: float = 60.0) -> None:
        self.name = name
        self.interval = interval
        self.action = action
        self.first_delay = first_delay
        self.backoff = Backoff(base=min(interval, 2.0), cap=max(interval, backoff_cap))
        self.runs = 0
        self.failures = 0  # in a row
        self.total_failures = 0
        self._stop = stop
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> PeriodicTask:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def poke(self) -> None:
        """Run the action now instead of at the end of the current wait (also: notice ``stop`` now)."""
        self._wake.set()

    def _loop(self) -> None:
        delay = self.first_delay
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                wanted = self.action()
            except Exception as exc:  # noqa: BLE001 - a loop must outlive any platform failure
                self.failures += 1
                self.total_failures += 1
                delay = self.backoff.delay(self.failures)
                log.warning("%s failed (%d in a row), next try in %.1f s: %s", self.name, self.failures, delay,
                            exc, exc_info=self.failures == 1 and not _expected(exc))
                continue
            self.runs += 1
            if self.failures:
                log.info("%s works again after %d failure(s)", self.name, self.failures)
            self.failures = 0
            delay = self.interval if wanted is None else wanted


def _expected(exc: BaseException) -> bool:
    """Platform errors carry a clear message; anything else is a bug worth a traceback."""
    from streamer.platform import RetakeError

    return isinstance(exc, RetakeError)

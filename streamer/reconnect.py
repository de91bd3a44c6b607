"""Publish again without going dark: fresh key → new session if it may have ended → new output.

The pipeline's frame loop never stops; only its output is replaced (``Pipeline.switch_output``: new encoders,
container and connection, starting on a keyframe). Failed attempts back off exponentially (bounded); after
``max_reconnects`` failures in a row the caller gives up and stops the stream.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from streamer.live_config import LiveConfig
from streamer.live_loops import Backoff
from streamer.live_session import LiveSession
from streamer.media.pipeline import Pipeline
from streamer.platform import RetakeError

log = logging.getLogger(__name__)

BACKOFF_CAP_S = 30.0


class OutputReconnector:
    def __init__(self, pipeline: Pipeline, session: LiveSession, config: LiveConfig, stop: threading.Event,
                 say: Callable[[str], None]) -> None:
        self.pipeline = pipeline
        self.session = session
        self.config = config
        self.stop = stop
        self.say = say
        self.generation = 0  # the pipeline output we publish on (0: the first, +1 per switch)
        self.reconnects = 0
        self.session_may_have_ended = False  # then the next reconnect also calls stream/start

    def output_trouble(self, wait: float = 0.0) -> list[str]:
        """Error events of the current output, waiting up to ``wait`` s for the first event.

        Late events of outputs already replaced are ignored: they are about a connection we gave up on.
        """
        found = []
        timeout = wait
        while True:
            try:
                event = self.pipeline.events.get(timeout=timeout) if timeout else self.pipeline.events.get_nowait()
            except queue.Empty:
                return found
            timeout = 0.0
            if event.kind == "error" and event.generation >= self.generation:
                found.append(f"the output failed: {event.reason}")

    def reconnect(self, trouble: str) -> bool:
        """True once publishing again (or when a stop was requested); False after ``max_reconnects`` failures."""
        cfg = self.config
        self.say(f"reconnecting: {trouble}")
        began = time.monotonic()
        backoff = Backoff(base=cfg.reconnect_backoff, cap=BACKOFF_CAP_S)
        for attempt in range(1, cfg.max_reconnects + 1):
            if self.stop.is_set():
                return True
            try:
                keys = self.session.fresh_keys()  # never reuse a key, as the document insists
                if self.session_may_have_ended:
                    self.session.start()
                    self.session_may_have_ended = False
                self.generation += 1
                self.pipeline.switch_output(keys.publish_url, ca_file=cfg.ca_file, insecure_tls=cfg.insecure_tls)
                failure = self._wait_connected(self.generation, cfg.connect_timeout)
            except RetakeError as exc:
                failure = str(exc)
            if failure is None:
                self.reconnects += 1
                self.say(f"reconnected in {time.monotonic() - began:.1f} s (attempt {attempt}) to "
                         f"{keys.redacted_publish_url}")
                return True
            delay = backoff.delay(attempt)
            log.warning("reconnect attempt %d/%d failed: %s; next in %.1f s", attempt, cfg.max_reconnects,
                        failure, delay)
            if attempt < cfg.max_reconnects and self.stop.wait(delay):
                return True
        self.say(f"giving up: {cfg.max_reconnects} reconnect attempts failed")
        return False

    def _wait_connected(self, generation: int, timeout: float) -> str | None:
        """None once output ``generation`` connected (or a stop was requested); else why not."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if self.stop.is_set():
                return None
            try:
                event = self.pipeline.events.get(timeout=min(0.2, remaining))
            except queue.Empty:
                continue
            if event.generation != generation:
                continue
            if event.kind == "connected":
                return None
            if event.kind == "error":
                return event.reason
        return f"not connected within {timeout:g} s"

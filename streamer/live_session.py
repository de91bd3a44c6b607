"""The platform side of one go-live run: the stream session, fresh keys, and the 409 rule.

The platform document's error table says 409 means "no active session: call stream/start first". Any call
made while live (status, comments, thumbnail, chat, even rtmp) can meet it — the platform may end a session
on its own — so every call goes through :meth:`LiveSession.call`, which starts a session and retries the
call once. Several loops may hit a 409 at the same moment; only one of them starts the new session.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from streamer.platform import (
    CredentialStore,
    NoActiveSessionError,
    RetakeClient,
    RetakeError,
    RtmpCredentials,
    StreamStart,
    StreamStopResult,
    save_stream_start_token,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class LiveSession:
    """Wraps a :class:`RetakeClient` for the go-live loops. Thread-safe."""

    def __init__(self, client: RetakeClient, store: CredentialStore | None = None) -> None:
        self.client = client
        self.store = store
        self.starts = 0  # stream/start calls that succeeded
        self.keys_issued = 0
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every successful start

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn``; on 409 (no active session) start a session and run it once more."""
        generation = self._generation
        try:
            return fn()
        except NoActiveSessionError:
            log.warning("%s: the platform has no active session for us (409); starting one and retrying", what)
            self.start(unless_started_since=generation)
            return fn()

    def start(self, unless_started_since: int | None = None) -> StreamStart | None:
        """``stream/start``; saves the token address and ticker the platform assigns on the first stream.

        With ``unless_started_since``: skip it if another thread started a session after that generation.
        """
        with self._lock:
            if unless_started_since is not None and self._generation != unless_started_since:
                return None
            result = self.client.stream_start()
            self._generation += 1
            self.starts += 1
        token = result.token
        if token is not None and token.token_address and self.store is not None:
            try:
                if save_stream_start_token(self.store, token.token_address, token.ticker):
                    log.info("token %s (%s) saved to %s", token.ticker or "?", token.token_address, self.store.path)
            except RetakeError as exc:  # a bad credentials file must not stop a stream that already started
                log.warning("could not save the token address: %s", exc)
        return result

    def fresh_keys(self) -> RtmpCredentials:
        """A new ingest URL and key from ``/agent/rtmp`` (every stream and every reconnect)."""
        keys = self.call("rtmp", self.client.rtmp)
        self.keys_issued += 1
        log.info("fresh RTMP key for %s", keys.redacted_publish_url)
        return keys

    def stop(self) -> StreamStopResult | None:
        """``stream/stop``; None when there was no session left to stop or the platform failed (logged)."""
        try:
            return self.client.stream_stop()
        except NoActiveSessionError:
            log.info("stream/stop: the platform had no active session any more")
        except RetakeError as exc:
            log.error("stream/stop failed: %s", exc)
        return None

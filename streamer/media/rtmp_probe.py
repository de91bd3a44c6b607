"""An RTMP-level liveness probe for the relay: is the ingest's application still reading?

Why: TCP cannot tell a frozen ingest from a slow stream. A frozen process's kernel keeps acknowledging and
advertising a constant receive window until its buffer fills -- tens of KB, i.e. more than 10 s of a
4 KB/s static-terminal stream. So the relay asks the ingest itself: it slips an RTMP User Control
PingRequest (message type 4, event 6, chunk stream 2, message stream 0) in between two chunks of the
publisher's stream twice a second, and watches the ingest's stream for the PingResponse (event 7)
echoing its value. FFmpeg's RTMP code and nginx-rtmp answer ping requests in any role; the answer comes
only after the ingest has read everything we sent before the ping, so an unanswered ping means the
ingest's application stopped reading.

Never corrupt the stream: ``ChunkTracker`` follows both directions; a ping goes in only at a chunk boundary,
after the publisher has started sending media (some ingests, FFmpeg's among them, expect nothing but
``connect`` early on) and while no message on chunk stream 2 is half sent. The ping is sent with a full
type-0 header, which changes what the ingest remembers about chunk stream 2; so the publisher's next
message there, if its header is compressed against the publisher's own previous message, is re-sent with
a full header (see ``_restore_header``). If either direction stops parsing, probing stops for good and
bytes pass through untouched. Probes are trusted only once the ingest has answered one: an ingest that
ignores pings is left to the relay's TCP-window stall detection.
"""

from __future__ import annotations

import logging
import struct
from collections import deque

from streamer.media.rtmp_chunks import (
    AUDIO,
    EXTENDED_TIMESTAMP,
    USER_CONTROL,
    VIDEO,
    ChunkHeader,
    ChunkSyncLost,
    ChunkTracker,
    encode_fmt0_header,
)

log = logging.getLogger(__name__)

PING_REQUEST = 6
PING_RESPONSE = 7
CONTROL_CSID = 2
_PING_PAYLOAD = 6  # event type (2 bytes) + value (4)
_MAX_OUTSTANDING = 32  # an ingest that answers nothing needs no more than its oldest probe


class LivenessProbe:
    """Feed it both directions of one RTMP connection; it adds pings to the outgoing one on request.

    Not thread-safe: call it from the relay's event loop only. ``now`` is ``time.monotonic()``.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.answered = 0  # probes the ingest answered
        self.injected_bytes = 0  # bytes we added to the outgoing stream (not the publisher's)
        self._out = ChunkTracker()
        self._in = ChunkTracker()
        self._enabled = True
        self._media_started = False
        self._control_diverged = False  # the ingest's chunk stream 2 state is our ping's, not the publisher's
        self._want = False
        self._next_value = 1
        self._last_sent = float("-inf")
        self._fed = 0  # publisher bytes seen
        self._outstanding: deque[tuple[int, float, int]] = deque()  # (value, sent at, publisher bytes by then)
        self._told_deaf = False

    @property
    def active(self) -> bool:
        """Probing is on and trusted: the streams parse and the ingest has answered at least one ping."""
        return self._enabled and self.answered > 0

    def due(self, now: float) -> bool:
        """Whether a new ping should be requested now (the relay calls ``request`` then)."""
        return (
            self._enabled
            and self._media_started
            and now - self._last_sent >= self.interval
            and len(self._outstanding) < _MAX_OUTSTANDING
        )

    def request(self) -> None:
        """Put a ping in at the next chunk boundary of the outgoing stream."""
        self._want = True

    def outgoing(self, data: bytes, now: float) -> bytes:
        """The publisher's ``data`` as it should go to the ingest (maybe with a ping in it)."""
        if not self._enabled:
            return data
        self._fed += len(data)
        held = self._out.held()
        out = bytearray()
        consumed = 0  # bytes of held + data already represented in ``out``
        try:
            for event in self._out.feed(data):
                kind = event[0]
                if kind == "raw":
                    out += event[1]
                    consumed += len(event[1])
                elif kind == "boundary":
                    if self._want and self._may_inject():
                        out += self._ping(now)
                elif kind == "header":
                    header: ChunkHeader = event[1]
                    out += self._restore_header(header)
                    consumed += len(header.raw)
                    if header.type_id in (AUDIO, VIDEO):
                        self._media_started = True
        except Exception as exc:  # a bug or odd stream must cost the probe, never the stream
            self._give_up(f"outgoing stream: {exc}")
            return bytes(out) + (held + data)[consumed:]
        return bytes(out)

    def finish(self) -> bytes:
        """The publisher hung up: the incomplete chunk header still held back, unchanged."""
        self._enabled = False
        return self._out.held()

    def incoming(self, data: bytes, now: float) -> None:
        """Watch the ingest's bytes for ping responses (they are forwarded unchanged by the caller)."""
        if not self._enabled:
            return
        try:
            for event in self._in.feed(data):
                if event[0] == "message" and event[1].type_id == USER_CONTROL:
                    self._on_user_control(event[2])
        except Exception as exc:
            self._give_up(f"incoming stream: {exc}")

    def stalled(self, now: float, timeout: float) -> bool:
        """A trusted ping has waited ``timeout`` for its answer while the publisher kept sending."""
        if not self._enabled or not self._outstanding:
            return False
        _, sent_at, fed_then = self._outstanding[0]
        if now - sent_at < timeout or self._fed <= fed_then:
            return False
        if self.answered == 0:
            if not self._told_deaf:
                self._told_deaf = True
                log.debug("relay: the ingest does not answer RTMP pings; relying on TCP stall detection")
            return False
        return True

    # -- internals ----------------------------------------------------------------------------------

    def _may_inject(self) -> bool:
        return (
            self._media_started
            and self._out.chunk_size >= _PING_PAYLOAD
            and not self._out.mid_message(CONTROL_CSID)
        )

    def _ping(self, now: float) -> bytes:
        value = self._next_value
        self._next_value = self._next_value % 0xFFFFFFFF + 1
        self._want = False
        self._last_sent = now
        self._outstanding.append((value, now, self._fed))
        self._control_diverged = True
        ping = encode_fmt0_header(CONTROL_CSID, 0, _PING_PAYLOAD, USER_CONTROL, 0)
        ping += struct.pack(">HI", PING_REQUEST, value)
        self.injected_bytes += len(ping)
        return ping

    def _restore_header(self, header: ChunkHeader) -> bytes:
        """``header``'s bytes, or -- for the publisher's first message on chunk stream 2 after a ping, if
        its header leaves out fields -- a full type-0 header with the values the publisher meant.

        The timestamp: the real one where no extended timestamp is involved; otherwise the value the
        publisher wrote, so that whether later type-3 chunks carry 4 extra bytes stays the same for
        both ends (control messages' timestamps mean nothing to receivers)."""
        if header.csid != CONTROL_CSID or not header.starts_message or not self._control_diverged:
            return header.raw
        self._control_diverged = False
        if header.fmt == 0:
            return header.raw
        if max(header.timestamp, header.delta) < EXTENDED_TIMESTAMP:
            timestamp = header.timestamp
        else:
            timestamp = header.delta
        return encode_fmt0_header(CONTROL_CSID, timestamp, header.length, header.type_id, header.stream_id)

    def _on_user_control(self, payload: bytes) -> None:
        if len(payload) < _PING_PAYLOAD:
            return
        event, value = struct.unpack_from(">HI", payload)
        if event != PING_RESPONSE or not any(v == value for v, _, _ in self._outstanding):
            return
        first = self.answered == 0
        while self._outstanding:
            answered, _, _ = self._outstanding.popleft()
            self.answered += 1
            if answered == value:
                break
        if first:
            log.info("relay: the ingest answers RTMP pings; using them to detect a stalled ingest")

    def _give_up(self, why: str) -> None:
        if self._enabled:
            self._enabled = False
            self._outstanding.clear()
            log.warning("relay: stopped RTMP liveness probing (%s); forwarding bytes unchanged", why)
            log.debug("probe failure detail", exc_info=True)

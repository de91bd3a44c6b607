"""Follow one direction of an RTMP connection chunk by chunk, without changing a byte.

RTMP (spec 1.0, section 5.3) cuts every message into chunks of at most ``chunk_size`` payload bytes. Each
chunk starts with a basic header (2-bit ``fmt`` + chunk stream id, 1-3 bytes) and a message header whose
size depends on ``fmt``: 0 = full (timestamp, length, type, message stream id; 11 bytes), 1 = no stream id
(timestamp delta, length, type; 7), 2 = timestamp delta only (3), 3 = nothing (0). What a header leaves out
is taken from the previous header on the same chunk stream, so a reader must keep per-stream state. A
3-byte timestamp field of 0xFFFFFF means a 4-byte extended timestamp follows; type-3 chunks repeat it
whenever the last header on their stream had one (what FFmpeg writes and reads). Set Chunk Size (message
type 1) changes the size of every later chunk in that direction; Abort (type 2) drops a chunk stream's
partial message.

``ChunkTracker`` turns bytes into events -- pass-through bytes, chunk headers, boundaries between chunks
and the payloads of small control messages -- which is all the relay needs to slip a message in between
two chunks and to notice one coming back. It raises ``ChunkSyncLost`` on anything it cannot follow; the
caller then stops interpreting the stream and simply forwards it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

HANDSHAKE_PACKET = 1536
HANDSHAKE_BYTES = 1 + 2 * HANDSHAKE_PACKET  # C0 + C1 + C2 (and S0 + S1 + S2 the other way)
DEFAULT_CHUNK_SIZE = 128
EXTENDED_TIMESTAMP = 0xFFFFFF

SET_CHUNK_SIZE = 1
ABORT = 2
USER_CONTROL = 4
AUDIO = 8
VIDEO = 9
# Message types of RTMP 1.0 (plus AMF3 variants); anything else means we misread the stream.
KNOWN_TYPES = frozenset({1, 2, 3, 4, 5, 6, 8, 9, 15, 16, 17, 18, 19, 20, 22})
# Control messages whose payload the tracker collects (all are a few bytes long).
_COLLECTED = frozenset({SET_CHUNK_SIZE, ABORT, USER_CONTROL})
_MAX_COLLECTED = 64
_MESSAGE_HEADER_SIZE = (11, 7, 3, 0)


class ChunkSyncLost(Exception):
    """The byte stream does not parse as RTMP chunks any more; the message says why."""


def parse_basic_header(buf: bytes | bytearray, pos: int) -> tuple[int, int, int] | None:
    """(fmt, chunk stream id, size of the basic header) of the chunk at ``buf[pos]``, or None if ``buf``
    ends before the basic header does."""
    if pos >= len(buf):
        return None
    fmt, low = buf[pos] >> 6, buf[pos] & 0x3F
    size = 2 if low == 0 else 3 if low == 1 else 1
    if pos + size > len(buf):
        return None
    if low == 0:
        csid = buf[pos + 1] + 64
    elif low == 1:
        csid = buf[pos + 2] * 256 + buf[pos + 1] + 64
    else:
        csid = low
    return fmt, csid, size


def encode_basic_header(fmt: int, csid: int) -> bytes:
    if 2 <= csid <= 63:
        return bytes([fmt << 6 | csid])
    if 64 <= csid <= 319:
        return bytes([fmt << 6, csid - 64])
    return bytes([fmt << 6 | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])


def encode_fmt0_header(csid: int, timestamp: int, length: int, type_id: int, stream_id: int) -> bytes:
    """A complete type-0 chunk header (basic header, message header, extended timestamp if needed)."""
    extended = timestamp >= EXTENDED_TIMESTAMP
    field = EXTENDED_TIMESTAMP if extended else timestamp
    out = encode_basic_header(0, csid) + field.to_bytes(3, "big") + length.to_bytes(3, "big")
    out += bytes([type_id]) + struct.pack("<I", stream_id)
    return out + (struct.pack(">I", timestamp) if extended else b"")


@dataclass
class ChunkHeader:
    """One parsed chunk header, with the message values it implies (after applying the stream's state)."""

    fmt: int
    csid: int
    raw: bytes  # the header exactly as it was on the wire
    starts_message: bool
    timestamp: int  # the message's absolute timestamp
    delta: int  # the timestamp value written (fmt 0: absolute; 1-3: delta to the previous message)
    length: int
    type_id: int
    stream_id: int


@dataclass
class _StreamState:
    """What the next compressed header on one chunk stream refers to."""

    timestamp: int = 0
    delta: int = 0
    field: int = 0  # the last 3-byte timestamp field; EXTENDED_TIMESTAMP: type-3 chunks carry 4 more bytes
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    left: int = 0  # payload bytes of the current message still to come (0: next chunk starts a message)


class ChunkTracker:
    """Feed it one direction's bytes in order; iterate the events ``feed`` yields.

    Events: ``("raw", bytes)`` for handshake and payload bytes, ``("boundary",)`` just before a chunk header
    (nothing of a chunk is pending, so a whole message may go in here), ``("header", ChunkHeader)`` once a
    header is complete, ``("message", ChunkHeader, payload)`` after the last byte of a Set Chunk Size,
    Abort or User Control message. Header bytes are yielded only in the header event: the caller writes
    ``header.raw`` (or a replacement) itself. ``ChunkSyncLost`` ends the tracking for good.
    """

    def __init__(self, handshake_bytes: int = HANDSHAKE_BYTES) -> None:
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self._handshake_left = handshake_bytes
        self._streams: dict[int, _StreamState] = {}
        self._header = bytearray()  # an incomplete header held back
        self._chunk_left = 0  # payload bytes of the current chunk still to come
        self._chunk: ChunkHeader | None = None
        self._collected: dict[int, bytearray] = {}  # per chunk stream: a control message being reassembled

    def held(self) -> bytes:
        """Bytes of an incomplete chunk header held back (to forward when the stream ends)."""
        return bytes(self._header)

    def mid_message(self, csid: int) -> bool:
        """Whether a message on ``csid`` has started but not finished (nothing may go in on it)."""
        state = self._streams.get(csid)
        return state is not None and state.left > 0

    def feed(self, data: bytes) -> Iterator[tuple]:
        view = memoryview(data)
        pos = 0
        if self._handshake_left:
            take = min(self._handshake_left, len(view))
            self._handshake_left -= take
            pos = take
            if take:
                yield ("raw", bytes(view[:take]))
        while pos < len(view):
            if self._chunk_left:
                take = min(self._chunk_left, len(view) - pos)
                piece = bytes(view[pos : pos + take])
                pos += take
                self._chunk_left -= take
                yield ("raw", piece)
                yield from self._payload(piece)
                continue
            if not self._header:
                yield ("boundary",)
            # A header is at most 3 + 11 + 4 bytes: hold back only what it may need.
            take = min(18 - len(self._header), len(view) - pos)
            self._header += view[pos : pos + take]
            header, used = self._parse_header(bytes(self._header))
            if header is None:
                pos += take
                continue
            pos += used - (len(self._header) - take)
            self._header.clear()
            self._start_chunk(header)
            yield ("header", header)
            if self._chunk_left == 0:  # an empty message
                yield from self._payload(b"")

    def _parse_header(self, buf: bytes) -> tuple[ChunkHeader | None, int]:
        basic = parse_basic_header(buf, 0)
        if basic is None:
            return None, 0
        fmt, csid, pos = basic
        end = pos + _MESSAGE_HEADER_SIZE[fmt]
        if end > len(buf):
            return None, 0
        state = self._streams.get(csid)
        if state is None:
            if fmt != 0:
                raise ChunkSyncLost(f"chunk stream {csid} starts with a type-{fmt} header")
            state = _StreamState()
        if fmt == 3:
            field = state.field
        else:
            field = int.from_bytes(buf[pos : pos + 3], "big")
        if field == EXTENDED_TIMESTAMP:
            if end + 4 > len(buf):
                return None, 0
            (value,) = struct.unpack_from(">I", buf, end)
            end += 4
        else:
            value = field
        starts = state.left == 0
        if not starts and fmt != 3:
            raise ChunkSyncLost(f"a type-{fmt} header interrupts a message on chunk stream {csid}")
        length, type_id, stream_id, delta = state.length, state.type_id, state.stream_id, state.delta
        if fmt <= 1:
            length, type_id = int.from_bytes(buf[pos + 3 : pos + 6], "big"), buf[pos + 6]
        if fmt == 0:
            (stream_id,) = struct.unpack_from("<I", buf, pos + 7)
        if fmt != 3:
            delta = value
        if starts:
            timestamp = value if fmt == 0 else (state.timestamp + delta) & 0xFFFFFFFF
        else:
            timestamp = state.timestamp
        if type_id not in KNOWN_TYPES:
            raise ChunkSyncLost(f"unknown message type {type_id} on chunk stream {csid}")
        header = ChunkHeader(fmt, csid, buf[:end], starts, timestamp, delta, length, type_id, stream_id)
        self._streams[csid] = _StreamState(
            timestamp, delta, field, length, type_id, stream_id, length if starts else state.left
        )
        return header, end

    def _start_chunk(self, header: ChunkHeader) -> None:
        state = self._streams[header.csid]
        self._chunk = header
        self._chunk_left = min(self.chunk_size, state.left)
        if header.starts_message:
            self._collected.pop(header.csid, None)

    def _payload(self, piece: bytes) -> Iterator[tuple]:
        header = self._chunk
        assert header is not None
        state = self._streams[header.csid]
        state.left -= len(piece)
        collect = header.type_id in _COLLECTED and header.length <= _MAX_COLLECTED
        if collect:
            self._collected.setdefault(header.csid, bytearray()).extend(piece)
        if state.left or self._chunk_left or not collect:
            return
        # A control message is complete.
        payload = bytes(self._collected.pop(header.csid))
        if header.type_id == SET_CHUNK_SIZE and len(payload) >= 4:
            size = struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF  # the top bit must be zero
            if size == 0:
                raise ChunkSyncLost("Set Chunk Size to 0")
            self.chunk_size = size
        elif header.type_id == ABORT and len(payload) >= 4:
            aborted = self._streams.get(struct.unpack_from(">I", payload)[0])
            if aborted is not None:
                aborted.left = 0
        yield ("message", header, payload)

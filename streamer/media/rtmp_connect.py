"""Rewrite the URL the ingest sees in the publisher's RTMP ``connect`` command.

Why: the publisher child connects to our loopback relay, so FFmpeg's ``connect`` carries
``tcUrl = rtmp://127.0.0.1:RELAYPORT/<app>``, and PyAV ignores the ``rtmp_tcurl`` option that would fix it at
the source. Ingests that route or validate by tcUrl (SRS vhosts, Wowza, some cloud ingests) may refuse
that. ``ConnectRewriter`` sits in the relay's client->server byte stream and replaces the
``rtmp://127.0.0.1:RELAYPORT`` prefix of tcUrl (and of any other URL property of the command object that
starts with it, e.g. swfUrl) with the URL the user gave -- ``<scheme>://<host>[:port]``, the port only if
they wrote one -- keeping the ``/<app>`` path FFmpeg computed. The stream key is never part of it: FFmpeg
puts the key in the later publish command, not in tcUrl. Every other byte passes through unchanged.

Byte layout (RTMP spec 1.0): the client sends C0 (1 byte, version 3) + C1 (1536), later C2 (1536); then
its first chunk stream message is the AMF0 ``connect`` command (message type 20), split into chunks of
the default 128 bytes: a type-0 chunk header (basic header with the chunk stream id; 3-byte timestamp,
3-byte length, type id, 4-byte little-endian message stream id; a 4-byte extended timestamp when the
timestamp field is 0xFFFFFF) followed by type-3 continuation headers on the same chunk stream. A Set
Chunk Size message (type 1) sent before it is forwarded and applied.

Anything unexpected (another protocol version, another first command, a layout we do not handle) is
logged once and forwarded byte for byte: this is a courtesy to the ingest, never a reason to break the
stream.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from streamer.media.amf0 import Amf0Error, decode_values, encode_values
from streamer.media.rtmp_chunks import DEFAULT_CHUNK_SIZE, SET_CHUNK_SIZE, parse_basic_header
from streamer.media.rtmp_chunks import EXTENDED_TIMESTAMP as _MAX_EXTENDED
from streamer.media.rtmp_chunks import HANDSHAKE_BYTES as CLIENT_HANDSHAKE_BYTES
from streamer.redact import redact_url

log = logging.getLogger(__name__)

RTMP_VERSION = 3
AMF0_COMMAND = 20

# A connect command is ~150 bytes; holding more than this means we misread the stream.
_MAX_HELD = 64 * 1024
# Set Chunk Size messages we accept before the connect command.
_MAX_LEADING_CONTROL = 4


class NotRewritable(Exception):
    """The stream does not start the way we can rewrite; the message says why (never secrets)."""


class IncompleteMessage(Exception):
    """More bytes are needed before the first message can be parsed."""


@dataclass(frozen=True)
class ChunkedMessage:
    """One RTMP message as read off the chunk stream, with what it takes to chunk it the same way."""

    basic_header: bytes  # of the first chunk, as sent (fmt 0); continuations use the same with fmt 3
    timestamp: int
    extended_timestamp: bool  # the header carried a 4-byte extended timestamp
    type_id: int
    stream_id: int
    payload: bytes
    end: int  # offset just past the message's last chunk in the parsed buffer


def parse_message(buf: bytes, pos: int = 0, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ChunkedMessage:
    """Reassemble the message starting at ``buf[pos]`` (a type-0 chunk followed by type-3 continuations
    on the same chunk stream). Raises ``IncompleteMessage`` if ``buf`` ends first, ``NotRewritable`` for
    layouts we do not handle (chunks of other streams interleaved, a first chunk that is not type 0)."""
    fmt, csid, basic_header, pos = _basic_header(buf, pos)
    if fmt != 0:
        raise NotRewritable(f"first chunk has header type {fmt}, expected 0")
    _need(buf, pos, 11)
    timestamp = int.from_bytes(buf[pos : pos + 3], "big")
    length = int.from_bytes(buf[pos + 3 : pos + 6], "big")
    type_id = buf[pos + 6]
    (stream_id,) = struct.unpack_from("<I", buf, pos + 7)
    pos += 11
    extended = timestamp == _MAX_EXTENDED
    if extended:
        _need(buf, pos, 4)
        (timestamp,) = struct.unpack_from(">I", buf, pos)
        pos += 4
    payload = bytearray()
    while True:
        take = min(chunk_size, length - len(payload))
        _need(buf, pos, take)
        payload += buf[pos : pos + take]
        pos += take
        if len(payload) == length:
            break
        fmt, next_csid, _, pos = _basic_header(buf, pos)
        if fmt != 3 or next_csid != csid:
            raise NotRewritable("the first message is interleaved with other chunk streams")
        if extended:
            _need(buf, pos, 4)
            pos += 4
    return ChunkedMessage(bytes(basic_header), timestamp, extended, type_id, stream_id, bytes(payload), pos)


def chunk_message(message: ChunkedMessage, payload: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes:
    """``payload`` as ``message`` was sent: same chunk stream, timestamp, type and stream id, new length."""
    if len(payload) > _MAX_EXTENDED:
        raise NotRewritable("rewritten message is too long for an RTMP chunk header")
    ext = struct.pack(">I", message.timestamp) if message.extended_timestamp else b""
    ts_field = _MAX_EXTENDED if message.extended_timestamp else message.timestamp
    out = bytearray(message.basic_header)
    out += ts_field.to_bytes(3, "big") + len(payload).to_bytes(3, "big") + bytes([message.type_id])
    out += struct.pack("<I", message.stream_id) + ext + payload[:chunk_size]
    continuation = bytes([message.basic_header[0] | 0xC0]) + message.basic_header[1:] + ext
    for offset in range(chunk_size, len(payload), chunk_size):
        out += continuation + payload[offset : offset + chunk_size]
    return bytes(out)


def rewrite_connect_payload(payload: bytes, local_base: str, public_base: str) -> tuple[bytes, str]:
    """The AMF0 ``connect`` payload with every command-object string that starts with ``local_base``
    (tcUrl must be one) rebased onto ``public_base``; returns (new payload, new tcUrl)."""
    try:
        values = decode_values(payload)
        if encode_values(values) != payload:
            raise NotRewritable("its AMF0 does not re-encode to the same bytes")
    except Amf0Error as exc:
        raise NotRewritable(f"its AMF0 cannot be decoded ({exc})") from None
    if not values or values[0] != "connect":
        shown = repr(values[0])[:40] if values else "empty"
        raise NotRewritable(f"the first command is {shown}, not 'connect'")
    if len(values) < 3 or not isinstance(values[2], dict):
        raise NotRewritable("the connect command has no command object")
    command = values[2]
    tc_url = command.get("tcUrl")
    if not isinstance(tc_url, str) or not _is_under(tc_url, local_base):
        raise NotRewritable("the connect command's tcUrl is missing or not the relay's URL")
    for key, value in command.items():
        if isinstance(value, str) and _is_under(value, local_base):
            command[key] = public_base + value[len(local_base) :]
    try:
        return encode_values(values), command["tcUrl"]
    except Amf0Error as exc:
        raise NotRewritable(f"the rewritten command cannot be encoded ({exc})") from None


class ConnectRewriter:
    """Feed it the client->server bytes in order; it returns what to send upstream now.

    ``local_base`` is what the publisher connected to (``rtmp://127.0.0.1:RELAYPORT``), ``public_base``
    what the ingest should see instead (``rtmps://ingest.example``). Bytes are held back only between the
    end of the handshake and the end of the connect command (a few hundred bytes, which the publisher
    sends without waiting for an answer).
    """

    def __init__(self, local_base: str, public_base: str) -> None:
        self._local_base = local_base.rstrip("/")
        self._public_base = public_base.rstrip("/")
        self._handshake_left = CLIENT_HANDSHAKE_BYTES
        self._held = bytearray()
        self.done = False  # True once bytes simply pass through
        self.rewritten = False

    def feed(self, data: bytes) -> bytes:
        if self.done:
            return data
        out = bytearray()
        if self._handshake_left:
            head = data[: self._handshake_left]
            if self._handshake_left == CLIENT_HANDSHAKE_BYTES and head and head[0] != RTMP_VERSION:
                return self._give_up(f"the client speaks RTMP version {head[0]}, not {RTMP_VERSION}", data)
            self._handshake_left -= len(head)
            out += head
            data = data[len(head) :]
        if not data:
            return bytes(out)
        self._held += data
        try:
            start, message, chunk_size = _first_command(self._held)
            payload, tc_url = rewrite_connect_payload(message.payload, self._local_base, self._public_base)
            rewritten = chunk_message(message, payload, chunk_size)
        except IncompleteMessage:
            if len(self._held) > _MAX_HELD:
                return bytes(out) + self._give_up("no complete first message in the first 64 KiB", b"")
            return bytes(out)
        except NotRewritable as exc:
            return bytes(out) + self._give_up(str(exc), b"")
        except Exception as exc:  # a bug here must cost the ingest its tcUrl at worst, never the stream
            log.debug("connect rewrite failed", exc_info=True)
            return bytes(out) + self._give_up(f"internal error {type(exc).__name__}", b"")
        out += self._held[:start] + rewritten + self._held[message.end :]
        self._held.clear()
        self.done = self.rewritten = True
        log.info("relay: RTMP connect now says tcUrl=%s", redact_url(tc_url))
        return bytes(out)

    def finish(self) -> bytes:
        """The publisher hung up: whatever is still held back, unchanged."""
        held = bytes(self._held)
        self._held.clear()
        self.done = True
        return held

    def _give_up(self, reason: str, data: bytes) -> bytes:
        log.warning(
            "relay: cannot rewrite the RTMP connect command (%s); forwarding it unchanged, so the ingest "
            "sees tcUrl=%s/...",
            reason,
            self._local_base,
        )
        out = bytes(self._held) + data
        self._held.clear()
        self.done = True
        return out


def _first_command(buf: bytes) -> tuple[int, ChunkedMessage, int]:
    """(offset, message, chunk size in force) of the first AMF0 command after any Set Chunk Size."""
    pos, chunk_size = 0, DEFAULT_CHUNK_SIZE
    for _ in range(_MAX_LEADING_CONTROL + 1):
        message = parse_message(buf, pos, chunk_size)
        if message.type_id == SET_CHUNK_SIZE and len(message.payload) == 4:
            # The top bit must be zero; a size of 0 would make no progress.
            chunk_size = struct.unpack(">I", message.payload)[0] & 0x7FFFFFFF
            if chunk_size == 0:
                raise NotRewritable("the client set a chunk size of 0")
            pos = message.end
            continue
        if message.type_id != AMF0_COMMAND:
            raise NotRewritable(f"the first message has type {message.type_id}, not an AMF0 command")
        return pos, message, chunk_size
    raise NotRewritable("too many Set Chunk Size messages before the first command")


def _basic_header(buf: bytes, pos: int) -> tuple[int, int, bytes, int]:
    """(fmt, chunk stream id, the header's bytes, offset after it) for the 1-, 2- and 3-byte forms."""
    parsed = parse_basic_header(buf, pos)
    if parsed is None:
        raise IncompleteMessage
    fmt, csid, size = parsed
    return fmt, csid, bytes(buf[pos : pos + size]), pos + size


def _need(buf: bytes, pos: int, size: int) -> None:
    if pos + size > len(buf):
        raise IncompleteMessage


def _is_under(url: str, base: str) -> bool:
    return url == base or url.startswith(base + "/")

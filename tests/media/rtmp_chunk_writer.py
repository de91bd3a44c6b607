"""Test helpers: an RTMP chunk writer that compresses headers the way FFmpeg's ``ff_rtmp_packet_write``
does, and a reassembler that turns ``ChunkTracker`` events back into messages."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from streamer.media.rtmp_chunks import EXTENDED_TIMESTAMP, ChunkTracker, encode_basic_header


@dataclass(frozen=True)
class Message:
    csid: int
    timestamp: int
    type_id: int
    stream_id: int
    payload: bytes


@dataclass
class _Previous:
    timestamp: int
    delta: int
    field: int
    type_id: int
    length: int
    stream_id: int


class ChunkWriter:
    """Chunks messages like FFmpeg: type 0 for a stream's first message or a timestamp going back, 1 for a
    new length or type, 2 for a new timestamp delta, 3 when only the payload is new."""

    def __init__(self, chunk_size: int = 128) -> None:
        self.chunk_size = chunk_size
        self._prev: dict[int, _Previous] = {}

    def chunks(self, m: Message) -> list[bytes]:
        """The chunks of ``m`` (send them in order; other streams' chunks may go in between)."""
        prev = self._prev.get(m.csid)
        fmt, value = 0, m.timestamp
        if prev is not None and prev.stream_id == m.stream_id and m.timestamp >= prev.timestamp:
            value = m.timestamp - prev.timestamp
            if prev.type_id == m.type_id and prev.length == len(m.payload):
                fmt = 3 if value == prev.delta else 2
            else:
                fmt = 1
        field = prev.field if fmt == 3 else min(value, EXTENDED_TIMESTAMP)
        ext = struct.pack(">I", value) if field == EXTENDED_TIMESTAMP else b""
        header = encode_basic_header(fmt, m.csid)
        if fmt < 3:
            header += field.to_bytes(3, "big")
        if fmt < 2:
            header += len(m.payload).to_bytes(3, "big") + bytes([m.type_id])
        if fmt == 0:
            header += struct.pack("<I", m.stream_id)
        header += ext
        self._prev[m.csid] = _Previous(m.timestamp, value, field, m.type_id, len(m.payload), m.stream_id)
        pieces = [m.payload[i : i + self.chunk_size] for i in range(0, len(m.payload), self.chunk_size)] or [b""]
        continuation = encode_basic_header(3, m.csid) + ext
        return [header + pieces[0]] + [continuation + piece for piece in pieces[1:]]

    def write(self, messages: Iterable[Message]) -> bytes:
        return b"".join(b"".join(self.chunks(m)) for m in messages)


def set_chunk_size(size: int, timestamp: int = 0) -> Message:
    return Message(2, timestamp, 1, 0, struct.pack(">I", size))


def reassemble(tracker: ChunkTracker, data: bytes, splits: Iterable[int] = ()) -> tuple[list[Message], bytes]:
    """Feed ``data`` in pieces cut at ``splits``; return (messages in completion order, bytes seen)."""
    cuts = [0, *sorted(set(splits)), len(data)]
    messages: list[Message] = []
    seen = bytearray()
    partial: dict[int, tuple[int, int, int, int, bytearray]] = {}
    current = None
    for start, end in zip(cuts, cuts[1:]):
        for event in tracker.feed(data[start:end]):
            if event[0] == "header":
                header = event[1]
                seen += header.raw
                current = header.csid
                if header.starts_message:
                    partial[current] = (header.timestamp, header.type_id, header.stream_id, header.length,
                                        bytearray())
            elif event[0] == "raw":
                seen += event[1]
                if current is None:
                    continue  # handshake
                partial[current][4].extend(event[1])
            if current in partial and len(partial[current][4]) == partial[current][3]:
                timestamp, type_id, stream_id, _, payload = partial.pop(current)
                messages.append(Message(current, timestamp, type_id, stream_id, bytes(payload)))
    return messages, bytes(seen)

"""ChunkTracker follows RTMP chunk streams as FFmpeg writes them, fed in pieces of any size."""

from __future__ import annotations

import random
import struct

import pytest

from streamer.media.rtmp_chunks import HANDSHAKE_BYTES, ChunkSyncLost, ChunkTracker, encode_basic_header
from tests.media.rtmp_chunk_writer import ChunkWriter, Message, reassemble, set_chunk_size
from tests.media.test_rtmp_connect import AFTER, FFMPEG_CONNECT, HANDSHAKE


def _media(count: int, size: int, *, start: int = 0, step: int = 33, csid: int = 6, type_id: int = 9) -> list[Message]:
    rng = random.Random(size)
    return [Message(csid, start + i * step, type_id, 1, rng.randbytes(size)) for i in range(count)]


def _all_splits(data: bytes) -> list[list[int]]:
    """Whole, byte by byte, and random cuts: the tracker must not care where reads end."""
    rng = random.Random(len(data))
    return [[], list(range(1, len(data))), sorted(rng.sample(range(1, len(data)), min(40, len(data) - 1)))]


@pytest.mark.parametrize("chunk_size", [128, 4096, 7, 1])
def test_messages_come_back_whole_at_any_chunk_size(chunk_size: int) -> None:
    messages = [*_media(5, 300), *_media(3, 0, start=500), *_media(4, 129, start=600, type_id=8, csid=4)]
    writer = ChunkWriter(128)
    wire = writer.write([set_chunk_size(chunk_size)])
    writer.chunk_size = chunk_size
    wire += writer.write(messages)
    for splits in _all_splits(wire)[:2 if chunk_size > 1 else 1]:
        tracker = ChunkTracker(handshake_bytes=0)
        got, seen = reassemble(tracker, wire, splits)
        assert seen == wire  # every byte reported exactly once, in order
        assert got == [set_chunk_size(chunk_size), *messages]
        assert tracker.chunk_size == chunk_size


def test_interleaved_chunk_streams() -> None:
    """Audio and video chunks alternate, as FFmpeg's muxer may send them; each stream keeps its own state."""
    writer = ChunkWriter(128)
    video, audio = _media(3, 400, csid=6), _media(3, 300, csid=4, type_id=8, start=10)
    wire = b""
    for v, a in zip(video, audio):
        vc, ac = writer.chunks(v), writer.chunks(a)
        for i in range(max(len(vc), len(ac))):
            wire += (vc[i] if i < len(vc) else b"") + (ac[i] if i < len(ac) else b"")
    for splits in _all_splits(wire):
        got, seen = reassemble(ChunkTracker(handshake_bytes=0), wire, splits)
        assert seen == wire
        assert sorted(got, key=lambda m: (m.csid, m.timestamp)) == sorted(video + audio, key=lambda m: (m.csid, m.timestamp))


def test_extended_timestamps_absolute_and_delta() -> None:
    """Past 0xFFFFFF ms (4.6 h) headers carry 4 more bytes, and so do their type-3 continuations."""
    late = 0x1000000 + 5
    messages = [
        Message(6, late, 9, 1, b"a" * 300),  # type 0 with extended timestamp, 3 chunks
        Message(6, late + 33, 9, 1, b"b" * 300),  # type 2, small delta: no extended field
        Message(6, late + 33 + 0x1000000, 9, 1, b"c" * 10),  # type 1, extended delta
        Message(6, late + 33 + 0x2000000, 9, 1, b"d" * 10),  # type 3 new message, repeats the extended delta
    ]
    wire = ChunkWriter(128).write(messages)
    assert wire.count(struct.pack(">I", late)) == 3  # the header and both continuations
    for splits in _all_splits(wire):
        got, seen = reassemble(ChunkTracker(handshake_bytes=0), wire, splits)
        assert seen == wire
        assert got == messages


def test_long_chunk_stream_ids_and_abort() -> None:
    writer = ChunkWriter(128)
    wire = writer.write([Message(64 + 200, 0, 9, 1, b"x" * 200), Message(64 + 1000, 0, 8, 1, b"y" * 10)])
    aborted = writer.chunks(Message(6, 0, 9, 1, b"z" * 300))[0]  # first chunk only, then aborted
    abort = writer.write([Message(2, 0, 2, 0, struct.pack(">I", 6))])
    after = writer.write([Message(6, 40, 9, 1, b"w" * 5)])
    tracker = ChunkTracker(handshake_bytes=0)
    got, _ = reassemble(tracker, wire + aborted + abort + after)
    assert [(m.csid, len(m.payload)) for m in got] == [(264, 200), (1064, 10), (2, 4), (6, 5)]
    assert not tracker.mid_message(6)
    assert encode_basic_header(0, 1064) == bytes([1, 1000 & 0xFF, 1000 >> 8])


def test_real_ffmpeg_bytes_after_the_handshake() -> None:
    """What FFmpeg 8.1 sent: connect (140 bytes in 2 chunks of 128), then Set Chunk Size 4096."""
    tracker = ChunkTracker()
    wire = HANDSHAKE + FFMPEG_CONNECT + AFTER
    got, seen = reassemble(tracker, wire, [100, HANDSHAKE_BYTES + 5])
    assert seen == wire
    assert [(m.csid, m.type_id, len(m.payload)) for m in got] == [(3, 20, 140), (2, 1, 4)]
    assert tracker.chunk_size == 4096


def test_mid_message_is_reported_per_stream() -> None:
    wire = ChunkWriter(128).chunks(Message(2, 0, 5, 0, b"q" * 200))
    tracker = ChunkTracker(handshake_bytes=0)
    events = list(tracker.feed(wire[0]))
    assert ("boundary",) in events
    assert tracker.mid_message(2) and not tracker.mid_message(6)
    list(tracker.feed(wire[1]))
    assert not tracker.mid_message(2)


@pytest.mark.parametrize(
    "wire, why",
    [
        (bytes([0x46]) + bytes(7), "starts with a type-1 header"),  # fmt 1 on a stream never seen
        (bytes([0x06]) + bytes(6) + bytes([0x63]) + bytes(4), "unknown message type 99"),
        (ChunkWriter().chunks(Message(6, 0, 9, 1, b"v" * 200))[0] + bytes([0x06]) + bytes(11),
         "interrupts a message"),
        (ChunkWriter().write([set_chunk_size(0)]), "Set Chunk Size to 0"),
    ],
)
def test_what_it_cannot_follow_ends_tracking(wire: bytes, why: str) -> None:
    with pytest.raises(ChunkSyncLost, match=why):
        list(ChunkTracker(handshake_bytes=0).feed(wire))


def test_incomplete_header_is_held_back_not_lost() -> None:
    wire = ChunkWriter().write([Message(6, 0, 9, 1, b"p" * 10)])
    tracker = ChunkTracker(handshake_bytes=0)
    events = list(tracker.feed(wire[:5]))
    assert events == [("boundary",)]
    assert tracker.held() == wire[:5]

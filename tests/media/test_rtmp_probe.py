"""LivenessProbe on bytes: pings go in only where they cannot hurt, the ingest's view of every message stays
what the publisher sent, answers are recognised, and anything odd turns probing off, not the stream."""

from __future__ import annotations

import logging
import struct

import pytest

from streamer.media.rtmp_chunks import HANDSHAKE_BYTES, ChunkTracker
from streamer.media.rtmp_probe import LivenessProbe
from tests.media.rtmp_chunk_writer import ChunkWriter, Message, reassemble, set_chunk_size
from tests.media.test_rtmp_connect import AFTER, FFMPEG_CONNECT, HANDSHAKE

SERVER_HANDSHAKE = bytes([3]) + bytes(2 * 1536)


def _is_ping(m: Message) -> bool:
    return m.csid == 2 and m.type_id == 4 and m.payload[:2] == b"\x00\x06"


def _publisher_session() -> tuple[bytes, list[bytes], list[Message]]:
    """(bytes up to publish, then one piece per later message, the later messages) as FFmpeg would send
    them at chunk size 4096, with control messages on chunk stream 2 whose headers are compressed."""
    writer = ChunkWriter(4096)
    later = [
        Message(4, 0, 8, 1, b"\xaf\x00" + b"c" * 5),  # first media: probing may start after it
        Message(6, 0, 9, 1, b"v" * 5000),  # two chunks
        Message(2, 0, 3, 0, struct.pack(">I", 1000)),  # Acknowledgement: type 0 on stream 2
        Message(4, 23, 8, 1, b"a" * 300),
        Message(2, 0, 3, 0, struct.pack(">I", 2000)),  # same again: type-3 header on stream 2
        Message(6, 33, 9, 1, b"w" * 700),
        Message(2, 5, 3, 0, struct.pack(">I", 3000)),  # type-2 header on stream 2
        Message(2, 7, 5, 0, struct.pack(">I", 2500000)),  # type-1 header on stream 2
        Message(6, 66, 9, 1, b"x" * 90),
    ]
    pieces = [b"".join(writer.chunks(m)) for m in later]
    return HANDSHAKE + FFMPEG_CONNECT + AFTER, pieces, later


def test_pings_go_in_after_media_starts_and_the_ingest_sees_every_message_unchanged() -> None:
    head, pieces, later = _publisher_session()
    probe = LivenessProbe()
    probe.request()  # too early: nothing goes in before media
    out = probe.outgoing(head, now=0.0)
    assert out == head
    for index, piece in enumerate(pieces):
        if index:  # before every later message (the first ones on stream 2 must be restored)
            probe.request()
        out += probe.outgoing(piece, now=float(index))
    server = ChunkTracker()
    got, _ = reassemble(server, out)
    pings = [m for m in got if _is_ping(m)]
    assert len(pings) == len(pieces) - 1
    assert [struct.unpack(">I", p.payload[2:])[0] for p in pings] == list(range(1, len(pieces)))
    assert [m for m in got if not _is_ping(m)][-len(later):] == later  # timestamps, types, lengths, payloads
    assert probe.injected_bytes == len(pings) * 18
    assert server.chunk_size == 4096


def test_no_ping_inside_a_half_sent_message_on_chunk_stream_2() -> None:
    writer = ChunkWriter(128)
    head = HANDSHAKE + FFMPEG_CONNECT + writer.write([Message(4, 0, 8, 1, b"m")])
    control = writer.chunks(Message(2, 0, 5, 0, b"k" * 200))  # two chunks on stream 2 (a made-up size)
    probe = LivenessProbe()
    out = probe.outgoing(head, 0.0)
    probe.request()
    out += probe.outgoing(control[0], 0.5)  # a ping may go before it ...
    probe.request()
    out += probe.outgoing(control[1], 0.6)  # ... but not between its chunks
    out += probe.outgoing(writer.write([Message(6, 0, 9, 1, b"v")]), 0.7)
    got, _ = reassemble(ChunkTracker(), out)  # raises ChunkSyncLost if a ping split the message
    assert [m.type_id for m in got if m.csid == 2] == [4, 5, 4]


def _answer(value: int, *, compressed: bool) -> bytes:
    """The ingest's side: handshake, Set Chunk Size, then a PingResponse (type-1 header if ``compressed``)."""
    writer = ChunkWriter(128)
    out = SERVER_HANDSHAKE + writer.write([set_chunk_size(4096), Message(2, 0, 4, 0, b"\x00\x00" + bytes(4))])
    writer.chunk_size = 4096
    return out + writer.write([Message(2, 10 if compressed else 0, 4, 0, struct.pack(">HI", 7, value))])


def _probing(now: float = 10.0) -> tuple[LivenessProbe, bytes]:
    head, pieces, _ = _publisher_session()
    probe = LivenessProbe()
    probe.outgoing(head + pieces[0], 0.0)
    probe.request()
    out = probe.outgoing(pieces[1], now)
    return probe, out


@pytest.mark.parametrize("compressed", [False, True])
def test_ping_response_is_recognised(compressed: bool) -> None:
    probe, _ = _probing()
    assert not probe.active
    answer = _answer(1, compressed=compressed)
    probe.incoming(answer[:HANDSHAKE_BYTES + 3], 10.1)  # split inside a chunk header
    probe.incoming(answer[HANDSHAKE_BYTES + 3 :], 10.1)
    assert probe.answered == 1 and probe.active


def test_stall_needs_a_trusted_unanswered_ping_and_bytes_sent_after_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "streamer.media.rtmp_probe")
    probe, _ = _probing(now=10.0)
    _, pieces, _ = _publisher_session()
    # Never answered: not trusted, logged once.
    probe.outgoing(pieces[2], 11.0)
    assert not probe.stalled(13.5, 3.0)
    assert not probe.stalled(14.0, 3.0)
    assert sum("does not answer RTMP pings" in r.getMessage() for r in caplog.records) == 1
    # The ingest answers ping 1; ping 2 goes out at 20 and waits.
    probe.incoming(_answer(1, compressed=False), 15.0)
    assert probe.active
    probe.request()
    probe.outgoing(pieces[3], 20.0)
    assert not probe.stalled(22.9, 3.0)
    assert not probe.stalled(23.1, 3.0), "nothing was sent after the ping: the publisher is idle, not us"
    probe.outgoing(pieces[4], 23.2)
    assert probe.stalled(23.2, 3.0)


def test_unknown_answer_values_are_ignored() -> None:
    probe, _ = _probing()
    probe.incoming(_answer(12345, compressed=False), 10.5)
    assert probe.answered == 0


def test_due_paces_pings() -> None:
    probe, _ = _probing(now=10.0)
    assert not probe.due(10.4)
    assert probe.due(10.5)


def test_outgoing_garbage_turns_probing_off_and_passes_bytes_through(caplog: pytest.LogCaptureFixture) -> None:
    head, pieces, _ = _publisher_session()
    probe = LivenessProbe()
    sent = probe.outgoing(head + pieces[0], 0.0)
    garbage = bytes([0x46]) + bytes(40)  # a type-1 header of message type 0: not RTMP
    fed = [pieces[1][:7], pieces[1][7:] + garbage, pieces[2]]
    for data in fed:
        probe.request()
        sent += probe.outgoing(data, 5.0)
    assert sent.endswith(garbage + pieces[2])  # nothing went in once the stream stopped parsing
    assert _without_pings(sent) == head + pieces[0] + b"".join(fed)
    assert any("stopped RTMP liveness probing" in r.getMessage() for r in caplog.records)
    assert not probe.due(100.0) and not probe.stalled(100.0, 3.0)


def _without_pings(wire: bytes) -> bytes:
    ping = bytes.fromhex("020000000000060400000000") + b"\x00\x06"  # header, PingRequest; 4-byte value
    while (start := wire.find(ping)) >= 0:
        wire = wire[:start] + wire[start + 18 :]
    return wire


def test_incoming_garbage_turns_probing_off(caplog: pytest.LogCaptureFixture) -> None:
    probe, _ = _probing()
    probe.incoming(SERVER_HANDSHAKE + bytes([0x46]) + bytes(20), 10.2)
    probe.incoming(_answer(1, compressed=False)[HANDSHAKE_BYTES:], 10.3)
    assert probe.answered == 0 and not probe.active
    assert any("stopped RTMP liveness probing" in r.getMessage() for r in caplog.records)


def test_finish_returns_a_held_back_header() -> None:
    head, pieces, _ = _publisher_session()
    probe = LivenessProbe()
    out = probe.outgoing(head + pieces[0] + pieces[1][:4], 0.0)
    assert out + probe.finish() == head + pieces[0] + pieces[1][:4]

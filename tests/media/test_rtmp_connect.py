"""The AMF0 codec and the RTMP connect rewriter, on bytes."""

from __future__ import annotations

import logging
import struct

import pytest

from streamer.media.amf0 import UNDEFINED, Amf0Error, EcmaArray, decode_values, encode_values
from streamer.media.rtmp_connect import (
    CLIENT_HANDSHAKE_BYTES,
    ConnectRewriter,
    IncompleteMessage,
    chunk_message,
    parse_message,
)

LOCAL = "rtmp://127.0.0.1:50941"
PUBLIC = "rtmps://ingest.example.com"

# What FFmpeg 8.1 (PyAV 18.1) sent after the handshake for rtmp://127.0.0.1:50941/live/<key>: the connect
# command, 140 bytes in a 128-byte chunk and a type-3 continuation (the 0xc3 inside "50941").
FFMPEG_CONNECT = bytes.fromhex(
    "0300000000008c1400000000020007636f6e6e656374003ff00000000000000300036170700200046c6976650004747970"
    "6502000a6e6f6e707269766174650008666c617368566572020024464d4c452f332e302028636f6d70617469626c653b"
    "204c61766636322e31322e313032290005746355726c02001b72746d703a2f2f3132372e302e302e313a35c3303934312f"
    "6c697665000009"
)
HANDSHAKE = bytes([3]) + bytes(range(256)) * 12  # C0 + C1 + C2: 1 + 3072 bytes
assert len(HANDSHAKE) == CLIENT_HANDSHAKE_BYTES
AFTER = bytes.fromhex("02000000000004010000000000001000")  # Set Chunk Size 4096, as FFmpeg sends next


def _connect_payload(tc_url: str = LOCAL + "/live", **extra: object) -> bytes:
    command = {"app": "live", "type": "nonprivate", "flashVer": "FMLE/3.0", "tcUrl": tc_url, **extra}
    return encode_values(["connect", 1.0, command])


def _chunked(payload: bytes, *, basic: bytes = b"\x03", timestamp: int = 0, chunk_size: int = 128,
             type_id: int = 20) -> bytes:
    """A message as a client writes it, built independently of the module under test."""
    extended = timestamp >= 0xFFFFFF
    ext = struct.pack(">I", timestamp) if extended else b""
    header = basic + (0xFFFFFF if extended else timestamp).to_bytes(3, "big") + len(payload).to_bytes(3, "big")
    out = header + bytes([type_id]) + struct.pack("<I", 0) + ext + payload[:chunk_size]
    for offset in range(chunk_size, len(payload), chunk_size):
        out += bytes([basic[0] | 0xC0]) + basic[1:] + ext + payload[offset : offset + chunk_size]
    return out


def _rewrite(stream: bytes, step: int | None = None, local: str = LOCAL) -> tuple[bytes, ConnectRewriter]:
    rewriter = ConnectRewriter(local, PUBLIC)
    step = step or len(stream)
    out = b"".join(rewriter.feed(stream[i : i + step]) for i in range(0, len(stream), step))
    return out + rewriter.finish(), rewriter


def _command_sent(wire: bytes, chunk_size: int = 128) -> dict:
    message = parse_message(wire[CLIENT_HANDSHAKE_BYTES:], 0, chunk_size)
    return decode_values(message.payload)[2]


# -- AMF0 ------------------------------------------------------------------------------------------


def test_amf0_round_trips_every_supported_type() -> None:
    values = [
        "connect", 1.0, -2.5e300, True, False, None, UNDEFINED, "ünïcode",
        {"app": "live", "nested": {"n": 3.0, "flag": True}, "nothing": None},
        EcmaArray({"duration": 0.0, "encoder": "Lavf"}, declared_count=7),
    ]
    wire = encode_values(values)
    decoded = decode_values(wire)
    assert decoded[:6] == values[:6] and decoded[7:9] == values[7:9]
    assert decoded[6] is UNDEFINED
    assert isinstance(decoded[9], EcmaArray) and decoded[9] == values[9]
    assert decoded[9].declared_count == 7  # kept as sent, even when it does not match
    assert encode_values(decoded) == wire


def test_amf0_wire_format_matches_the_spec() -> None:
    assert encode_values(["ab"]) == b"\x02\x00\x02ab"
    assert encode_values([1.0]) == b"\x00\x3f\xf0" + bytes(6)
    assert encode_values([True, None]) == b"\x01\x01\x05"
    assert encode_values([{"a": False}]) == b"\x03\x00\x01a\x01\x00\x00\x00\x09"
    assert encode_values([EcmaArray({})]) == b"\x08\x00\x00\x00\x00\x00\x00\x09"


@pytest.mark.parametrize(
    "wire",
    [b"\x02\x00\x05ab", b"\x00\x3f", b"\x03\x00\x01a\x01\x00", b"\x11", b"\x0c\x00\x00\x00\x01a", b"\x01\x07"],
    ids=["short string", "short number", "unterminated object", "AMF3 marker", "long string", "bad boolean"],
)
def test_amf0_rejects_what_it_cannot_read(wire: bytes) -> None:
    with pytest.raises(Amf0Error):
        decode_values(wire)


def test_amf0_decodes_ffmpegs_connect() -> None:
    message = parse_message(FFMPEG_CONNECT)
    assert message.end == len(FFMPEG_CONNECT) and len(message.payload) == 140
    assert decode_values(message.payload) == [
        "connect", 1.0,
        {"app": "live", "type": "nonprivate", "flashVer": "FMLE/3.0 (compatible; Lavf62.12.102)",
         "tcUrl": "rtmp://127.0.0.1:50941/live"},
    ]


# -- chunking --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "basic", [b"\x03", b"\x00\x24", b"\x01\x50\x01"], ids=["csid 3", "2-byte csid 100", "3-byte csid 400"]
)
@pytest.mark.parametrize("timestamp", [0, 0x1234567], ids=["timestamp", "extended timestamp"])
def test_multi_chunk_message_round_trips(basic: bytes, timestamp: int) -> None:
    payload = _connect_payload(flashVer="x" * 300)  # three chunks at 128
    wire = _chunked(payload, basic=basic, timestamp=timestamp)
    message = parse_message(wire + b"trailing")
    assert message.payload == payload and message.end == len(wire)
    assert message.timestamp == timestamp
    assert chunk_message(message, message.payload) == wire
    with pytest.raises(IncompleteMessage):
        parse_message(wire[:-1])


# -- the rewriter ----------------------------------------------------------------------------------


def test_rewrites_ffmpegs_connect_and_nothing_else() -> None:
    stream = HANDSHAKE + FFMPEG_CONNECT + AFTER
    out, rewriter = _rewrite(stream)

    assert rewriter.rewritten
    assert out.startswith(HANDSHAKE) and out.endswith(AFTER)
    message = parse_message(out[CLIENT_HANDSHAKE_BYTES:])
    assert message.end == len(out) - CLIENT_HANDSHAKE_BYTES - len(AFTER)
    values = decode_values(message.payload)
    original = decode_values(parse_message(FFMPEG_CONNECT).payload)
    assert values[2]["tcUrl"] == "rtmps://ingest.example.com/live"
    assert values[:2] == original[:2]
    assert {k: v for k, v in values[2].items() if k != "tcUrl"} == {
        k: v for k, v in original[2].items() if k != "tcUrl"
    }
    assert list(values[2]) == list(original[2])  # property order kept
    # Same message header apart from the length; still split at 128 bytes.
    assert len(message.payload) == 140 - len("rtmp://127.0.0.1:50941") + len(PUBLIC)
    assert message.basic_header == b"\x03" and message.type_id == 20 and message.stream_id == 0


def test_bytes_arriving_one_at_a_time_give_the_same_result() -> None:
    stream = HANDSHAKE + FFMPEG_CONNECT + AFTER
    whole, _ = _rewrite(stream)
    trickled, rewriter = _rewrite(stream, step=1)
    assert trickled == whole and rewriter.rewritten


def test_handshake_is_never_held_back() -> None:
    rewriter = ConnectRewriter(LOCAL, PUBLIC)
    c0c1 = HANDSHAKE[:1537]
    assert rewriter.feed(c0c1) == c0c1  # the client waits for S0/S1 before sending more
    c2 = HANDSHAKE[1537:]
    assert rewriter.feed(c2 + FFMPEG_CONNECT[:50]) == c2  # the partial connect waits for its rest
    assert _command_sent(HANDSHAKE + rewriter.feed(FFMPEG_CONNECT[50:]))["tcUrl"] == PUBLIC + "/live"


def test_other_url_properties_are_rebased_too_and_foreign_ones_kept() -> None:
    payload = _connect_payload(swfUrl=LOCAL + "/player.swf", pageUrl="https://example.org/page")
    out, _ = _rewrite(HANDSHAKE + _chunked(payload))
    command = _command_sent(out)
    assert command["tcUrl"] == PUBLIC + "/live"
    assert command["swfUrl"] == PUBLIC + "/player.swf"
    assert command["pageUrl"] == "https://example.org/page"


def test_set_chunk_size_before_connect_is_applied() -> None:
    payload = _connect_payload(flashVer="y" * 400)  # one chunk at 4096, four at 128
    set_chunk_size = _chunked(struct.pack(">I", 4096), basic=b"\x02", type_id=1)
    stream = HANDSHAKE + set_chunk_size + _chunked(payload, chunk_size=4096) + AFTER
    out, rewriter = _rewrite(stream)

    assert rewriter.rewritten
    assert out[CLIENT_HANDSHAKE_BYTES:].startswith(set_chunk_size)
    wire = out[CLIENT_HANDSHAKE_BYTES + len(set_chunk_size) :]
    message = parse_message(wire, 0, 4096)
    assert wire[message.end :] == AFTER
    assert message.end == 12 + len(message.payload)  # one chunk at 4096: no continuation headers
    assert decode_values(message.payload)[2]["tcUrl"] == PUBLIC + "/live"


@pytest.mark.parametrize(
    "first",
    [
        _chunked(encode_values(["releaseStream", 2.0, None, "key"])),
        _chunked(b"\xaf\x01" + bytes(200), basic=b"\x04", type_id=8),  # audio before connect
        _chunked(_connect_payload(tc_url="rtmp://elsewhere.example/live")),
        _chunked(b"\x11\x02\x00\x07connect"),  # an AMF3 command
        _chunked(b"\x02\x00\x07connect\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\x0d"),  # an AMF0 type we skip
        b"\xc3" + bytes(200),  # a continuation chunk first
    ],
    ids=["other command", "media message", "foreign tcUrl", "AMF3", "unknown AMF0 type", "type-3 first"],
)
def test_anything_but_a_rewritable_connect_passes_unchanged(
    first: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    stream = HANDSHAKE + first + AFTER
    out, rewriter = _rewrite(stream)
    assert out == stream
    assert not rewriter.rewritten and rewriter.done
    assert any("cannot rewrite the RTMP connect" in r.getMessage() for r in caplog.records)


def test_other_rtmp_versions_pass_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    stream = b"\x06" + HANDSHAKE[1:] + FFMPEG_CONNECT  # RTMPE
    out, rewriter = _rewrite(stream)
    assert out == stream and not rewriter.rewritten


def test_a_publisher_that_stops_mid_connect_loses_nothing() -> None:
    rewriter = ConnectRewriter(LOCAL, PUBLIC)
    sent = rewriter.feed(HANDSHAKE + FFMPEG_CONNECT[:100])
    assert sent == HANDSHAKE
    assert rewriter.finish() == FFMPEG_CONNECT[:100]


def test_runaway_first_message_is_given_up_on() -> None:
    huge = _chunked(b"\x02\x00\x07connect" + bytes(100_000), chunk_size=128)
    rewriter = ConnectRewriter(LOCAL, PUBLIC)
    out = b"".join(rewriter.feed(huge[i : i + 4096]) for i in range(0, len(huge), 4096))
    assert rewriter.done and not rewriter.rewritten
    assert out == huge


def test_a_bug_in_the_rewrite_costs_the_tcurl_not_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamer.media.rtmp_connect as module

    def broken(*_: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(module, "rewrite_connect_payload", broken)
    stream = HANDSHAKE + FFMPEG_CONNECT + AFTER
    out, rewriter = _rewrite(stream)
    assert out == stream and rewriter.done and not rewriter.rewritten

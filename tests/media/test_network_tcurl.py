"""The ingest sees its own address in the RTMP connect command, not the relay's loopback one.

A ``RecordingProxy`` between the sink's relay and a real ``RtmpIngest`` keeps what the ingest was sent;
the connect command in it must carry ``tcUrl`` = the URL the sink was given minus the key, and the stream
must still arrive and decode.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator

import pytest

from streamer.media.amf0 import decode_values
from streamer.media.network import IngestUrl
from streamer.media.rtmp_connect import CLIENT_HANDSHAKE_BYTES, parse_message
from tests.ingest import RecordingProxy, RtmpIngest, TlsTerminator, wait_until
from tests.media.test_network_delivery import _assert_key_hidden, _assert_recording_plausible, _publish


@pytest.fixture
def recording_proxy(rtmp_ingest: RtmpIngest) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(rtmp_ingest.port)
    try:
        yield proxy
    finally:
        proxy.close()


def _connect_command(wire: bytes) -> list[object]:
    assert len(wire) > CLIENT_HANDSHAKE_BYTES, "the ingest received no RTMP handshake"
    message = parse_message(wire[CLIENT_HANDSHAKE_BYTES:])
    assert message.type_id == 20, "first message after the handshake is not an AMF0 command"
    return decode_values(message.payload)


def test_ingest_sees_the_real_tcurl_over_rtmp(
    rtmp_ingest: RtmpIngest, recording_proxy: RecordingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # "localhost", not the relay's 127.0.0.1: a tcUrl naming it can only come from the rewrite.
    url = f"rtmp://localhost:{recording_proxy.port}/live/{rtmp_ingest.key}"
    sink, events = _publish(url, rtmp_ingest)

    assert [e.kind for e in events] == ["connected", "closed"]
    command = _connect_command(recording_proxy.snapshot())
    assert command[0] == "connect"
    assert command[2]["tcUrl"] == f"rtmp://localhost:{recording_proxy.port}/live"
    assert command[2]["app"] == "live"
    assert not any("127.0.0.1" in str(v) for v in command[2].values())
    # The rest of the session went through untouched: the publish reached the ingest and decodes.
    assert rtmp_ingest.key.encode() in recording_proxy.snapshot()
    _assert_recording_plausible(rtmp_ingest.recording_path)
    _assert_key_hidden(rtmp_ingest.key, sink, events, caplog)
    assert not [r for r in caplog.records if "cannot rewrite" in r.getMessage()]


def test_ingest_sees_the_rtmps_scheme(
    test_ca, test_ca_file: str, rtmp_ingest: RtmpIngest, recording_proxy: RecordingProxy
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    terminator = TlsTerminator(context, recording_proxy.port)  # TLS -> recording proxy -> ingest
    try:
        url = f"rtmps://localhost:{terminator.port}/live/{rtmp_ingest.key}"
        sink, events = _publish(url, rtmp_ingest, ca_file=test_ca_file)
        assert wait_until(lambda: terminator.bytes_forwarded > 0, 2)
    finally:
        terminator.close()

    assert [e.kind for e in events] == ["connected", "closed"]
    assert _connect_command(recording_proxy.snapshot())[2]["tcUrl"] == f"rtmps://localhost:{terminator.port}/live"
    _assert_recording_plausible(rtmp_ingest.recording_path)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("rtmps://Ingest.Example.com/live/sk_1234", "rtmps://Ingest.Example.com"),  # no port: none added
        ("rtmp://ingest.example.com:1936/app/inst/sk_1234", "rtmp://ingest.example.com:1936"),
        ("RTMP://[::1]:1935/live/sk_1234", "rtmp://[::1]:1935"),
    ],
)
def test_public_base_is_the_url_as_given_without_path(url: str, base: str) -> None:
    assert IngestUrl.parse(url).public_base == base

"""The relay's RTMP pings against a real ingest: answered, harmless to the stream, and an ingest that ignores
them still gets today's TCP stall detection."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from streamer.media.events import OutputEvent
from streamer.media.network import NetworkSink
from streamer.media.rtmp_chunks import ChunkTracker
from tests.ingest import PingDeafProxy, RecordingProxy, RtmpIngest, SyntheticStream, wait_until
from tests.media.rtmp_chunk_writer import reassemble
from tests.media.test_network_delivery import SECONDS, _assert_recording_plausible

STALLED = "stalled: ingest accepted no data for 3.0 s"


@pytest.fixture
def recording_proxy(rtmp_ingest: RtmpIngest) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(rtmp_ingest.port)
    yield proxy
    proxy.close()


@pytest.fixture
def deaf_proxy(rtmp_ingest: RtmpIngest) -> Iterator[PingDeafProxy]:
    proxy = PingDeafProxy(rtmp_ingest.port)
    yield proxy
    proxy.close()


def test_real_ingest_answers_pings_and_the_stream_still_decodes(
    rtmp_ingest: RtmpIngest, recording_proxy: RecordingProxy
) -> None:
    events: list[OutputEvent] = []
    sink = NetworkSink(f"rtmp://127.0.0.1:{recording_proxy.port}/live/{rtmp_ingest.key}", on_event=events.append)
    try:
        stream = SyntheticStream(sink, SECONDS).start()  # paced: about two pings a second go in
        assert stream.done.wait(30) and stream.error is None, stream.error
        assert wait_until(lambda: sink.pings_answered >= 2, 5), sink.pings_answered
    finally:
        sink.close()
    rtmp_ingest.stop()
    assert [e.kind for e in events] == ["connected", "closed"]
    # The pings were on the wire, as whole messages between chunks, and the ingest decoded everything.
    messages, _ = reassemble(ChunkTracker(), recording_proxy.snapshot())
    pings = [m for m in messages if m.csid == 2 and m.type_id == 4 and m.payload[:2] == b"\x00\x06"]
    assert len(pings) >= sink.pings_answered >= 2
    _assert_recording_plausible(rtmp_ingest.recording_path)


def test_ingest_ignoring_pings_falls_back_to_window_detection(
    rtmp_ingest: RtmpIngest, deaf_proxy: PingDeafProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "streamer.media.rtmp_probe")
    events: list[OutputEvent] = []
    sink = NetworkSink(f"rtmp://127.0.0.1:{deaf_proxy.port}/live/{rtmp_ingest.key}", on_event=events.append,
                       stall_timeout=3.0)
    stream = SyntheticStream(sink, 60).start()  # 1.5 Mb/s: enough for TCP to show a stall
    try:
        assert sink.wait_connected(10)
        # Pings go unanswered for longer than the stall timeout, and that alone is no failure.
        assert wait_until(lambda: any("does not answer RTMP pings" in r.getMessage() for r in caplog.records), 10)
        assert deaf_proxy.pings_dropped >= 3
        assert sink.pings_answered == 0
        assert not [e for e in events if e.kind == "error"], events
        frozen_at = time.monotonic()
        deaf_proxy.stop_reading()
        assert wait_until(lambda: [e for e in events if e.kind == "error"], 5.5), "stall not detected"
        error = next(e for e in events if e.kind == "error")
        assert error.at - frozen_at <= 5.0
        assert error.reason == STALLED
    finally:
        stream.stop()
        sink.close()

"""A synthetic H.264 + AAC stream written into NetworkSink arrives at a real ingest, over rtmp:// and rtmps://."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import pytest

from streamer.media.events import OutputEvent
from streamer.media.network import NetworkSink
from tests.ingest import RtmpIngest, SyntheticStream, TlsTerminator, wait_until

SECONDS = 3.0


def _decode(recording: Path) -> dict[str, object]:
    with av.open(str(recording)) as container:
        kinds = {s.type: s.codec_context.name for s in container.streams}
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        summary = {
            "codecs": kinds,
            "size": (video.codec_context.width, video.codec_context.height),
            "audio": (audio.codec_context.sample_rate, audio.codec_context.channels),
            "video_frames": 0,
            "audio_seconds": 0.0,
        }
        for frame in container.decode(video, audio):
            if isinstance(frame, av.VideoFrame):
                summary["video_frames"] += 1
            else:
                summary["audio_seconds"] += frame.samples / frame.sample_rate
    return summary


def _publish(url: str, ingest: RtmpIngest, **sink_options: object) -> tuple[NetworkSink, list[OutputEvent]]:
    events: list[OutputEvent] = []
    sink = NetworkSink(url, on_event=events.append, **sink_options)
    try:
        stream = SyntheticStream(sink, SECONDS, paced=False).start()
        assert stream.done.wait(30), "encoding did not finish"
        assert stream.error is None, stream.error
        assert sink.wait_connected(5)
    finally:
        sink.close()
    ingest.stop()
    return sink, events


def _assert_recording_plausible(recording: Path) -> None:
    got = _decode(recording)
    assert got["codecs"] == {"video": "h264", "audio": "aac"}
    assert got["size"] == (320, 240)
    assert got["audio"] == (44100, 2)
    frames = int(SECONDS * 30)
    assert frames - 3 <= got["video_frames"] <= frames, got
    assert SECONDS - 0.2 <= got["audio_seconds"] <= SECONDS + 0.2, got


def test_rtmp_stream_arrives_and_decodes(rtmp_ingest: RtmpIngest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sink, events = _publish(rtmp_ingest.url, rtmp_ingest)

    assert [e.kind for e in events] == ["connected", "closed"]
    assert sink.closed
    recorded = rtmp_ingest.recording_path.stat().st_size
    # RTMP chunking adds a little on top of the FLV tags; the ingest re-muxes to FLV again.
    assert recorded * 0.9 <= sink.bytes_out <= recorded * 1.2, (sink.bytes_out, recorded)
    _assert_recording_plausible(rtmp_ingest.recording_path)
    _assert_key_hidden(rtmp_ingest.key, sink, events, caplog)


def test_rtmps_stream_arrives_through_verified_tls(
    rtmp_ingest: RtmpIngest, tls_terminator: TlsTerminator, test_ca_file: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"rtmps://localhost:{tls_terminator.port}/live/{rtmp_ingest.key}"
    sink, events = _publish(url, rtmp_ingest, ca_file=test_ca_file)

    assert [e.kind for e in events] == ["connected", "closed"]
    assert tls_terminator.connections == 1
    assert wait_until(lambda: tls_terminator.bytes_forwarded > 0, 2)
    _assert_recording_plausible(rtmp_ingest.recording_path)
    _assert_key_hidden(rtmp_ingest.key, sink, events, caplog)


def test_close_without_any_data_is_clean(rtmp_ingest: RtmpIngest) -> None:
    events: list[OutputEvent] = []
    sink = NetworkSink(rtmp_ingest.url, on_event=events.append)
    sink.close()
    sink.close()  # idempotent
    assert sink.closed
    assert [e.kind for e in events] == ["closed"]
    assert not sink.seekable()


def _assert_key_hidden(key: str, sink: NetworkSink, events: list[OutputEvent],
                       caplog: pytest.LogCaptureFixture) -> None:
    assert key not in repr(sink)
    assert all(key not in e.reason for e in events)
    assert caplog.records, "expected the sink to log its connection"
    assert all(key not in r.getMessage() for r in caplog.records)

"""NetworkSink reports every way a connection fails, fast, once, without the key, and never freezes us."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from streamer.media.events import OutputEvent
from streamer.media.network import NetworkSink, OutputBroken
from tests.ingest import RtmpIngest, SyntheticStream, TlsTerminator, free_port, wait_until

KEY = "test_secret_key_123"
DETECT_WITHIN = 5.0


class Recorder:
    """Collects a sink's events with the time they arrived."""

    def __init__(self) -> None:
        self.events: list[OutputEvent] = []

    def __call__(self, event: OutputEvent) -> None:
        self.events.append(event)

    def errors(self) -> list[OutputEvent]:
        return [e for e in self.events if e.kind == "error"]

    def wait_error(self, timeout: float) -> OutputEvent:
        assert wait_until(self.errors, timeout), f"no error event within {timeout} s: {self.events}"
        return self.errors()[0]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def sinks() -> Iterator[list[NetworkSink]]:
    made: list[NetworkSink] = []
    yield made
    for sink in made:
        sink.close()


def _assert_clean(reason: str, caplog: pytest.LogCaptureFixture, sink: NetworkSink) -> None:
    assert KEY not in reason
    assert KEY not in repr(sink)
    assert all(KEY not in r.getMessage() for r in caplog.records)


def _stream_until_broken(sink: NetworkSink, seconds: float = 60.0) -> SyntheticStream:
    stream = SyntheticStream(sink, seconds).start()
    assert sink.wait_connected(10), "never connected"
    return stream


def test_ingest_killed_mid_stream(rtmp_ingest: RtmpIngest, recorder: Recorder, sinks: list[NetworkSink],
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sink = NetworkSink(rtmp_ingest.url, on_event=recorder)
    sinks.append(sink)
    stream = _stream_until_broken(sink)
    assert wait_until(lambda: sink.bytes_out > 100_000, 10)

    killed_at = time.monotonic()
    rtmp_ingest.kill()
    error = recorder.wait_error(DETECT_WITHIN)
    assert error.at - killed_at < DETECT_WITHIN
    assert "ingest closed the connection" in error.reason
    assert stream.done.wait(DETECT_WITHIN), "the writer is still blocked"
    assert isinstance(stream.error, OutputBroken), stream.error
    with pytest.raises(OutputBroken, match="ingest closed the connection"):
        sink.write(b"more")
    sink.close()
    assert len(recorder.errors()) == 1 and "closed" not in [e.kind for e in recorder.events]
    _assert_clean(error.reason, caplog, sink)


def test_ingest_stops_reading(rtmp_ingest: RtmpIngest, recorder: Recorder, sinks: list[NetworkSink],
                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sink = NetworkSink(rtmp_ingest.url, on_event=recorder, stall_timeout=3.0)
    sinks.append(sink)
    stream = _stream_until_broken(sink)
    assert wait_until(lambda: sink.bytes_out > 100_000, 10)

    frozen_at = time.monotonic()
    rtmp_ingest.freeze()
    error = recorder.wait_error(DETECT_WITHIN + 1)
    assert error.at - frozen_at < DETECT_WITHIN, f"stall detected after {error.at - frozen_at:.2f} s"
    assert error.reason == "stalled: ingest accepted no data for 3.0 s"
    assert stream.done.wait(DETECT_WITHIN), "the writer is still blocked"
    assert isinstance(stream.error, OutputBroken), stream.error
    assert stream.error_at is not None and stream.error_at - frozen_at < DETECT_WITHIN + 1
    _assert_clean(error.reason, caplog, sink)


def test_rtmps_rejects_an_untrusted_certificate(rtmp_ingest: RtmpIngest, tls_terminator: TlsTerminator,
                                                recorder: Recorder, sinks: list[NetworkSink],
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"rtmps://localhost:{tls_terminator.port}/live/{KEY}"
    sink = NetworkSink(url, on_event=recorder)  # no ca_file: the system store does not know the test CA
    sinks.append(sink)
    stream = SyntheticStream(sink, 30).start()

    error = recorder.wait_error(DETECT_WITHIN)
    assert "certificate verify failed for host localhost" in error.reason
    assert "--ca-file" in error.reason
    assert stream.done.wait(DETECT_WITHIN) and isinstance(stream.error, OutputBroken)
    assert not sink.wait_connected(0)
    assert tls_terminator.bytes_forwarded == 0, "plaintext went through although TLS failed"
    _assert_clean(error.reason, caplog, sink)


def test_insecure_tls_is_an_explicit_opt_in(rtmp_ingest: RtmpIngest, tls_terminator: TlsTerminator,
                                            recorder: Recorder, sinks: list[NetworkSink],
                                            caplog: pytest.LogCaptureFixture) -> None:
    url = f"rtmps://localhost:{tls_terminator.port}/live/{KEY}"
    sink = NetworkSink(url, on_event=recorder, insecure_tls=True)
    sinks.append(sink)
    stream = SyntheticStream(sink, 1, paced=False).start()
    assert sink.wait_connected(10)
    assert stream.done.wait(10) and stream.error is None
    assert any("DISABLED" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_connection_refused_is_reported_quickly(recorder: Recorder, sinks: list[NetworkSink],
                                                caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    sink = NetworkSink(f"rtmp://127.0.0.1:{port}/live/{KEY}", on_event=recorder)
    sinks.append(sink)
    error = recorder.wait_error(DETECT_WITHIN)
    assert error.at - started < 2.0
    assert error.reason == f"cannot connect to 127.0.0.1:{port}: connection refused"
    with pytest.raises(OutputBroken, match="connection refused"):
        sink.write(b"FLV")
    _assert_clean(error.reason, caplog, sink)


def test_unresolvable_host_is_reported(recorder: Recorder, sinks: list[NetworkSink]) -> None:
    sink = NetworkSink(f"rtmp://no-such-host.invalid/live/{KEY}", on_event=recorder)
    sinks.append(sink)
    error = recorder.wait_error(DETECT_WITHIN)
    assert "cannot resolve ingest host no-such-host.invalid" in error.reason


def test_silent_server_never_freezes_the_caller(recorder: Recorder, sinks: list[NetworkSink]) -> None:
    """A server that accepts TCP and never answers froze PyAV's connect for 15 s with the GIL held."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    acceptor = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    acceptor.start()
    ticks = 0
    ticking = threading.Event()
    ticking.set()

    def count() -> None:
        nonlocal ticks
        while ticking.is_set():
            ticks += 1
            time.sleep(0.01)  # a 100 Hz heartbeat: ~300 ticks in the 3 s handshake timeout

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    try:
        port = server.getsockname()[1]
        sink = NetworkSink(f"rtmp://127.0.0.1:{port}/live/{KEY}", on_event=recorder, stall_timeout=3.0)
        sinks.append(sink)
        stream = SyntheticStream(sink, 30).start()
        ticks_before = ticks
        error = recorder.wait_error(DETECT_WITHIN + 1)
        ticks_during = ticks - ticks_before
        assert "did not answer the RTMP handshake within 3.0 s" in error.reason
        assert accepted, "the relay never reached the server"
        assert stream.done.wait(DETECT_WITHIN) and isinstance(stream.error, OutputBroken)
        # A frozen process would have counted ~0; allow a very noisy machine 4x slack.
        assert ticks_during >= 75, f"the counter thread advanced only {ticks_during} ticks"
    finally:
        ticking.clear()
        server.close()
        for conn in accepted:
            conn.close()


def test_bad_urls_are_rejected_without_the_key() -> None:
    bad = (f"http://host/live/{KEY}", f"rtmp://host/{KEY}", f"rtmp:///live/{KEY}", f"rtmp://host:99999/live/{KEY}")
    for url in bad:
        with pytest.raises(ValueError) as info:
            NetworkSink(url, on_event=lambda e: None)
        assert KEY not in str(info.value)


def test_missing_ca_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="--ca-file"):
        NetworkSink(f"rtmps://host/live/{KEY}", on_event=lambda e: None, ca_file=str(tmp_path / "nope.pem"))

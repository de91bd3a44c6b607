"""The stream survives a failing scene, a stalled sink, a dead output, and an output switch."""

from __future__ import annotations

import logging
import threading

from streamer.media.pipeline import Pipeline
from test_pipeline_support import BlockingSink, SyntheticSource, probe, wait_until

FRAME = 1 / 30


class FlakySource(SyntheticSource):
    """Renders normally, except every render from t >= 0.5 s raises."""

    def render(self, t: float):
        if t >= 0.5:
            raise RuntimeError("scene bug: boom")
        return super().render(t)


def test_render_exception_repeats_last_frame_and_logs_traceback(tmp_path, caplog):
    out = tmp_path / "flaky.flv"
    pipe = Pipeline(FlakySource(rect_from=0.2))
    with caplog.at_level(logging.ERROR, logger="streamer.media.pipeline"):
        pipe.start(str(out))
        assert wait_until(lambda: pipe.stats.frames_repeated >= 20, timeout=10)
        stats = pipe.stop()

    assert stats.frames_repeated >= 20
    # Every repeated slot is a failed render, and so is the one more render the pipeline made ahead, for
    # the slot after the last one sent (every render from 0.5 s on fails).
    assert stats.render_errors == stats.frames_repeated + 1
    assert 14 <= stats.frames_rendered <= 16  # t = 0 .. 0.5 s
    # The stream kept going: every repeated slot was encoded and written.
    assert stats.frames_sent == stats.frames_rendered + stats.frames_repeated
    # The first failure is logged with its traceback; the flood is not.
    failures = [r for r in caplog.records if "scene render failed" in r.getMessage()]
    assert failures and failures[0].exc_info is not None
    assert "boom" in caplog.text and "Traceback" in caplog.text
    assert len(failures) <= 3
    p = probe(str(out))
    assert len(p.video_pts) == stats.frames_sent


def test_backpressure_drops_video_not_audio_and_keeps_the_frame_loop_going():
    sink = BlockingSink()
    pipe = Pipeline(SyntheticSource(rect_from=0.0), max_video_packets=10, stall_timeout=60,
                    sink_factory=sink.factory)
    pipe.start("blocking-test-sink")
    assert pipe.wait_connected(5)
    assert wait_until(lambda: pipe.stats.frames_sent >= 15, timeout=10)
    sink.stall()
    assert wait_until(sink.blocked.is_set, timeout=10), "the writer thread never reached the stalled sink"
    rendered_at_stall = pipe.stats.frames_rendered
    audio_at_stall = pipe.stats.audio_packets_sent

    # While the sink is stuck, the frame loop keeps producing frames and video is dropped.
    assert wait_until(lambda: pipe.stats.frames_rendered >= rendered_at_stall + 45, timeout=15)
    stalled = pipe.stats
    assert stalled.video_packets_dropped > 0
    assert stalled.audio_packets_dropped == 0
    assert stalled.queued_video <= 10  # memory stays bounded
    assert stalled.audio_packets_sent == audio_at_stall  # nothing got through meanwhile

    sink.release()
    # First the backlog goes out (the queued frames, plus the one whose write was stuck), then fresh frames.
    backlog = stalled.queued_video + 1
    assert wait_until(lambda: pipe.stats.frames_sent > stalled.frames_sent + backlog + 10, timeout=10)
    stats = pipe.stop()
    assert stats.audio_packets_dropped == 0

    # What reached the sink (a non-seekable byte stream) decodes: the video has a gap that resumes on a
    # keyframe, and the audio has none.
    p = probe(bytes(sink.buffer))
    gaps = [i for i, (a, b) in enumerate(zip(p.video_pts, p.video_pts[1:])) if b - a > 1.5 * FRAME]
    assert gaps, "dropped video should leave a gap in the video timestamps"
    assert all(p.video_keyframes[i + 1] for i in gaps), "video must resume on a keyframe"
    steps = [b - a for a, b in zip(p.audio_pts, p.audio_pts[1:])]
    assert max(steps) <= 0.025, "audio must have no gap"
    assert len(p.video_pts) + stats.video_packets_dropped >= stats.slots - 1


def test_stalled_output_is_reported_and_switch_output_recovers(tmp_path):
    sink = BlockingSink()
    factory_calls = []

    def factory(target: str, **kwargs):
        factory_calls.append(target)
        if target == "stuck":
            return sink
        return open(target, "wb")

    pipe = Pipeline(SyntheticSource(rect_from=0.0), stall_timeout=1.0, sink_factory=factory)
    pipe.start("stuck")
    assert pipe.wait_connected(5)
    sink.stall()
    events = []

    def got_error() -> bool:
        while not pipe.events.empty():
            events.append(pipe.events.get())
        return any(e.kind == "error" for e in events)

    assert wait_until(got_error, timeout=5)
    error = next(e for e in events if e.kind == "error")
    assert "stalled" in error.reason and error.generation == 0
    # The frame loop kept going after the failure; packets for the dead output are discarded and counted.
    rendered = pipe.stats.frames_rendered
    assert wait_until(lambda: pipe.stats.frames_rendered >= rendered + 15, timeout=10)
    assert wait_until(lambda: pipe.stats.packets_discarded > 0, timeout=5)
    assert not pipe.stats.output_alive

    second = tmp_path / "recovered.flv"
    pipe.switch_output(str(second))
    assert wait_until(lambda: pipe.stats.outputs == 2 and pipe.stats.output_alive, timeout=5)
    assert pipe.wait_connected(5)
    sent = pipe.stats.frames_sent
    assert wait_until(lambda: pipe.stats.frames_sent >= sent + 20, timeout=10)
    pipe.stop()

    p = probe(str(second))
    assert p.video_keyframes[0]
    assert p.video_pts[0] <= 2 * FRAME
    assert len(p.video_pts) >= 20


def test_switch_output_mid_stream_to_a_second_file(tmp_path):
    first, second = tmp_path / "first.flv", tmp_path / "second.flv"
    pipe = Pipeline(SyntheticSource(rect_from=0.0))
    pipe.start(str(first))
    assert wait_until(lambda: pipe.stats.frames_sent >= 30, timeout=10)
    pipe.switch_output(str(second))
    assert wait_until(lambda: pipe.stats.outputs == 2, timeout=5)
    skipped_before = pipe.stats.frames_skipped
    assert wait_until(lambda: pipe.stats.slots >= 75, timeout=10)
    stats = pipe.stop()

    p1, p2 = probe(str(first)), probe(str(second))
    assert len(p1.video_pts) >= 29 and p1.video_keyframes[0]
    assert p2.video_keyframes[0], "the new output must start with a keyframe"
    assert p2.video_pts[0] <= 2 * FRAME, "pts restart at 0 on the new output"
    assert abs(p2.audio_pts[0] - p2.video_pts[0]) <= FRAME
    assert p2.audio_pts and p2.channels == 2
    # Every slot went to exactly one of the two files (the clock never stopped).
    assert len(p1.video_pts) + len(p2.video_pts) == stats.frames_sent
    assert stats.slots == stats.frames_sent + stats.frames_skipped
    assert stats.frames_skipped >= skipped_before
    events = []
    while not pipe.events.empty():
        events.append(pipe.events.get())
    assert [(e.kind, e.generation) for e in events if e.kind == "closed"] == [("closed", 0), ("closed", 1)]


def test_sink_that_cannot_open_reports_an_error_and_the_loop_runs_on():
    def factory(target: str, **kwargs):
        raise ConnectionRefusedError("connection refused")

    pipe = Pipeline(SyntheticSource(), sink_factory=factory)
    pipe.start("rtmp://127.0.0.1:1/live/sk_secretkey")
    assert not pipe.wait_connected(2)
    event = pipe.events.get(timeout=5)
    assert event.kind == "error" and "connection refused" in event.reason
    assert "sk_secretkey" not in event.reason
    rendered = pipe.stats.frames_rendered
    assert wait_until(lambda: pipe.stats.frames_rendered >= rendered + 10, timeout=10)
    stats = pipe.stop()
    assert stats.packets_discarded > 0 and stats.frames_sent == 0


def test_stop_gives_up_on_a_writer_that_never_returns():
    sink = BlockingSink()
    pipe = Pipeline(SyntheticSource(rect_from=0.0), stall_timeout=60, sink_factory=sink.factory)
    pipe.start("stuck")
    assert pipe.wait_connected(5)
    sink.stall()
    assert wait_until(sink.blocked.is_set, timeout=10)
    stats = pipe.stop(timeout=1.0)
    assert sink.closed and not stats.output_alive


def test_a_sink_that_takes_bytes_without_blocking_is_written_by_the_frame_thread_alone():
    """The steady state of a healthy network stream: no writer-thread wake-up per frame."""

    class NonBlockingSink:
        def __init__(self) -> None:
            self.buffer = bytearray()
            self.writers: list[str] = []

        def write_some(self, data: bytes) -> int:
            self.writers.append(threading.current_thread().name)
            self.buffer += data
            return len(data)

        def write(self, data: bytes) -> int:
            self.writers.append(threading.current_thread().name)
            self.buffer += data
            return len(data)

        def close(self) -> None:
            pass

        def factory(self, target: str, **_kwargs: object) -> "NonBlockingSink":
            return self

    sink = NonBlockingSink()
    pipe = Pipeline(SyntheticSource(rect_from=0.0), sink_factory=sink.factory)
    pipe.start("nonblocking-test-sink")
    assert pipe.wait_connected(5)
    assert wait_until(lambda: pipe.stats.frames_sent >= 45, timeout=10)
    stats = pipe.stop()
    by_frame_thread = sink.writers.count("frame-loop")
    # Only what was muxed before the sink was open, and the tail at the end, went through the writer.
    assert by_frame_thread >= 40 and len(sink.writers) - by_frame_thread <= 4, sink.writers
    p = probe(bytes(sink.buffer))
    assert len(p.video_pts) == stats.frames_sent and p.audio_pts

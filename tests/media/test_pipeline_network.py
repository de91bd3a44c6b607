"""The pipeline against a real RTMP ingest that dies or stops reading: reported within 5 s, frames never stall."""

from __future__ import annotations

import queue
import time

import pytest

from streamer.media.pipeline import Pipeline
from tests.ingest import RtmpIngest, wait_until
from tests.media.test_pipeline_support import SyntheticSource


def next_event(events: queue.Queue, kind: str, timeout: float):
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = events.get(timeout=left)
        except queue.Empty:
            break
        if event.kind == kind:
            return event
    return None


@pytest.mark.parametrize("failure", ["kill", "freeze"])
def test_dead_or_stalled_ingest_is_reported_while_frames_keep_flowing(tmp_path, failure):
    ingest = RtmpIngest(tmp_path / "arrived.flv")
    pipe = Pipeline(SyntheticSource(), health_interval=3600)
    try:
        ingest.wait_listening()
        pipe.start(ingest.url)
        assert next_event(pipe.events, "connected", 20) is not None
        # Let real data flow for a moment (counted in frames, not seconds).
        assert wait_until(lambda: pipe.stats.frames_sent >= 45 and pipe.stats.bytes_out > 10_000, 20)
        before = pipe.stats
        broke_at = time.monotonic()
        getattr(ingest, failure)()
        error = next_event(pipe.events, "error", 5.5)
        detected_after = time.monotonic() - broke_at
        assert error is not None, f"no error event within 5 s of the ingest's {failure}"
        assert detected_after <= 5.0
        assert ingest.key not in error.reason
        at_error = pipe.stats
        # The frame loop went on during the failure and after it: one frame per slot, none skipped for long.
        assert at_error.frames_rendered + at_error.frames_repeated - before.frames_rendered - before.frames_repeated \
            >= int(detected_after * 30) - 15
        assert wait_until(lambda: pipe.stats.frames_rendered >= at_error.frames_rendered + 30, 5)
        assert pipe.stats.frames_skipped - before.frames_skipped <= 15
    finally:
        pipe.stop()
        ingest.close()

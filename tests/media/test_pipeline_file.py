"""File output through the whole pipeline, decoded back with PyAV."""

from __future__ import annotations

import numpy as np
import pytest

from streamer.media.pipeline import Pipeline
from test_pipeline_support import (
    BACKGROUND_BOTTOM,
    BACKGROUND_TOP,
    RED,
    CountingSource,
    SyntheticSource,
    assert_colour,
    probe,
)

FRAME = 1 / 30


def _check_stream_shape(p) -> None:
    assert p.video_codec == "h264"
    assert (p.width, p.height) == (1280, 720)
    assert p.pix_fmt == "yuv420p"
    assert p.audio_codec == "aac"
    assert p.sample_rate == 44100
    assert p.channels == 2
    assert all(b > a for a, b in zip(p.video_pts, p.video_pts[1:])), "video pts must increase"
    assert all(b > a for a, b in zip(p.audio_pts, p.audio_pts[1:])), "audio pts must increase"
    assert p.video_keyframes[0], "the first video packet must be a keyframe"
    # Audio is there from the start, aligned with video within one frame (FLV shows the AAC priming).
    assert abs(p.audio_pts[0] - p.video_pts[0]) <= FRAME


@pytest.mark.slow
def test_ten_second_file_has_ten_seconds_of_video_and_audio(tmp_path):
    out = tmp_path / "show.flv"
    pipe = Pipeline(SyntheticSource())
    pipe.start(str(out))
    assert pipe.wait_connected(5)
    stats = pipe.run(duration=10)

    p = probe(str(out))
    _check_stream_shape(p)
    video_duration = p.video_pts[-1] - p.video_pts[0] + FRAME
    assert abs(video_duration - 10) <= FRAME + 1e-3
    fps = (len(p.video_pts) - 1) / (p.video_pts[-1] - p.video_pts[0])
    assert 29 <= fps <= 31
    # Decoded audio (the encoder's priming already removed by the decoder's skip) spans 10 s too.
    audio_duration = (p.audio_samples - 1024) / 44100  # the first decoded AAC frame is priming
    assert abs(audio_duration - 10) <= FRAME
    # FLV duration was patched into the file header at close (the file sink is seekable).
    assert p.container_duration is not None and abs(p.container_duration - 10) <= 2 * FRAME
    assert stats.frames_sent == len(p.video_pts)
    assert stats.slots == 300


def test_damaged_band_conversion_shows_what_was_drawn(tmp_path):
    out = tmp_path / "pixels.flv"
    source = SyntheticSource(rect_from=1.0)
    pipe = Pipeline(source)
    pipe.start(str(out))
    pipe.run(duration=2.0)

    p = probe(str(out))
    _check_stream_shape(p)
    frame = p.last_frame
    x, y, w, h = source._box  # where the box ended up (it moved every frame since t=1)
    assert_colour(frame[y + 10 : y + h - 10, x + 10 : x + w - 10], RED)
    # Where the box started (redrawn background after it moved on) and areas never damaged again.
    assert_colour(frame[y + 10 : y + h - 10, 20:90], BACKGROUND_TOP)
    assert_colour(frame[500:700, 0:1280], BACKGROUND_BOTTOM)
    assert_colour(frame[0:200, 0:1280], BACKGROUND_TOP)


def test_reused_yuv_frame_is_copied_by_the_encoder(tmp_path):
    """The same AVFrame goes to libx264 every time; each decoded frame must show its own content."""
    out = tmp_path / "counting.flv"
    pipe = Pipeline(CountingSource())
    pipe.start(str(out))
    pipe.run(duration=1.0)

    p = probe(str(out), keep_frames=True)
    assert len(p.frames) >= 25
    first_pts = p.video_pts[0]
    for index, rgb in p.frames.items():
        slot = round((p.video_pts[index] - first_pts) * 30)
        got = float(np.mean(rgb[220:280, 100:1180]))
        assert abs(got - CountingSource.level(slot)) <= 6, f"frame {index} (slot {slot}) shows {got}"


def test_each_slot_is_rendered_ahead_before_its_slot_begins(tmp_path):
    """The pipeline renders a slot's picture right after encoding the previous slot (while the caches are
    still warm), so the scene is asked for slot k before slot k begins; the file still shows each slot's
    own picture (``test_reused_yuv_frame_is_copied_by_the_encoder``)."""
    early: list[bool] = []

    class Timed(CountingSource):
        def render(self, t: float) -> list[tuple[int, int, int, int]]:
            slot = round(t * 30)
            early.append(pipe.clock.now() < pipe.clock.deadline(slot))
            return super().render(t)

    pipe = Pipeline(Timed())
    pipe.start(str(tmp_path / "ahead.flv"))
    stats = pipe.run(duration=1.0)
    assert stats.frames_sent >= 29
    # A busy machine may wake the thread late now and then; rendering after the deadline must stay rare.
    assert len(early) >= 30 and sum(early) >= 0.8 * len(early), f"{sum(early)} of {len(early)} rendered ahead"

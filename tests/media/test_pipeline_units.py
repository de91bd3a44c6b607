"""The pipeline's building blocks on their own: clock, damage bands, YUV store, queue, settings, targets."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from streamer.media.audio import AudioTrack, SilenceSource
from streamer.media.clock import StreamClock
from streamer.media.encoders import AudioEncoder, VideoEncoder
from streamer.media.muxer import ChunkQueue, PacketGate, SinkPort, target_kind
from streamer.media.pipeline import Pipeline
from streamer.media.settings import EncoderSettings
from streamer.media.yuv import YuvFrameStore, damaged_row_bands
from test_pipeline_support import SyntheticSource


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_clock_slots_samples_and_catch_up():
    fake = FakeTime()
    clock = StreamClock(30, 44100, time_fn=fake)
    clock.start()
    assert clock.samples_at(1) == 1470 and clock.samples_at(30) == 44100
    assert clock.deadline(30) == pytest.approx(101.0)
    fake.now = 100.0 + 10 / 30 + 0.001
    assert clock.slot_at(fake.now) == 10
    # Asked for slot 4 while wall time is already in slot 10: render slot 10, six skipped.
    assert clock.catch_up(4) == (10, 6)
    assert clock.catch_up(11) == (11, 0)
    assert clock.slots_for(10) == 300


def test_clock_wait_for_sleeps_to_the_slot_or_skips_ahead():
    fake = FakeTime()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        fake.now += seconds

    clock = StreamClock(30, 44100, time_fn=fake, sleep_fn=sleep)
    clock.start()
    slot, skipped, now = clock.wait_for(3)
    assert (slot, skipped) == (3, 0) and slept == [pytest.approx(0.1)] and now == pytest.approx(100.1)
    fake.now = 100.0 + 7.5 / 30  # rendering ran late: we are half-way into slot 7
    assert clock.wait_for(4)[:2] == (7, 3) and len(slept) == 1, "late: no sleep, slots 4-6 skipped"


def test_damaged_row_bands_are_even_merged_and_clipped():
    assert damaged_row_bands([], 720) == []
    assert damaged_row_bands([(0, 3, 10, 2)], 720) == [(2, 6)]
    assert damaged_row_bands([(0, 100, 5, 10), (50, 115, 5, 10)], 720) == [(100, 126)]  # gap < 16 merges
    assert damaged_row_bands([(0, 100, 5, 10), (0, 300, 5, 10)], 720) == [(100, 110), (300, 310)]
    assert damaged_row_bands([(0, -50, 5, 60), (0, 715, 5, 100), (0, 800, 5, 5)], 720) == [(0, 10), (714, 720)]


def test_yuv_store_band_updates_match_a_full_conversion():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    banded = YuvFrameStore(1280, 720)
    banded.update_all(np.zeros_like(rgb))
    for y in range(0, 720, 90):  # cover the frame in separate, differently sized bands
        banded.update(rgb, [(0, y, 1280, 90)])
    full = YuvFrameStore(1280, 720)
    full.update_all(rgb)
    for a, b in zip(banded.frame.planes, full.frame.planes):
        diff = np.abs(np.frombuffer(a, np.uint8).astype(int) - np.frombuffer(b, np.uint8).astype(int))
        assert diff.max() <= 1
    # An update with no damage converts nothing.
    assert banded.update(rgb, []) == 0
    with pytest.raises(ValueError, match="uint8 RGB"):
        banded.update(rgb[:100], [])
    with pytest.raises(ValueError, match="even"):
        YuvFrameStore(1279, 720)


def _packet(key: bool) -> av.Packet:
    packet = av.Packet(b"\x00" * 10)
    packet.is_keyframe = key
    return packet


def test_packet_gate_drops_video_until_a_keyframe_never_audio():
    gate = PacketGate(max_video=2, max_audio=3, keyframe_low_water=1)
    assert gate.admit_video(_packet(True), 0) and gate.admit_video(_packet(False), 1)
    assert not gate.admit_video(_packet(False), 2)  # two waiting: dropped, and now dropping until a keyframe
    assert gate.dropping and not gate.wants_keyframe(2)
    assert gate.admit_audio(2)  # audio still admitted while video is dropped
    assert not gate.admit_video(_packet(False), 1), "a non-keyframe after a drop would not decode"
    assert gate.wants_keyframe(1)  # drained to the low-water mark: time to force one
    assert not gate.admit_video(_packet(True), 2), "a keyframe that does not fit is dropped too"
    assert gate.admit_video(_packet(True), 1)
    assert not gate.dropping and gate.video_dropped == 3
    assert gate.admit_audio(2) and not gate.admit_audio(3) and gate.audio_dropped == 1  # only the hard cap


def test_chunk_queue_hands_over_in_order_and_knows_when_the_writer_is_idle():
    q = ChunkQueue()
    assert q.idle() and q.take(0.01) == ([], False)
    q.put(b"a", 1, 2)
    q.put(b"b", 1, 0)
    assert not q.idle() and (q.depth, q.video_depth, q.audio_depth) == (4, 2, 2)
    chunks, ended = q.take(0)
    assert chunks == [(b"a", 1, 2), (b"b", 1, 0)] and not ended
    assert q.depth == 0 and not q.idle(), "busy until the writer says done: the frame thread must not overtake"
    q.done()
    assert q.idle() and q.max_depth == 4
    q.put(b"c", 1, 1)
    q.put_end()
    assert q.clear() == 2, "a failed output's queued packets are counted as discarded"
    assert q.take(0) == ([], True), "the end marker survives clear(): the writer still closes"


def test_port_collects_for_the_frame_thread_and_writes_through_for_the_writer():
    class NonBlockingSink(io.BytesIO):
        room = 3

        def write_some(self, data: bytes) -> int:
            taken = data[: self.room]
            self.write(taken)
            return len(taken)

    port = SinkPort(seekable=False)
    sink = NonBlockingSink()
    port.attach(sink)
    port.write(b"ab")
    port.write(b"cd")
    assert sink.getvalue() == b"" and port.collected == 4, "nothing reaches the sink while collecting"
    data = port.take()
    assert data == b"abcd" and port.collected == 0
    assert port.try_write(data) == 3 and sink.getvalue() == b"abc"
    port.write_to_sink(b"d")
    port.write_through()
    port.write(b"trailer")
    assert sink.getvalue() == b"abcdtrailer" and port.bytes_written == 11
    plain = SinkPort(seekable=False)
    plain.attach(io.BytesIO())
    assert plain.try_write(b"x") == 0, "a sink without write_some is only written by the writer thread"


def test_non_seekable_port_gives_a_decodable_flv():
    settings = EncoderSettings(width=320, height=240)
    port = SinkPort(seekable=False)
    sink = io.BytesIO()
    port.attach(sink)
    container = av.open(port, "w", format="flv")
    video = VideoEncoder.in_container(container, settings)
    audio = AudioEncoder.in_container(container, settings)
    store = YuvFrameStore(320, 240)
    track = AudioTrack(SilenceSource())
    for slot in range(10):
        container.mux(video.encode(store.frame, slot))
    for i in range(14):
        container.mux(audio.encode(track.samples(i * 1024, 1024), i * 1024))
    container.mux(video.flush())
    container.mux(audio.flush())
    port.write_to_sink(port.take())
    port.write_through()
    container.close()
    with av.open(io.BytesIO(sink.getvalue()), format="flv") as decoded:
        frames = list(decoded.decode(video=0))
    assert len(frames) == 10 and port.bytes_written == len(sink.getvalue())


def test_audio_track_serves_recent_history_and_checks_format():
    class Ramp:
        def __init__(self) -> None:
            self.pos = 0

        def read(self, n):
            out = np.tile(np.arange(self.pos, self.pos + n, dtype=np.float32), (2, 1))
            self.pos += n
            return out

    track = AudioTrack(Ramp())
    assert track.samples(0, 1024)[0, -1] == 1023
    assert track.samples(1024, 1024)[0, 0] == 1024
    assert track.samples(500, 10)[1, 0] == 500  # an older range, from history
    for k in range(2, 60):  # long enough to wrap the track's internal store many times
        chunk = track.samples(k * 1024, 1024)
        assert chunk[0, 0] == k * 1024 and chunk[1, -1] == k * 1024 + 1023
    assert track.samples(59 * 1024 - 3000, 4)[0, 0] == 59 * 1024 - 3000
    with pytest.raises(ValueError, match="older than the kept history"):
        track.samples(50 * 1024, 1024)
    assert track.samples(60 * 1024, 9000)[0, -1] == 60 * 1024 + 8999  # a read larger than the store
    with pytest.raises(ValueError, match="shape"):
        AudioTrack(type("Bad", (), {"read": lambda self, n: np.zeros(n)})()).samples(0, 1024)


def test_settings_and_targets_give_clear_errors(tmp_path):
    assert EncoderSettings().x264_options() == {
        "preset": "veryfast", "tune": "zerolatency", "b": "1500k", "maxrate": "1500k",
        "bufsize": "3000k", "g": "60",
    }
    with pytest.raises(ValueError, match="even"):
        EncoderSettings(width=1281)
    with pytest.raises(ValueError, match="yuv420p"):
        EncoderSettings(pix_fmt="yuv444p")
    assert target_kind("rtmps://host/live/key") == "network"
    assert target_kind(str(tmp_path / "a.flv")) == "file"
    with pytest.raises(ValueError, match="unsupported output scheme"):
        target_kind("http://example.com/x")
    pipe = Pipeline(SyntheticSource())
    with pytest.raises(ValueError, match="does not exist"):
        pipe.start(str(tmp_path / "missing-dir" / "x.flv"))
    with pytest.raises(RuntimeError, match="start"):
        pipe.switch_output(str(tmp_path / "x.flv"))


def test_pipeline_rejects_a_source_of_the_wrong_size():
    source = SyntheticSource()
    source.frame = np.zeros((480, 640, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\(720, 1280, 3\) uint8"):
        Pipeline(source)

"""The public face of the media side: a frame source in, a live FLV stream (or file) out.

One frame thread owns the clock, the source, the YUV frame and the encoders; it never waits on anything
but the clock.  It also muxes; each output has a writer thread that may block on the sink, woken only
when the sink cannot take a frame's bytes at once.  See ``output.py`` and ``muxer.py``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from streamer.media.audio import AAC_FRAME_SAMPLES, AudioSource, AudioTrack, SilenceSource
from streamer.media.clock import StreamClock
from streamer.media.events import OutputEvent
from streamer.media.health import FrameStamps, PipelineStats, RateLimitedLog, format_health_line
from streamer.media.muxer import SinkFactory, target_kind
from streamer.media.output import Output
from streamer.media.settings import EncoderSettings
from streamer.media.thumbnail import encode_jpeg
from streamer.media.yuv import Rect, YuvFrameStore

log = logging.getLogger(__name__)


@runtime_checkable
class FrameSource(Protocol):
    """What the pipeline renders: an RGB frame mutated in place, plus what changed.

    A source may also have a ``moves`` attribute, read right after each ``render()``: the ``(rect, dy)``
    row moves that render applied to the frame before drawing the damage (a terminal scrolling).  The
    pipeline then moves rows of its YUV picture instead of converting them again (see ``yuv.py``).

    A source whose moved rows are redrawn lazily (``Stage``) also offers ``frame_buffer`` (the frame
    array, possibly with stale rows) and ``refresh_rows(y0, y1)``: the pipeline then reads the buffer
    each frame and refreshes only the rows it converts.
    """

    width: int
    height: int
    frame: np.ndarray  # (height, width, 3) uint8 RGB

    def render(self, t: float) -> Sequence[Rect]:
        """Advance to stream time ``t`` (seconds) and return the damaged ``(x, y, w, h)`` rectangles."""
        ...


class FrameTiming(NamedTuple):
    """What one frame cost, for benchmarks: wall ms per stage, and the CPU ms the video encoder alone used
    (``time.thread_time`` around the encode call: with ``threads=1`` libx264 runs in the calling thread).
    A named tuple because one is built per frame in the frame thread while a benchmark watches."""

    slot: int
    render_ms: float
    convert_ms: float
    encode_ms: float
    video_encoder_cpu_ms: float

    @property
    def total_ms(self) -> float:
        return self.render_ms + self.convert_ms + self.encode_ms


class Pipeline:
    """Render → keep in YUV → H.264/AAC → FLV into a file or an RTMP(S) sink, paced by one clock."""

    def __init__(
        self,
        source: FrameSource,
        settings: EncoderSettings | None = None,
        audio: AudioSource | None = None,
        health_interval: float = 10.0,
        *,
        stall_timeout: float = 3.0,
        max_video_packets: int = 60,
        sink_factory: SinkFactory | None = None,
        on_frame: Callable[[FrameTiming], None] | None = None,
    ) -> None:
        self.settings = settings or EncoderSettings()
        s = self.settings
        frame = getattr(source, "frame", None)
        if not isinstance(frame, np.ndarray) or frame.shape != (s.height, s.width, 3) or frame.dtype != np.uint8:
            got = f"shape {frame.shape} dtype {frame.dtype}" if isinstance(frame, np.ndarray) else repr(type(frame))
            raise ValueError(
                f"source.frame must be a ({s.height}, {s.width}, 3) uint8 RGB array to match the encoder "
                f"settings ({s.width}x{s.height}); got {got}"
            )
        self.source = source
        # A lazily refreshed frame (see FrameSource): the raw array for every frame, rows refreshed on read.
        self._refresh_rows = getattr(source, "refresh_rows", None)
        self._frame_buffer = getattr(source, "frame_buffer", None) if self._refresh_rows else None
        self.health_interval = health_interval
        self.stall_timeout = stall_timeout
        self.max_video_packets = max_video_packets
        self._sink_factory = sink_factory
        self._on_frame = on_frame  # benchmark hook, called in the frame thread: keep it cheap

        self.clock = StreamClock(s.fps, s.sample_rate)
        self.frame_store = YuvFrameStore(s.width, s.height)
        self._track = AudioTrack(audio or SilenceSource(s.channels), s.channels)
        self.events: queue.Queue[OutputEvent] = queue.Queue()

        self._frame_lock = threading.Lock()  # held while render() mutates source.frame
        self._control = threading.Lock()
        self._pending: tuple[str, str | None, bool] | None = None
        self._end_slot: int | None = None
        self._stopping = False  # set by stop(); a plain flag, read by the frame loop every frame
        self._stop_event: threading.Event | None = None  # the caller's, given to run()
        self._thread: threading.Thread | None = None
        self._output: Output | None = None
        self._retired: list[Output] = []
        self._retired_totals = {"frames_sent": 0, "audio_sent": 0, "discarded": 0, "bytes": 0,
                                "video_dropped": 0, "audio_dropped": 0}
        self._generation = -1
        self._started_at: float | None = None

        self._frames_rendered = 0
        self._frames_repeated = 0
        self._frames_skipped = 0
        self._render_errors = RateLimitedLog(10.0)
        self._needs_full_convert = True
        self._stamps = FrameStamps()
        # The picture rendered ahead (see _frame): whether its render succeeded, its render and convert seconds.
        self._ahead: tuple[bool, float, float] = (False, 0.0, 0.0)
        self._max_queue_depth = 0

    # --- control (any thread) ------------------------------------------------------------------------

    def start(self, target: str, *, ca_file: str | None = None, insecure_tls: bool = False) -> None:
        """Open the first output and start the frame thread; returns at once."""
        if self._thread is not None:
            raise RuntimeError("Pipeline.start() was already called; use switch_output() to change target")
        self._check_target(target)
        self.clock.start()
        self._started_at = time.monotonic()
        self._output = self._new_output(target, ca_file, insecure_tls, start_slot=0)
        self._thread = threading.Thread(target=self._frame_loop, name="frame-loop", daemon=True)
        self._thread.start()

    def switch_output(self, target: str, *, ca_file: str | None = None, insecure_tls: bool = False) -> None:
        """Replace the output at the next frame: new encoders, container and sink; pts restart at 0.

        The frame loop and clock never stop; the old output is flushed and closed in the background.
        """
        if self._thread is None:
            raise RuntimeError("call Pipeline.start() before switch_output()")
        self._check_target(target)
        with self._control:
            self._pending = (target, ca_file, insecure_tls)

    def wait_connected(self, timeout: float) -> bool:
        """True once the current output is connected (a file: as soon as it is open)."""
        output = self._output
        return output.wait_connected(timeout) if output is not None else False

    def run(self, duration: float | None = None, stop_event: threading.Event | None = None) -> PipelineStats:
        """Block until ``duration`` seconds of stream time (counted from ``start``) or ``stop_event``; stop."""
        if self._thread is None:
            raise RuntimeError("call Pipeline.start() before run()")
        if duration is not None:
            if duration <= 0:
                raise ValueError(f"duration must be positive, got {duration}")
            with self._control:
                self._end_slot = max(1, self.clock.slots_for(duration))
        # The frame loop itself watches stop_event (it wakes every frame anyway), so this thread can
        # sleep in long slices; the slices only matter if the frame thread were ever stuck.
        self._stop_event = stop_event
        while self._thread.is_alive() and not (stop_event is not None and stop_event.is_set()):
            self._thread.join(1.0)
        return self.stop()

    def stop(self, timeout: float = 10.0) -> PipelineStats:
        """Stop the frame loop, flush the encoders, close the container (a file stays playable)."""
        deadline = time.monotonic() + timeout
        self._stopping = True
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
            if self._thread.is_alive():
                log.error("frame thread did not stop within %.1f s", timeout)
        for output in [*self._retired, *([self._output] if self._output else [])]:
            if not output.join(max(0.0, deadline - time.monotonic())):
                # A writer stuck in the sink: give up on it (closing the sink unblocks the write).
                output.fail(f"output did not finish within {timeout:.1f} s of stop()")
                if not output.join(1.0):
                    log.error("output #%d is still stuck after stop(); abandoning it", output.generation)
        self._prune_retired()
        return self.stats

    # --- read-only views (any thread) ------------------------------------------------------------------

    @property
    def stats(self) -> PipelineStats:
        outputs = [*self._retired, *([self._output] if self._output else [])]
        totals = self._retired_totals
        current = self._output
        depth = sum(o.queue.depth for o in outputs)
        render_ms, convert_ms, encode_ms = self._stamps.p50_ms()
        self._max_queue_depth = max([self._max_queue_depth, *(o.queue.max_depth for o in outputs)])
        return PipelineStats(
            frames_rendered=self._frames_rendered,
            frames_sent=totals["frames_sent"] + sum(o.frames_sent for o in outputs),
            frames_repeated=self._frames_repeated,
            frames_skipped=self._frames_skipped,
            render_errors=self._render_errors.count,
            video_packets_dropped=totals["video_dropped"] + sum(o.gate.video_dropped for o in outputs),
            packets_discarded=totals["discarded"] + sum(o.discarded for o in outputs),
            audio_packets_dropped=totals["audio_dropped"] + sum(o.gate.audio_dropped for o in outputs),
            audio_packets_sent=totals["audio_sent"] + sum(o.audio_sent for o in outputs),
            render_ms=render_ms,
            convert_ms=convert_ms,
            encode_ms=encode_ms,
            queue_depth=depth,
            queued_video=sum(o.queue.video_depth for o in outputs),
            max_queue_depth=self._max_queue_depth,
            bytes_out=totals["bytes"] + sum(o.bytes_out for o in outputs),
            outputs=self._generation + 1,
            output_alive=current is not None and not current.dead,
            fps=self._stamps.fps(),
            uptime=0.0 if self._started_at is None else time.monotonic() - self._started_at,
        )

    def latest_frame(self) -> np.ndarray:
        """A copy of the last complete RGB frame (taken under the render lock, never mid-render)."""
        with self._frame_lock:
            return self.source.frame.copy()

    def thumbnail_jpeg(self, max_width: int = 1280, quality: int = 85) -> bytes:
        """JPEG of the latest frame, encoded in the caller's thread."""
        return encode_jpeg(self.latest_frame(), max_width=max_width, quality=quality)

    def health_line(self) -> str:
        return format_health_line(self.stats)

    # --- outputs -----------------------------------------------------------------------------------------

    def _check_target(self, target: str) -> None:
        if self._sink_factory is not None:
            return
        if target_kind(target) == "file":
            parent = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(parent):
                raise ValueError(f"cannot write {target!r}: directory {parent!r} does not exist")

    def _new_output(self, target: str, ca_file: str | None, insecure_tls: bool, start_slot: int) -> Output:
        self._generation += 1
        output = Output(
            target,
            self.settings,
            generation=self._generation,
            start_slot=start_slot,
            audio_start=self.clock.samples_at(start_slot),
            emit=self.events.put,
            ca_file=ca_file,
            insecure_tls=insecure_tls,
            stall_timeout=self.stall_timeout,
            max_video_packets=self.max_video_packets,
            sink_factory=self._sink_factory,
        )
        output.start()
        return output

    def _apply_pending_switch(self, slot: int) -> None:
        with self._control:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        target, ca_file, insecure_tls = pending
        old = self._output
        if old is not None:
            old.finish(flush=not old.dead)
            self._retired.append(old)
        try:
            self._output = self._new_output(target, ca_file, insecure_tls, start_slot=slot)
        except Exception as exc:  # noqa: BLE001 - the frame loop must survive a bad switch
            log.exception("could not create output #%d", self._generation)
            self._output = None
            self.events.put(OutputEvent("error", f"could not create output: {type(exc).__name__}: {exc}",
                                        self._generation))
        self._prune_retired()

    def _prune_retired(self) -> None:
        """Fold finished outputs into totals and drop them (each holds an x264 encoder's memory)."""
        keep = []
        for output in self._retired:
            if output.join(0):
                t = self._retired_totals
                t["frames_sent"] += output.frames_sent
                t["audio_sent"] += output.audio_sent
                t["discarded"] += output.discarded
                t["bytes"] += output.bytes_out
                t["video_dropped"] += output.gate.video_dropped
                t["audio_dropped"] += output.gate.audio_dropped
                self._max_queue_depth = max(self._max_queue_depth, output.queue.max_depth)
            else:
                keep.append(output)
        self._retired = keep

    # --- the frame thread ------------------------------------------------------------------------------

    def _frame_loop(self) -> None:
        slot = 0
        next_health = time.monotonic() + self.health_interval
        wait_for, frame = self.clock.wait_for, self._frame
        try:
            self._render_ahead(0)
            while True:
                slot, skipped, now = wait_for(slot)
                if self._stopping:
                    break
                stop_event = self._stop_event
                if stop_event is not None and stop_event.is_set():
                    break
                self._frames_skipped += skipped
                # Plain reads: each is one atomic attribute load, and a value set a moment later is seen
                # at the next frame; the lock is only needed to hand over a pending switch as a whole.
                end_slot = self._end_slot
                if end_slot is not None and slot >= end_slot:
                    break
                if self._pending is not None:
                    self._apply_pending_switch(slot)
                frame(slot)
                slot += 1
                if now >= next_health:
                    log.info("health: %s", self.health_line())
                    next_health = now + self.health_interval
                    self._prune_retired()
        except Exception:  # noqa: BLE001 - last resort: report, then still close the output cleanly
            log.exception("frame loop crashed")
        finally:
            if self._output is not None:
                self._output.finish(flush=True)

    def _frame(self, slot: int) -> None:
        """Encode and mux the picture for ``slot`` (rendered at the previous wake-up), then render the next.

        Why render one frame ahead: on this kind of VM a thread that slept finds the caches and TLB cold,
        and whatever Python runs first after the wake-up pays for it (``benchmarks/wake_penalty.py``: the
        terminal scene's idle frame takes 0.3 us warm, 2 us right after an encode, 17 us right after a
        30 ms sleep; a log line's scroll 170, 200 and 570 us).  Encoding first and rendering after it makes
        the render run nearly warm.  The cost is latency: what the scene draws goes out at the next slot (33 ms later), with
        the stream time of that slot; frames still leave at their slots.
        """
        t0 = perf_counter()
        output = self._output
        video = audio = None
        encoder_cpu_ms = 0.0
        on_frame = self._on_frame  # the encoder's thread CPU is only wanted by benchmarks
        if output is not None:
            cpu0 = time.thread_time() if on_frame is not None else 0.0
            video = output.video.encode(
                self.frame_store.frame, slot - output.start_slot,
                keyframe=output.gate.dropping and output.wants_keyframe(),  # a call only while dropping
            )
            if on_frame is not None:
                encoder_cpu_ms = (time.thread_time() - cpu0) * 1000
            audio = self._audio_for(output, slot)
            if output.port.busy_since is not None:  # only while the writer is inside a blocking write
                output.check_stall(time.monotonic())
        encode_s = perf_counter() - t0
        rendered, render_s, convert_s = self._ahead  # how the picture just encoded was made
        if rendered:
            self._frames_rendered += 1
        else:  # the render failed: the last good picture went out again
            self._frames_repeated += 1
        self._stamps.add((t0, render_s, convert_s, encode_s))
        if on_frame is not None:
            on_frame(FrameTiming(slot, render_s * 1000, convert_s * 1000, encode_s * 1000, encoder_cpu_ms))
        if output is not None:
            output.send(video, audio)
        self._render_ahead(slot + 1)

    def _render_ahead(self, slot: int) -> None:
        """Render the scene for ``slot`` and bring the YUV picture up to date; on a render error the last
        good picture stays (and goes out again)."""
        source = self.source
        t0 = perf_counter()
        with self._frame_lock:
            try:
                rects = source.render(self.clock.stream_time(slot))
                if rects is None:
                    rects = ()
                moves = getattr(source, "moves", None) or ()
                rendered = True
            except Exception as exc:  # noqa: BLE001 - a scene bug must never stop the stream
                self._report_render_error(slot, exc)
                rendered = False
        t1 = perf_counter()
        if rendered:
            try:
                if self._needs_full_convert:
                    self.frame_store.update_all(source.frame)
                    self._needs_full_convert = False
                elif rects or moves:  # most frames of a calm scene change nothing
                    buffer = self._frame_buffer
                    if buffer is not None:
                        self.frame_store.update(buffer, rects, moves, self._refresh_rows)
                    else:
                        self.frame_store.update(source.frame, rects, moves)
            except Exception as exc:  # noqa: BLE001 - e.g. malformed rects: treat like a failed render
                self._report_render_error(slot, exc)
                rendered = False
        self._ahead = (rendered, t1 - t0, perf_counter() - t1)

    def _audio_for(self, output: Output, slot: int) -> list:
        """AAC packets covering stream time up to the end of video ``slot``, in whole AAC frames."""
        position = output.audio_position
        frames = -(-(self.clock.samples_at(slot + 1) - position) // AAC_FRAME_SAMPLES)  # ceiling division
        if frames <= 0:
            return []
        track, encoder = self._track, output.audio
        if encoder.silence_cached and track.skip_silence(position, frames * AAC_FRAME_SAMPLES):
            audio = encoder.encode_silence(position - output.audio_origin, frames)
        else:
            audio = []
            for k in range(frames):
                at = position + k * AAC_FRAME_SAMPLES
                samples = track.samples(at, AAC_FRAME_SAMPLES)
                audio += encoder.encode(samples, at - output.audio_origin, silent=track.silent)
        output.audio_position = position + frames * AAC_FRAME_SAMPLES
        return audio

    def _report_render_error(self, slot: int, exc: BaseException) -> None:
        # The RGB frame may be half-drawn and its damage unknown: resync the YUV copy fully next time.
        self._needs_full_convert = True
        log_now, suppressed = self._render_errors.should_log()
        if self._render_errors.count == 1:
            log.error("scene render failed at t=%.3f s; the last good frame keeps going out",
                      self.clock.stream_time(slot), exc_info=exc)
        elif log_now:
            log.error("scene render failed %d more time(s); latest: %s: %s",
                      suppressed + 1, type(exc).__name__, exc)

"""One output generation: encoders + FLV container + packet gate + the writer thread + the sink.

The frame thread encodes and muxes (never blocks): the bytes go straight into a sink that can take them
without blocking, or to the writer thread, whose ``write`` may block for as long as the network is slow
(see ``muxer.py``).  A new ``Output`` is made for every ``switch_output``: fresh encoders (the first
packet is a keyframe), pts restart at 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import av

from streamer.media.encoders import AudioEncoder, VideoEncoder
from streamer.media.events import OutputEvent, OutputEventKind
from streamer.media.muxer import ChunkQueue, PacketGate, SinkFactory, SinkPort, open_default_sink, target_kind
from streamer.media.settings import EncoderSettings
from streamer.redact import redact_url

log = logging.getLogger(__name__)

# A file's bytes go to the writer thread in chunks of about this size, or at least every this many
# frames (a few hand-overs a second, so a file is never more than half a second behind); a network
# sink's go on after every frame, for latency.
FILE_CHUNK_BYTES = 64 * 1024
FILE_CHUNK_FRAMES = 15


def describe_error(exc: BaseException) -> str:
    """A reason line for an event; never echoes a URL (which could hold the stream key)."""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text


class Output:
    """Encoders, container and writer thread for one target.  Created and fed by the frame thread, which
    owns the container until ``finish()``; then the writer thread closes it."""

    def __init__(
        self,
        target: str,
        settings: EncoderSettings,
        *,
        generation: int,
        start_slot: int,
        audio_start: int,
        emit: Callable[[OutputEvent], None],
        ca_file: str | None = None,
        insecure_tls: bool = False,
        stall_timeout: float = 3.0,
        max_video_packets: int = 60,
        sink_factory: SinkFactory | None = None,
    ) -> None:
        self.target = target
        self.shown_target = redact_url(target)
        self.generation = generation
        self.start_slot = start_slot
        self.audio_origin = audio_start  # absolute sample index that gets audio pts 0
        self.audio_position = audio_start  # next absolute sample index to encode
        self._emit_upstream = emit
        self._ca_file = ca_file
        self._insecure_tls = insecure_tls
        self.stall_timeout = stall_timeout
        self._custom_factory = sink_factory is not None
        self._sink_factory = sink_factory or open_default_sink
        self.is_file = not self._custom_factory and target_kind(target) == "file"

        self.port = SinkPort(seekable=self.is_file)
        # A network sink gets each packet at once (latency); a file gets 32 KB blocks (FFmpeg would
        # otherwise flush a seekable file after every packet too: a Python write call per packet).
        options = {"flush_packets": "0" if self.is_file else "1"}
        self.container = av.open(self.port, "w", format="flv", options=options)
        self.video = VideoEncoder.in_container(self.container, settings)
        self.audio = AudioEncoder.in_container(self.container, settings)
        self.gate = PacketGate(max_video=max_video_packets)
        self.queue = ChunkQueue()
        self._chunk_bytes = FILE_CHUNK_BYTES if self.is_file else 0
        self._chunk_frames = FILE_CHUNK_FRAMES if self.is_file else 1
        self._muxed_video = self._muxed_audio = 0  # packets in the port's bytes not yet handed on

        self._lock = threading.Lock()
        self._sent_kinds: set[OutputEventKind] = set()
        self.dead = False
        self.error: str | None = None
        self.connected = threading.Event()
        self.sink_ready = threading.Event()
        self.finished = False
        self.frames_sent = 0
        self.audio_sent = 0
        self.discarded = 0
        self._thread = threading.Thread(target=self._write_loop, name=f"writer-{generation}", daemon=True)

    # --- frame thread side -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def send(self, video: list[av.Packet], audio: list[av.Packet]) -> None:
        """Mux one frame's packets (those the gate admits) and hand the bytes on."""
        if self.dead:
            self.discarded += len(video) + len(audio)
            return
        gate, queue, mux = self.gate, self.queue, self.container.mux_one
        try:
            if not gate.dropping and not queue.video_depth and not queue.audio_depth:
                # The writer has nothing waiting, so the gate would admit everything: skip asking it, and
                # hand FFmpeg the frame's packets in one call.
                self.container.mux(video + audio)
                self._muxed_video += len(video)
                self._muxed_audio += len(audio)
            else:
                for packet in video:
                    if gate.admit_video(packet, queue.video_depth):
                        mux(packet)
                        self._muxed_video += 1
                for packet in audio:
                    if gate.admit_audio(queue.audio_depth):
                        mux(packet)
                        self._muxed_audio += 1
        except Exception as exc:  # noqa: BLE001 - an FFmpeg error on one output must not stop the frame loop
            self.fail(f"muxing for {self.shown_target} failed: {describe_error(exc)}")
            return
        if self.port.collected > self._chunk_bytes or self._muxed_video >= self._chunk_frames:
            self._hand_on()

    def _hand_on(self) -> None:
        """Pass the collected bytes on: into the sink directly if it takes them without blocking and
        nothing older is waiting, else (the rest) to the writer thread."""
        data = self.port.take()
        video, audio = self._muxed_video, self._muxed_audio
        self._muxed_video = self._muxed_audio = 0
        if not data and not video and not audio:
            return
        if self.sink_ready.is_set() and not self.dead and self.queue.idle():
            try:
                written = self.port.try_write(data)
            except Exception as exc:  # noqa: BLE001 - OutputBroken, OSError: the sink reports why
                self.discarded += video + audio
                self.fail(f"writing to {self.shown_target} failed: {describe_error(exc)}")
                return
            if written == len(data):
                self.frames_sent += video
                self.audio_sent += audio
                return
            data = data[written:]
        self.queue.put(data, video, audio)

    def wants_keyframe(self) -> bool:
        gate = self.gate
        return gate.dropping and not self.dead and gate.wants_keyframe(self.queue.video_depth)

    def check_stall(self, now: float) -> None:
        """Declare the output dead if one write has made no progress for ``stall_timeout`` seconds."""
        busy_since = self.port.busy_since
        if busy_since is not None and not self.dead and now - busy_since > self.stall_timeout:
            self.fail(f"output stalled: a write made no progress for {now - busy_since:.1f} s")

    def finish(self, flush: bool = True) -> None:
        """No more frames: flush the encoders into the container (unless the output is dead), hand the
        rest on, and let the writer thread close the container."""
        if self.finished:
            return
        self.finished = True
        if flush and not self.dead:
            try:
                self.send(self.video.flush(), self.audio.flush())
            except av.error.FFmpegError as exc:  # a flush error must not prevent closing
                log.warning("flushing encoders of output #%d failed: %s", self.generation, exc)
        if self.dead:
            self.port.take()
            self.discarded += self._muxed_video + self._muxed_audio
            self._muxed_video = self._muxed_audio = 0
        else:
            self._hand_on()
        self.queue.put_end()

    def join(self, timeout: float | None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.sink_ready.wait(timeout):
            return False
        waiter = getattr(self.port.sink, "wait_connected", None)
        if waiter is None or self.dead:
            return self.connected.is_set()
        return bool(waiter(max(0.0, deadline - time.monotonic())))

    @property
    def bytes_out(self) -> int:
        counted = getattr(self.port.sink, "bytes_out", None)
        return counted if isinstance(counted, int) else self.port.bytes_written

    # --- events and failure ------------------------------------------------------------------------

    def _emit(self, kind: OutputEventKind, reason: str = "") -> None:
        with self._lock:
            if kind in self._sent_kinds:
                return  # one connected/error/closed per generation, whoever noticed first
            self._sent_kinds.add(kind)
        self._emit_upstream(OutputEvent(kind, reason, self.generation))

    def _on_sink_event(self, event: OutputEvent) -> None:
        """Events from the network sink's own threads."""
        if event.kind == "error":
            self.fail(event.reason or "output failed")
        elif event.kind == "connected":
            self.connected.set()
            self._emit("connected", event.reason)
        else:
            self._emit(event.kind, event.reason)

    def fail(self, reason: str) -> None:
        """Mark the output dead, report it once, and unblock a writer stuck in the sink."""
        with self._lock:
            if self.dead:
                return
            self.dead = True
            self.error = reason
        log.error("output #%d (%s) failed: %s", self.generation, self.shown_target, reason)
        self._emit("error", reason)
        self.queue.clear()
        # Closing the sink is what makes a blocked write() return; do it off the caller's thread, since
        # a misbehaving sink's close() must not freeze the frame loop either.
        threading.Thread(target=self._close_sink, name=f"close-sink-{self.generation}", daemon=True).start()

    def _close_sink(self) -> None:
        sink = self.port.sink
        if sink is None:
            return
        try:
            sink.close()
        except Exception as exc:  # noqa: BLE001 - closing is best effort; the reason is already reported
            log.debug("closing sink of output #%d: %s", self.generation, exc)

    # --- writer thread ----------------------------------------------------------------------------------

    def _open_sink(self) -> bool:
        try:
            sink = self._sink_factory(
                self.target,
                on_event=self._on_sink_event,
                generation=self.generation,
                ca_file=self._ca_file,
                insecure_tls=self._insecure_tls,
                stall_timeout=self.stall_timeout,
            )
        except Exception as exc:  # noqa: BLE001 - any failure to open becomes an error event
            self.fail(f"could not open output {self.shown_target}: {describe_error(exc)}")
            self.sink_ready.set()
            return False
        self.port.attach(sink)
        self.sink_ready.set()
        if self.is_file or not hasattr(sink, "wait_connected"):
            self.connected.set()
            self._emit("connected", f"writing to {self.shown_target}")
        return True

    def _write_loop(self) -> None:
        opened = self._open_sink()
        ended = False
        while not ended:
            # Everything queued at once: one wake-up per batch, not per chunk.
            chunks, ended = self.queue.take()
            try:
                for data, video, audio in chunks:
                    if self.dead or not opened:
                        self.discarded += video + audio
                        continue
                    try:
                        self.port.write_to_sink(data)
                    except Exception as exc:  # noqa: BLE001 - BrokenPipe, OutputBroken, OSError alike
                        self.discarded += video + audio
                        self.fail(f"writing to {self.shown_target} failed: {describe_error(exc)}")
                        continue
                    self.frames_sent += video
                    self.audio_sent += audio
            finally:
                self.queue.done()
        self._close_container()

    def _close_container(self) -> None:
        # The frame thread let go of the container in finish(): the trailer goes straight to the sink.
        self.port.write_through()
        try:
            self.container.close()  # writes the trailer; for a file, patches the FLV duration
        except Exception as exc:  # noqa: BLE001
            if not self.dead:
                self.fail(f"closing {self.shown_target} failed: {describe_error(exc)}")
        sink = self.port.sink
        if sink is not None:
            try:
                flush = getattr(sink, "flush", None)
                if flush is not None and not self.dead:
                    flush()
            except Exception as exc:  # noqa: BLE001
                log.debug("flushing sink of output #%d: %s", self.generation, exc)
            self._close_sink()
        self._emit("closed", self.error or "finished")

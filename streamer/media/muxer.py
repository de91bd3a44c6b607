"""Between the frame thread, which muxes, and the writer thread, which may block on the sink.

The frame thread encodes *and* muxes: FLV bytes collect in a ``SinkPort``.  Handing them on is where a
naive design pays a thread wake-up per frame (tens of microseconds of CPU each on a small VM, about as
much again as muxing itself).  So the port's bytes go, in order of preference:

1. straight into the sink, when the writer thread has nothing queued and the sink can take them without
   blocking (the network sink's pipe has room: the steady state of a healthy stream): no wake-up at all;
2. into a ``ChunkQueue`` for the writer thread, which may block on the sink for as long as the network is
   slow.  A file collects ~64 KB per chunk (a few wake-ups per second): it can never take bytes
   without possibly blocking, and nobody watches a file's latency.

``PacketGate`` bounds that queue where it still can: on whole packets, before they are muxed.  Video is
dropped once too many frames wait (then up to the next keyframe, so the stream stays decodable); audio
is never dropped for backpressure (an audio gap is audible, and FFmpeg's interleaver stalls video
without audio), only at a hard memory cap that the stall watchdog never lets a stuck writer reach.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import av

from streamer.media.events import OutputEvent

NETWORK_SCHEMES = frozenset({"rtmp", "rtmps"})


class ByteSink(Protocol):
    """What the muxer writes into: a file, the network sink, or a test double.

    A sink may also offer ``write_some(data) -> int``: write what fits without blocking (possibly
    nothing) and return how much; the frame thread then writes into it directly."""

    def write(self, data: bytes) -> int: ...
    def close(self) -> None: ...


SinkFactory = Callable[..., ByteSink]


def target_kind(target: str) -> Literal["network", "file"]:
    """``network`` for rtmp(s) URLs, ``file`` for a path; a clear error for anything else."""
    if not target or not target.strip():
        raise ValueError("output target is empty: give an rtmp://, rtmps:// URL or a file path")
    scheme = urlsplit(target).scheme.lower()
    if scheme in NETWORK_SCHEMES:
        return "network"
    if scheme and len(scheme) > 1:
        raise ValueError(
            f"unsupported output scheme {scheme!r}: use rtmp://, rtmps:// or a plain file path"
        )
    return "file"


class PacketGate:
    """Decides, packet by packet, what the frame thread muxes while the writer is behind.

    - Video is dropped while ``max_video`` video packets already wait for the writer, and from then on
      every video packet is dropped until a keyframe arrives *and* fits: the stream resumes decodably.
      ``wants_keyframe()`` tells the frame thread when to force one (once the backlog has drained to
      ``keyframe_low_water``, so the forced keyframe is not itself dropped).
    - Audio is only dropped at ``max_audio`` waiting audio packets: a hard memory cap.
    """

    def __init__(self, max_video: int = 60, max_audio: int = 1000, keyframe_low_water: int | None = None) -> None:
        if max_video < 1 or max_audio < 1:
            raise ValueError("queue bounds must be at least 1")
        self.max_video = max_video
        self.max_audio = max_audio
        self.keyframe_low_water = max_video // 2 if keyframe_low_water is None else keyframe_low_water
        self.dropping = False
        self.video_dropped = 0
        self.audio_dropped = 0

    def admit_video(self, packet: av.Packet, waiting_video: int) -> bool:
        """Mux this video packet?  ``waiting_video``: video packets queued for the writer."""
        if self.dropping:
            if not (packet.is_keyframe and waiting_video < self.max_video):
                self.video_dropped += 1
                return False
            self.dropping = False
        elif waiting_video >= self.max_video:
            self.dropping = True
            self.video_dropped += 1
            return False
        return True

    def admit_audio(self, waiting_audio: int) -> bool:
        if waiting_audio >= self.max_audio:
            self.audio_dropped += 1
            return False
        return True

    def wants_keyframe(self, waiting_video: int) -> bool:
        return self.dropping and waiting_video <= self.keyframe_low_water


Chunk = tuple[bytes, int, int]  # muxed bytes, and how many video and audio packets went into them


class ChunkQueue:
    """Muxed bytes waiting for the writer thread, in order, with the packet counts they carry.

    The frame thread ``put``s; the writer thread ``take``s everything at once (one wake-up per batch)
    and says ``done`` when it has written it.  ``idle()`` is true only when nothing is queued *and*
    the writer is not writing: only then may the frame thread write to the sink itself without
    overtaking older bytes.
    """

    def __init__(self) -> None:
        self._chunks: deque[Chunk | None] = deque()  # None: the end marker
        self._cond = threading.Condition()
        self._busy = False
        self.video_depth = 0
        self.audio_depth = 0
        self.max_depth = 0

    @property
    def depth(self) -> int:
        """Packets waiting (video and audio)."""
        return self.video_depth + self.audio_depth

    def put(self, data: bytes, video: int, audio: int) -> None:
        with self._cond:
            self._chunks.append((data, video, audio))
            self.video_depth += video
            self.audio_depth += audio
            if self.video_depth + self.audio_depth > self.max_depth:
                self.max_depth = self.video_depth + self.audio_depth
            self._cond.notify()

    def put_end(self) -> None:
        """Tell the writer to finish after what is queued (never refused, so shutdown cannot block)."""
        with self._cond:
            self._chunks.append(None)
            self._cond.notify()

    def idle(self) -> bool:
        with self._cond:
            return not self._chunks and not self._busy

    def take(self, timeout: float | None = None) -> tuple[list[Chunk], bool]:
        """Everything queued, oldest first, and whether the end marker came; waits up to ``timeout``
        for something (``([], False)`` on timeout).  Until ``done()``, the writer counts as busy."""
        with self._cond:
            if not self._chunks:
                # A plain wait, not wait_for(): no predicate closure per wake-up.
                if timeout is None:
                    while not self._chunks:
                        self._cond.wait()
                else:
                    self._cond.wait(timeout)
                    if not self._chunks:
                        return [], False
            self._busy = True
            items = list(self._chunks)
            self._chunks.clear()
            self.video_depth = self.audio_depth = 0
        chunks = [item for item in items if item is not None]
        return chunks, len(chunks) != len(items)

    def done(self) -> None:
        with self._cond:
            self._busy = False

    def clear(self) -> int:
        """Throw away everything queued except an end marker; return how many packets went."""
        with self._cond:
            discarded = self.video_depth + self.audio_depth
            ended = any(item is None for item in self._chunks)
            self._chunks = deque([None] if ended else [])
            self.video_depth = self.audio_depth = 0
            return discarded


class SinkPort:
    """The file object handed to ``av.open(port, 'w', format='flv')``.

    While the frame thread owns the container, what FFmpeg writes is only collected (``take()`` hands
    it on); once the writer thread owns it (``write_through()``, for the trailer), writes go straight
    to the sink.  The sink itself is opened by the writer thread (a network sink may take a while)
    and attached here.

    Seekability is fixed when the container is opened: a file gets its FLV duration patched at close
    (a seek, done by the writer thread after all bytes are out); a network sink reports
    ``seekable() == False`` so FFmpeg never tries to seek it.
    """

    def __init__(self, seekable: bool) -> None:
        self._seekable = seekable
        self._sink: Any = None
        self._write_some: Callable[[bytes], int] | None = None
        self._parts: list[bytes] = []
        self.collected = 0  # bytes collected and not yet taken
        self._through = False
        self.bytes_written = 0
        # When the current blocking write began (monotonic), None while not writing: the stall
        # watchdog reads it.
        self.busy_since: float | None = None

    def attach(self, sink: Any) -> None:
        self._write_some = getattr(sink, "write_some", None)
        self._sink = sink

    @property
    def sink(self) -> Any:
        return self._sink

    # -- what FFmpeg calls ------------------------------------------------------------------------

    def write(self, data: bytes) -> int:
        if self._through:
            self.write_to_sink(data)
        else:
            self._parts.append(data)
            self.collected += len(data)
        return len(data)

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable or not self._through:
            raise OSError("output is not seekable")
        return self._sink.seek(offset, whence)

    def tell(self) -> int:
        if not self._seekable or not self._through:
            raise OSError("output is not seekable")
        return self._sink.tell()

    def flush(self) -> None:
        if self._through:
            flush = getattr(self._sink, "flush", None)
            if flush is not None:
                flush()

    # -- the owners' side -------------------------------------------------------------------------

    def take(self) -> bytes:
        """What FFmpeg wrote since the last ``take`` (frame thread)."""
        parts, self._parts = self._parts, []
        self.collected = 0
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def write_through(self) -> None:
        """From now on FFmpeg's writes go straight to the sink (writer thread, for the trailer)."""
        self._through = True

    def try_write(self, data: bytes) -> int:
        """Write what the sink takes without blocking; 0 for a sink that cannot promise that."""
        if self._write_some is None or self._sink is None:
            return 0
        written = self._write_some(data)
        self.bytes_written += written
        return written

    def write_to_sink(self, data: bytes) -> None:
        """Write all of ``data``, blocking as long as the sink does (writer thread)."""
        if self._sink is None:
            raise OSError("output sink is not open yet")
        self.busy_since = time.monotonic()
        try:
            self._sink.write(data)
        finally:
            self.busy_since = None
        self.bytes_written += len(data)


def open_default_sink(
    target: str,
    *,
    on_event: Callable[[OutputEvent], None],
    generation: int,
    ca_file: str | None,
    insecure_tls: bool,
    stall_timeout: float,
) -> ByteSink:
    """A file for a path; the network sink (TLS-verifying relay) for rtmp(s) URLs."""
    if target_kind(target) == "file":
        return open(target, "wb")  # noqa: SIM115 - closed by the writer thread
    # Imported here: the network side is optional for file-only use and lives in its own module.
    from streamer.media.network import NetworkSink

    return NetworkSink(
        target,
        on_event=on_event,
        ca_file=ca_file,
        insecure_tls=insecure_tls,
        stall_timeout=stall_timeout,
        generation=generation,
    )

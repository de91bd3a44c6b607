"""The hand-off between the frame thread and the thread that writes bytes: a bounded packet queue that
drops video (never audio) under backpressure, and the file-like port PyAV's FLV muxer writes into.

Why a queue of *packets* and not of bytes: dropping must happen on whole video packets and end on a
keyframe, or the stream stops being decodable; only the muxer knows where packet bytes begin and end.
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

PacketKind = Literal["video", "audio", "end"]

NETWORK_SCHEMES = frozenset({"rtmp", "rtmps"})


class ByteSink(Protocol):
    """What the muxer writes into: a file, the network sink, or a test double."""

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


class PacketQueue:
    """Bounded FIFO of encoded packets between the frame thread (producer) and the mux thread.

    - Video beyond ``max_video`` queued packets is dropped, and from then on every video packet is
      dropped until a keyframe arrives *and* fits: the stream resumes decodably.  ``wants_keyframe()``
      tells the frame thread when to force one (once the queue has drained to ``keyframe_low_water``, so
      the forced keyframe is not itself dropped).
    - Audio is never dropped for backpressure (an audio gap is audible and FFmpeg's interleaver stalls
      video without audio).  ``max_audio`` is only a hard memory cap for a writer that is stuck for good;
      the stall watchdog declares the output dead long before it is reached.
    """

    def __init__(self, max_video: int = 60, max_audio: int = 1000, keyframe_low_water: int | None = None) -> None:
        if max_video < 1 or max_audio < 1:
            raise ValueError("queue bounds must be at least 1")
        self.max_video = max_video
        self.max_audio = max_audio
        self.keyframe_low_water = max_video // 2 if keyframe_low_water is None else keyframe_low_water
        self._items: deque[tuple[PacketKind, Any]] = deque()
        self._cond = threading.Condition()
        self._video = 0
        self._audio = 0
        self.dropping = False
        self.video_dropped = 0
        self.audio_dropped = 0
        self.max_depth = 0

    @property
    def depth(self) -> int:
        return len(self._items)

    @property
    def video_depth(self) -> int:
        return self._video

    def _append(self, kind: PacketKind, item: Any) -> None:
        self._items.append((kind, item))
        if len(self._items) > self.max_depth:
            self.max_depth = len(self._items)

    def put_video(self, packet: av.Packet) -> bool:
        """Queue a video packet; ``False`` if it was dropped."""
        with self._cond:
            queued = self._offer_video(packet)
            self._cond.notify()
            return queued

    def put_audio(self, packet: av.Packet) -> bool:
        with self._cond:
            queued = self._offer_audio(packet)
            self._cond.notify()
            return queued

    def put_frame(self, video: list[av.Packet], audio: list[av.Packet]) -> None:
        """Queue one frame's packets (video first, as encoded) with a single wake-up of the consumer.

        Waking the mux thread once per frame instead of once per packet matters: on this kind of VM
        every thread wake-up costs tens of microseconds of CPU, and a frame brings one to three packets.
        """
        with self._cond:
            for packet in video:
                self._offer_video(packet)
            for packet in audio:
                self._offer_audio(packet)
            self._cond.notify()

    def _offer_video(self, packet: av.Packet) -> bool:
        if self.dropping:
            if not (packet.is_keyframe and self._video < self.max_video):
                self.video_dropped += 1
                return False
            self.dropping = False
        elif self._video >= self.max_video:
            self.dropping = True
            self.video_dropped += 1
            return False
        self._video += 1
        self._append("video", packet)
        return True

    def _offer_audio(self, packet: av.Packet) -> bool:
        if self._audio >= self.max_audio:
            self.audio_dropped += 1
            return False
        self._audio += 1
        self._append("audio", packet)
        return True

    def put_end(self) -> None:
        """Tell the consumer to finish (never refused, so shutdown cannot be blocked by a full queue)."""
        with self._cond:
            self._append("end", None)
            self._cond.notify()

    def wants_keyframe(self) -> bool:
        with self._cond:
            return self.dropping and self._video <= self.keyframe_low_water

    def get(self, timeout: float | None = None) -> tuple[PacketKind, Any] | None:
        """The next item, or ``None`` if nothing arrived within ``timeout``."""
        with self._cond:
            if not self._items and not self._cond.wait_for(lambda: self._items, timeout):
                return None
            kind, item = self._items.popleft()
            if kind == "video":
                self._video -= 1
            elif kind == "audio":
                self._audio -= 1
            return kind, item

    def get_all(self, timeout: float | None = None) -> list[tuple[PacketKind, Any]]:
        """Everything queued, oldest first (waiting up to ``timeout`` for something); [] on timeout."""
        with self._cond:
            if not self._items:
                # A plain wait, not wait_for(): no predicate closure per wake-up.  The mux thread wakes
                # about once per frame, so its fixed Python cost is paid 30 times a second.
                if timeout is None:
                    while not self._items:
                        self._cond.wait()
                else:
                    self._cond.wait(timeout)
                    if not self._items:
                        return []
            items = list(self._items)
            self._items.clear()
            self._video = self._audio = 0
            return items

    def clear(self) -> int:
        """Throw away everything queued except an end marker; return how many packets went."""
        with self._cond:
            kept = [entry for entry in self._items if entry[0] == "end"]
            discarded = len(self._items) - len(kept)
            self._items = deque(kept)
            self._video = self._audio = 0
            return discarded


class SinkPort:
    """The file object handed to ``av.open(port, 'w', format='flv')``.

    The container is created (and its encoders opened) in the frame thread, but the real sink is opened
    by the mux thread — opening a network sink may take a while — and attached here before anything is
    written: FFmpeg only writes from ``mux()``/``close()``, which run in the mux thread.

    Seekability is fixed when the container is opened: a file gets its FLV duration patched at close;
    a network sink reports ``seekable() == False`` so FFmpeg never tries to seek it.
    """

    def __init__(self, seekable: bool) -> None:
        self._seekable = seekable
        self._sink: Any = None
        self.bytes_written = 0
        # When the current write() began (monotonic), None while not writing: the stall watchdog reads it.
        self.busy_since: float | None = None

    def attach(self, sink: Any) -> None:
        self._sink = sink

    @property
    def sink(self) -> Any:
        return self._sink

    def write(self, data: bytes) -> int:
        if self._sink is None:
            raise OSError("output sink is not open yet")
        self.busy_since = time.monotonic()
        try:
            self._sink.write(data)
        finally:
            self.busy_since = None
        self.bytes_written += len(data)
        return len(data)

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable:
            raise OSError("output is not seekable")
        return self._sink.seek(offset, whence)

    def tell(self) -> int:
        if not self._seekable:
            raise OSError("output is not seekable")
        return self._sink.tell()

    def flush(self) -> None:
        flush = getattr(self._sink, "flush", None)
        if flush is not None:
            flush()


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
        return open(target, "wb")  # noqa: SIM115 - closed by the mux thread
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

"""H.264 and AAC encoders configured from ``EncoderSettings``.

An encoder either lives inside an output container (``in_container``: the container needs the codec's
global header for FLV) or stands alone (``standalone``: benchmarks measure the libx264 floor with it).
Both encode the same way: give it a frame and an integer pts, get packets back.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from av.video.frame import PictureType

from streamer.media.audio import AAC_FRAME_SAMPLES, SAMPLE_FORMAT
from streamer.media.settings import EncoderSettings

_GLOBAL_HEADER = 1 << 22  # AV_CODEC_FLAG_GLOBAL_HEADER: SPS/PPS in extradata, as FLV wants


class _TimeBase:
    """A time base in the form PyAV reads one (``.numerator`` and ``.denominator``), as plain slots.

    PyAV accepts any object with those two attributes.  A ``Fraction`` computes them in Python-level
    properties, and ``codec_context.time_base`` builds a new ``Fraction`` each time it is read: that was
    five Python calls per frame and two per audio packet in the frame thread, for a constant."""

    __slots__ = ("numerator", "denominator")

    def __init__(self, value: Fraction) -> None:
        self.numerator, self.denominator = value.numerator, value.denominator


def _configure_video(ctx: av.video.codeccontext.VideoCodecContext, settings: EncoderSettings) -> None:
    ctx.width = settings.width
    ctx.height = settings.height
    ctx.pix_fmt = settings.pix_fmt
    ctx.time_base = Fraction(1, settings.fps)
    ctx.framerate = settings.frame_rate
    ctx.gop_size = settings.gop
    ctx.thread_count = settings.threads
    ctx.options = settings.x264_options()


def _configure_audio(ctx: av.audio.codeccontext.AudioCodecContext, settings: EncoderSettings) -> None:
    ctx.sample_rate = settings.sample_rate
    ctx.layout = settings.audio_layout
    ctx.format = SAMPLE_FORMAT
    ctx.bit_rate = settings.audio_bitrate
    ctx.time_base = Fraction(1, settings.sample_rate)


class VideoEncoder:
    """libx264 (or another H.264 encoder) taking the persistent yuv420p frame and a slot pts."""

    def __init__(self, ctx: av.video.codeccontext.VideoCodecContext, stream: av.video.stream.VideoStream | None):
        self.ctx = ctx
        self._encode = stream.encode if stream is not None else ctx.encode
        self._time_base = _TimeBase(ctx.time_base)
        self.frames_encoded = 0

    @classmethod
    def standalone(cls, settings: EncoderSettings) -> "VideoEncoder":
        ctx = av.CodecContext.create(settings.video_codec, "w")
        _configure_video(ctx, settings)
        ctx.flags |= _GLOBAL_HEADER
        ctx.open()
        return cls(ctx, None)

    @classmethod
    def in_container(cls, container: av.container.OutputContainer, settings: EncoderSettings) -> "VideoEncoder":
        stream = container.add_stream(settings.video_codec, rate=settings.frame_rate)
        _configure_video(stream.codec_context, settings)
        # Open now, in the caller's thread (the frame thread): the writer thread must never open a codec.
        stream.codec_context.open()
        return cls(stream.codec_context, stream)

    def encode(self, frame: av.VideoFrame, pts: int, *, keyframe: bool = False) -> list[av.Packet]:
        """Encode ``frame`` at ``pts`` (in 1/fps).  ``keyframe`` forces an IDR frame."""
        frame.pts = pts
        frame.time_base = self._time_base
        frame.pict_type = PictureType.I if keyframe else PictureType.NONE
        packets = self._encode(frame)
        frame.pict_type = PictureType.NONE  # the frame is reused; the next one must not inherit it
        self.frames_encoded += 1
        return packets

    def flush(self) -> list[av.Packet]:
        return self._encode(None)


class AudioEncoder:
    """AAC taking fixed-format float32 planar chunks of 1024 samples with a sample-count pts."""

    def __init__(
        self,
        ctx: av.audio.codeccontext.AudioCodecContext,
        stream: av.audio.stream.AudioStream | None,
        settings: EncoderSettings,
    ):
        self.ctx = ctx
        self._stream = stream
        self._encode = stream.encode if stream is not None else ctx.encode
        self._layout = settings.audio_layout
        # Steady silence encodes to the same few bytes every frame (6 bytes at 128k): once seen a few times
        # in a row it is reused instead of running the encoder (~1 CPU-s per stream-minute saved).
        self._silent_payload: bytes | None = None
        self._silent_candidate: bytes | None = None
        self._silent_repeats = 0
        self._silent_lag = 0  # input pts minus output pts of the encoder (its one-frame delay)
        self._skipping = False  # the encoder has not seen the latest silent frames
        self._silence_pool: list[av.Packet] = []  # encode_silence's packets, reused call after call
        self._last_pts: int | None = None  # pts of the last packet handed out
        self._rate = settings.sample_rate
        self._time_base = Fraction(1, settings.sample_rate)
        self._packet_time_base = _TimeBase(self._time_base)

    @classmethod
    def standalone(cls, settings: EncoderSettings) -> "AudioEncoder":
        ctx = av.CodecContext.create(settings.audio_codec, "w")
        _configure_audio(ctx, settings)
        ctx.flags |= _GLOBAL_HEADER
        ctx.open()
        return cls(ctx, None, settings)

    @classmethod
    def in_container(cls, container: av.container.OutputContainer, settings: EncoderSettings) -> "AudioEncoder":
        stream = container.add_stream(settings.audio_codec, rate=settings.sample_rate)
        _configure_audio(stream.codec_context, settings)
        stream.codec_context.open()
        return cls(stream.codec_context, stream, settings)

    @property
    def silence_cached(self) -> bool:
        """True once steady silence is served from a cached packet (see ``encode_silence``)."""
        return self._silent_payload is not None

    def encode_silence(self, pts: int, count: int) -> list[av.Packet]:
        """``count`` AAC frames of silence starting at sample ``pts``, all from the cached packet: what
        ``count`` calls of ``encode(zeros, ..., silent=True)`` would return, in one call (the frame
        thread asks for audio every frame).  Only valid while ``silence_cached``.  The packets are
        reused by the next call: mux them (or copy them) before calling again."""
        if self._silent_payload is None:
            raise RuntimeError("no cached silence yet: use encode() until silence_cached")
        self._skipping = True
        # The same few packet objects every time: making packets was most of this call's cost (it runs
        # every frame, in caches the video encoder has just churned).  Muxing takes a new reference to a
        # packet's data and leaves the object free to reuse.
        pool = self._silence_pool
        while len(pool) < count:
            pool.append(self._new_silence_packet())
        return self._stamp_silence(pool[:count], pts - self._silent_lag)

    def encode(self, samples: np.ndarray, pts: int, *, silent: bool = False) -> list[av.Packet]:
        """Encode ``samples`` (float32, ``(channels, n)``) starting at sample ``pts``.

        ``silent`` says the samples are all zero; steady silence is then served from a cached packet.
        """
        if silent and self._silent_payload is not None:
            self._skipping = True
            return [self._cached_silence(pts - self._silent_lag)]
        if self._skipping:
            # Leaving cached silence.  The encoder still holds the frame it saw before the skip and its pts
            # counter is behind: feed it the silent frame just before this one, then this one, and throw away
            # what comes out (old content, stale pts).  The packet due now is still steady silence (the
            # encoder lags the input), so it comes from the cache; from the next call on the encoder's own
            # packets line up again, with the right overlap (silence) before the new sound.
            self._skipping = False
            self._encode(self._frame(np.zeros_like(samples), pts - samples.shape[1]))
            self._encode(self._frame(samples, pts))
            packet = self._cached_silence(pts - self._silent_lag)
            self._silent_payload = self._silent_candidate = None
            self._silent_repeats = 0
            return [packet]
        packets = self._fresh(self._encode(self._frame(samples, pts)))
        self._learn_silence(packets, pts, silent)
        return packets

    def flush(self) -> list[av.Packet]:
        if self._skipping:
            # The encoder would end with the packets it lags behind the input: steady silence, from the cache.
            # What it still holds from before the skip is stale and is dropped.
            self._encode(None)
            last = self._last_pts if self._last_pts is not None else 0
            return [self._cached_silence(last + k * AAC_FRAME_SAMPLES)
                    for k in range(1, self._silent_lag // AAC_FRAME_SAMPLES + 1)]
        return self._fresh(self._encode(None))

    def _frame(self, samples: np.ndarray, pts: int) -> av.AudioFrame:
        frame = av.AudioFrame.from_ndarray(samples, format=SAMPLE_FORMAT, layout=self._layout)
        frame.sample_rate = self._rate
        frame.pts = pts
        frame.time_base = self._time_base
        return frame

    def _fresh(self, packets: list[av.Packet]) -> list[av.Packet]:
        """Drop packets at or before the last one handed out (left over in the encoder from before a skip)."""
        out = [p for p in packets if self._last_pts is None or p.pts is None or p.pts > self._last_pts]
        if out and out[-1].pts is not None:
            self._last_pts = out[-1].pts
        return out

    def _learn_silence(self, packets: list[av.Packet], pts: int, silent: bool) -> None:
        if not silent or len(packets) != 1 or packets[0].pts is None:
            self._silent_repeats = 0
            self._silent_candidate = None
            return
        payload = bytes(packets[0])
        if payload == self._silent_candidate:
            self._silent_repeats += 1
        else:
            self._silent_candidate, self._silent_repeats = payload, 1
        if self._silent_repeats >= 3:
            self._silent_payload = payload
            self._silence_pool = []
            self._silent_lag = pts - packets[0].pts

    def _cached_silence(self, pts: int) -> av.Packet:
        return self._stamp_silence([self._new_silence_packet()], pts)[0]

    def _new_silence_packet(self) -> av.Packet:
        packet = av.Packet(self._silent_payload)
        if self._stream is not None:
            packet.stream = self._stream
        return packet

    def _stamp_silence(self, packets: list[av.Packet], start: int) -> list[av.Packet]:
        """Give silence packets consecutive timestamps, the first ``start``; every one is set, since muxing
        rebases a packet's timestamps to the stream's time base."""
        time_base = self._packet_time_base
        for k, packet in enumerate(packets):
            packet.pts = packet.dts = start + k * AAC_FRAME_SAMPLES
            packet.duration = AAC_FRAME_SAMPLES
            packet.time_base = time_base
        if packets:
            self._last_pts = start + (len(packets) - 1) * AAC_FRAME_SAMPLES
        return packets


def check_encoders(settings: EncoderSettings) -> None:
    """Open (and drop) both encoders once, so bad settings fail with a clear message before going on air.

    Raises ``ValueError`` naming the codec and the options FFmpeg refused.
    """
    for name, opener in ((settings.video_codec, VideoEncoder.standalone), (settings.audio_codec, AudioEncoder.standalone)):
        if name not in av.codecs_available:
            raise ValueError(f"unknown encoder {name!r}: PyAV's FFmpeg has no codec of that name")
        try:
            opener(settings)
        except av.error.FFmpegError as exc:
            raise ValueError(
                f"the {name} encoder refused these settings ({exc.strerror or exc}); check --video-codec, "
                f"--preset, --tune, the bitrates and --gop"
            ) from None
        except ValueError as exc:
            raise ValueError(f"cannot use encoder {name!r}: {exc}") from None


__all__ = ["AAC_FRAME_SAMPLES", "AudioEncoder", "VideoEncoder", "check_encoders"]

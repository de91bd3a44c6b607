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
        # Open now, in the caller's thread: the mux thread must never be the one that opens a codec.
        stream.codec_context.open()
        return cls(stream.codec_context, stream)

    def encode(self, frame: av.VideoFrame, pts: int, *, keyframe: bool = False) -> list[av.Packet]:
        """Encode ``frame`` at ``pts`` (in 1/fps).  ``keyframe`` forces an IDR frame."""
        frame.pts = pts
        frame.time_base = self.ctx.time_base
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
        self._encode = stream.encode if stream is not None else ctx.encode
        self._layout = settings.audio_layout
        self._rate = settings.sample_rate
        self._time_base = Fraction(1, settings.sample_rate)

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

    def encode(self, samples: np.ndarray, pts: int) -> list[av.Packet]:
        """Encode ``samples`` (float32, ``(channels, n)``) starting at sample ``pts``."""
        frame = av.AudioFrame.from_ndarray(samples, format=SAMPLE_FORMAT, layout=self._layout)
        frame.sample_rate = self._rate
        frame.pts = pts
        frame.time_base = self._time_base
        return self._encode(frame)

    def flush(self) -> list[av.Packet]:
        return self._encode(None)


__all__ = ["AAC_FRAME_SAMPLES", "AudioEncoder", "VideoEncoder"]

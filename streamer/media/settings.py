"""Encoder settings.  Defaults are the platform recipe's ffmpeg command line
(``-c:v libx264 -preset veryfast -tune zerolatency -b:v 1500k -maxrate 1500k -bufsize 3000k
-pix_fmt yuv420p -g 60 -c:a aac -b:a 128k -ar 44100``) at 1280x720, 30 fps."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class EncoderSettings:
    width: int = 1280
    height: int = 720
    fps: int = 30
    video_codec: str = "libx264"
    preset: str = "veryfast"
    tune: str | None = "zerolatency"
    video_bitrate: str = "1500k"
    maxrate: str | None = "1500k"
    bufsize: str | None = "3000k"
    pix_fmt: str = "yuv420p"
    gop: int = 60
    # libx264 threads.  1 keeps CPU lowest (automatic threads shorten wall time but do not lower CPU,
    # measured); 0 lets x264 pick.
    threads: int = 1
    # Free-form private codec options passed to libx264 (e.g. {"x264-params": "scenecut=0"}); they win
    # over the fields above.
    video_options: dict[str, str] = field(default_factory=dict)
    audio_codec: str = "aac"
    audio_bitrate: int = 128_000
    sample_rate: int = 44_100
    channels: int = 2

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(
                f"frame size must be positive and even for yuv420p, got {self.width}x{self.height}"
            )
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if self.gop <= 0:
            raise ValueError(f"gop must be positive, got {self.gop}")
        if self.channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {self.channels}")
        if self.pix_fmt != "yuv420p":
            # The YUV frame store keeps the picture in yuv420p; other formats would need a second
            # conversion per frame, which is exactly the cost this pipeline avoids.
            raise ValueError(f"only pix_fmt 'yuv420p' is supported, got {self.pix_fmt!r}")

    @property
    def frame_rate(self) -> Fraction:
        return Fraction(self.fps)

    @property
    def audio_layout(self) -> str:
        return "stereo" if self.channels == 2 else "mono"

    def x264_options(self) -> dict[str, str]:
        """Options handed to ``avcodec_open2``: generic rate-control keys plus libx264 private ones."""
        options = {"preset": self.preset, "b": self.video_bitrate, "g": str(self.gop)}
        if self.tune:
            options["tune"] = self.tune
        if self.maxrate:
            options["maxrate"] = self.maxrate
        if self.bufsize:
            options["bufsize"] = self.bufsize
        options.update(self.video_options)
        return options

"""Child process that publishes an FLV stream read from stdin to an RTMP URL: ``python -m streamer.media.publisher``.

Why a process: PyAV's RTMP connect and handshake hold the GIL (a whole-process freeze, 15 s against a silent
server) and its output has no interrupt callback. Here that can only freeze this child, which the parent
watches and kills. The parent (``NetworkSink``) points us at its loopback relay, never at the real ingest.

Protocol with the parent:
- the URL (with the stream key) comes in the environment variable ``STREAMER_PUBLISH_URL``, never argv,
  so it does not show up in ``ps``;
- stdin carries FLV, remuxed packet by packet without transcoding;
- stdout carries one status line per event: ``connected`` once the header went out (the ingest accepted
  the publish), ``closed`` after a clean end of input, ``error <reason>`` (stream key redacted) before a
  non-zero exit.
"""

from __future__ import annotations

import os
import sys

URL_ENV = "STREAMER_PUBLISH_URL"

# Start remuxing as soon as the FLV header and the codec configuration tags are in: the default probe
# (5 s of analysis) would delay going on air by seconds. The FLV muxer writes both sequence headers first.
_INPUT_OPTIONS = {"probesize": "32", "analyzeduration": "0"}


def _status(line: str) -> None:
    sys.stdout.write(line.replace("\n", " ") + "\n")
    sys.stdout.flush()


def _scrub(text: str, url: str) -> str:
    """Drop the URL and its stream key from anything we are about to print."""
    from streamer.redact import redact_secret, redact_url

    key = url.rstrip("/").rsplit("/", 1)[-1]
    text = text.replace(url, redact_url(url))
    if len(key) >= 3:
        text = text.replace(key, redact_secret(key))
    return text


def publish(url: str) -> int:
    import av

    try:
        source = av.open("pipe:0", "r", format="flv", options=_INPUT_OPTIONS)
    except av.FFmpegError as exc:
        _status(f"error input is not a readable FLV stream: {exc}")
        return 2
    try:
        sink = av.open(url, "w", format="flv")
    except av.FFmpegError as exc:
        _status("error cannot open output: " + _scrub(str(exc), url))
        return 1
    mapping = {stream.index: sink.add_stream_from_template(stream) for stream in source.streams}
    connected = False
    try:
        for packet in source.demux():
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            out_stream = mapping.get(packet.stream.index)
            if out_stream is None:  # a stream that appeared after the header: not part of this publish
                continue
            packet.stream = out_stream
            sink.mux(packet)  # the first one connects, handshakes and publishes
            if not connected:
                connected = True
                _status("connected")
    except (av.FFmpegError, OSError) as exc:
        _status("error " + ("publishing failed: " if connected else "connect failed: ") + _scrub(str(exc), url))
        _close_quietly(sink)
        return 1
    try:
        sink.close()
    except (av.FFmpegError, OSError) as exc:
        _status("error closing the stream failed: " + _scrub(str(exc), url))
        return 1
    _status("closed")
    return 0


def _close_quietly(container: object) -> None:
    try:
        container.close()  # type: ignore[attr-defined]
    except Exception:  # closing a broken RTMP output raises too; the error is already reported
        pass


def main() -> int:
    url = os.environ.pop(URL_ENV, "")
    if not url:
        _status(f"error {URL_ENV} is not set (this module is started by streamer.media.network)")
        return 2
    return publish(url)


if __name__ == "__main__":
    sys.exit(main())

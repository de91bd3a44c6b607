"""``python -m streamer SCENE.py [options]``: render a scene module and stream it.

With ``--output`` the stream goes to an RTMP(S) URL or a local FLV file (a rehearsal that never talks to
retake.tv). Without it, the go-live sequence takes over (``streamer.live``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from streamer.redact import redact_url

log = logging.getLogger("streamer")


class StartupError(Exception):
    """Something the user must fix before anything goes on air; printed as one line, exit status 2."""


def _base_parser(add_help: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m streamer",
        description="Render SCENE (a scene module such as scenes/terminal.py) at 1280x720/30 fps, encode "
        "H.264/AAC in-process and stream it: to retake.tv by default, or to --output.",
        add_help=add_help,
    )
    parser.add_argument("scene", help="path of the scene module, e.g. scenes/terminal.py")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--output", metavar="URL|FILE",
        help="stream to rtmp://…, rtmps://… or a local .flv file instead of going live on retake.tv",
    )
    out.add_argument("--duration", type=float, metavar="SECONDS", help="stop cleanly after this many seconds")
    out.add_argument("--ca-file", metavar="PEM", help="verify the rtmps:// ingest against this CA bundle")
    out.add_argument(
        "--insecure-tls", action="store_true",
        help="do NOT verify the rtmps:// ingest's certificate (the stream key can then be stolen)",
    )
    enc = parser.add_argument_group("encoder (defaults: the platform recipe)")
    enc.add_argument("--video-codec", default="libx264", help="H.264 encoder (default: libx264)")
    enc.add_argument("--preset", default="veryfast", help="encoder preset (default: veryfast)")
    enc.add_argument("--tune", default="zerolatency", help="encoder tune (default: zerolatency; '' for none)")
    enc.add_argument("--bitrate", default="1500k", help="video bitrate (default: 1500k)")
    enc.add_argument("--maxrate", default="1500k", help="video maxrate (default: 1500k)")
    enc.add_argument("--bufsize", default="3000k", help="rate-control buffer (default: 3000k)")
    enc.add_argument("--gop", type=int, default=60, help="keyframe interval in frames (default: 60)")
    enc.add_argument("--threads", type=int, default=1,
                     help="x264 threads (default: 1, the least CPU; 0 = automatic, shorter frame times)")
    enc.add_argument("--audio-bitrate", default="128k", help="AAC bitrate (default: 128k)")
    from streamer.live_config import add_live_arguments

    add_live_arguments(parser)
    misc = parser.add_argument_group("diagnostics")
    misc.add_argument("--health-interval", type=float, default=10.0, metavar="SECONDS",
                      help="log a one-line health summary this often (default: 10)")
    misc.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def parse_rate(text: str) -> int:
    """'1500k' -> 1500000; '2M' -> 2000000; '800000' -> 800000."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if scale != 1 else text
    try:
        value = int(float(number) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a bitrate: {text!r} (use e.g. 1500k or 2M)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"bitrate must be positive: {text!r}")
    return value


def main(argv: list[str]) -> int:
    from streamer.scene.loader import SceneLoadError, load_scene

    # Two passes: the scene module may add its own options (terminal: --log), so load it first.
    first, _ = _base_parser(add_help=False).parse_known_args(argv)
    try:
        module = load_scene(Path(first.scene))
    except SceneLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parser = _base_parser(add_help=True)
    module.add_arguments(parser.add_argument_group(f"scene options ({first.scene})"))
    options = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if options.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if options.output is None:
            from streamer.live import go_live

            return go_live(module, options)
        return rehearse(module, options)
    except StartupError as exc:
        log.error("%s", exc)
        return 2


def encoder_settings(options: argparse.Namespace):
    """The encoder settings from the command line, checked by opening the encoders once."""
    from streamer.media.encoders import check_encoders
    from streamer.media.settings import EncoderSettings

    try:
        settings = EncoderSettings(
            video_codec=options.video_codec,
            preset=options.preset,
            tune=options.tune or None,
            # Validate the rates here so a typo fails before going on air; the encoder takes FFmpeg's notation.
            video_bitrate=str(parse_rate(options.bitrate)),
            maxrate=str(parse_rate(options.maxrate)),
            bufsize=str(parse_rate(options.bufsize)),
            gop=options.gop,
            threads=options.threads,
            audio_bitrate=parse_rate(options.audio_bitrate),
        )
        check_encoders(settings)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise StartupError(str(exc)) from None
    return settings


def check_output_options(target: str, options: argparse.Namespace) -> None:
    """Refuse an unusable --output / --ca-file before anything starts."""
    from streamer.media.muxer import target_kind

    try:
        target_kind(target)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    if options.ca_file and not Path(options.ca_file).is_file():
        raise StartupError(f"--ca-file {options.ca_file}: no such file (give a PEM bundle of trusted CAs)")


def install_stop_signals(stop: threading.Event) -> None:
    """Ctrl-C and SIGTERM both end the stream cleanly (encoders flushed, container closed)."""

    def handler(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def rehearse(module, options: argparse.Namespace) -> int:
    """Stream the scene to --output (file or RTMP/RTMPS URL) until --duration or a signal."""
    from streamer.media.pipeline import Pipeline
    from streamer.show import SceneSource

    settings = encoder_settings(options)
    check_output_options(options.output, options)
    try:
        source = SceneSource(module, options)
    except Exception as exc:  # a scene's setup() failing is the author's bug: say where, go nowhere
        log.error("scene setup failed: %s", exc, exc_info=True)
        return 2
    stop = threading.Event()
    install_stop_signals(stop)
    pipeline = Pipeline(source, settings=settings, health_interval=options.health_interval)
    log.info("streaming %s -> %s (Ctrl-C to stop)", options.scene, redact_url(options.output))
    pipeline.start(options.output, ca_file=options.ca_file, insecure_tls=options.insecure_tls)
    failed = threading.Event()

    def watch_events() -> None:
        while not stop.is_set():
            try:
                event = pipeline.events.get(timeout=1.0)
            except Exception:
                continue
            if event.kind == "connected":
                log.info("output connected")
            elif event.kind == "error":
                log.error("output failed: %s", event.reason)
                failed.set()
                stop.set()

    watcher = threading.Thread(target=watch_events, name="output-events", daemon=True)
    watcher.start()
    try:
        pipeline.run(duration=options.duration, stop_event=stop)
    finally:
        stop.set()
        stats = pipeline.stop()
        source.close()
    log.info("stopped: %s", pipeline.health_line())
    del stats
    return 1 if failed.is_set() else 0

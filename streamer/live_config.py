"""The go-live options: their command-line form and the checked settings ``LiveShow`` runs with."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from streamer.notify import validate_webhook_url

DEFAULT_OPENING_MESSAGE = "I'm live. What should we explore today?"


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m streamer SCENE.py`` when it goes live (no ``--output``)."""
    live = parser.add_argument_group("going live on retake.tv (without --output)")
    live.add_argument("--api-url", help="API base URL (default: $RETAKE_API_URL or https://retake.tv/api/v1)")
    live.add_argument("--opening-message", default=DEFAULT_OPENING_MESSAGE,
                      help=f"first chat message once live ('' for none; default: {DEFAULT_OPENING_MESSAGE!r})")
    live.add_argument("--notify-command", metavar="CMD",
                      help="also give the operator notification to CMD (JSON on stdin)")
    live.add_argument("--notify-webhook", metavar="URL",
                      help="also POST the operator notification as JSON to this http(s) URL")
    live.add_argument("--comment-command", metavar="CMD",
                      help="run CMD for each new viewer comment, the comment as JSON on stdin (agent hook)")
    live.add_argument("--comment-timeout", type=_positive, default=10.0, metavar="SECONDS",
                      help="kill a --comment-command that runs longer (default: 10)")
    live.add_argument("--comments-jsonl", metavar="PATH",
                      help="append each new viewer comment to PATH as one JSON line (agent hook)")
    live.add_argument("--stop-file", metavar="PATH", help="stop cleanly when this file appears")
    live.add_argument("--max-reconnects", type=int, default=10, metavar="N",
                      help="give up (and stop the stream) after N failed reconnect attempts in a row (default: 10)")
    live.add_argument("--live-timeout", type=_positive, default=30.0, metavar="SECONDS",
                      help="fail if the platform does not report the stream live within this (default: 30)")
    timing = parser.add_argument_group("go-live intervals (the platform document's values by default)")
    timing.add_argument("--live-poll-interval", type=_positive, default=3.0, metavar="SECONDS",
                        help="status poll while waiting to go live (default: 3)")
    timing.add_argument("--comment-interval", type=_positive, default=3.0, metavar="SECONDS",
                        help="comment poll (default: 3)")
    timing.add_argument("--thumbnail-interval", type=_positive, default=180.0, metavar="SECONDS",
                        help="thumbnail refresh (default: 180)")
    timing.add_argument("--status-interval", type=_positive, default=30.0, metavar="SECONDS",
                        help="status poll while live: viewers, uptime, liveness (default: 30)")
    timing.add_argument("--reconnect-backoff", type=_positive, default=1.0, metavar="SECONDS",
                        help="first wait between failed reconnect attempts, doubled each time up to 30 (default: 1)")
    timing.add_argument("--request-timeout", type=_positive, default=10.0, metavar="SECONDS",
                        help="timeout of each platform request (default: 10)")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


@dataclass(frozen=True)
class LiveConfig:
    api_url: str | None = None
    opening_message: str = DEFAULT_OPENING_MESSAGE
    notify_command: str | None = None
    notify_webhook: str | None = None
    comment_command: str | None = None
    comment_timeout: float = 10.0
    comments_jsonl: str | None = None
    stop_file: str | None = None
    max_reconnects: int = 10
    live_timeout: float = 30.0
    live_poll_interval: float = 3.0
    comment_interval: float = 3.0
    thumbnail_interval: float = 180.0
    status_interval: float = 30.0
    reconnect_backoff: float = 1.0
    request_timeout: float = 10.0
    connect_timeout: float = 15.0  # the network sink's own publish deadline
    duration: float | None = None  # seconds on air, counted from is_live
    health_interval: float = 10.0
    ca_file: str | None = None
    insecure_tls: bool = False

    def __post_init__(self) -> None:
        if self.max_reconnects < 1:
            raise ValueError(f"--max-reconnects must be at least 1, got {self.max_reconnects}")
        if self.duration is not None and self.duration <= 0:
            raise ValueError(f"--duration must be positive, got {self.duration:g}")
        if self.notify_webhook:
            validate_webhook_url(self.notify_webhook)
        if self.stop_file and Path(self.stop_file).exists():
            raise ValueError(f"the stop file {self.stop_file} already exists: remove it, or the show would stop "
                             "as soon as it is live")

    @classmethod
    def from_options(cls, options: argparse.Namespace) -> LiveConfig:
        """From the parsed command line; raises ValueError with what to fix."""
        names = [f for f in cls.__dataclass_fields__ if f != "connect_timeout"]
        return cls(**{name: getattr(options, name) for name in names if hasattr(options, name)})

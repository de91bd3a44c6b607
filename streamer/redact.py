"""Keep secrets (access tokens, RTMP stream keys) out of logs, errors and reprs."""

from __future__ import annotations

from urllib.parse import urlsplit

_VISIBLE_PREFIX = 4


def redact_secret(secret: str | None) -> str:
    """Show at most a short prefix of a secret: ``sk_a…``."""
    if not secret:
        return "<none>"
    return secret[:_VISIBLE_PREFIX] + "…"


def redact_url(url: str) -> str:
    """An RTMP(S) URL safe to print: scheme, host, port and app stay, the stream key does not.

    ``rtmps://ingest.example:443/live/sk_abcdef`` -> ``rtmps://ingest.example:443/live/sk_a…``.
    Plain file paths are returned unchanged. Query strings and user info are dropped entirely.
    """
    parts = urlsplit(url)
    if not parts.scheme or len(parts.scheme) == 1:  # a file path (or a Windows drive letter)
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 2:
        shown = "/".join(segments[:-1]) + "/" + redact_secret(segments[-1])
    elif segments:
        shown = segments[0]
    else:
        shown = ""
    return f"{parts.scheme}://{host}/{shown}"

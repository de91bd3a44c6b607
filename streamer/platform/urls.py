"""Which API base URLs the client may talk to.

The access token may only ever reach retake.tv. Loopback addresses are allowed as well so an operator can
rehearse against a local fake and the tests can run one; every other host is refused *before* any request
is sent, so a mistyped ``RETAKE_API_URL`` can never leak the token.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from streamer.platform.errors import UnsafeBaseURLError

DEFAULT_API_URL = "https://retake.tv/api/v1"
API_URL_ENV = "RETAKE_API_URL"
PLATFORM_DOMAIN = "retake.tv"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (brackets allowed)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_platform_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == PLATFORM_DOMAIN or host.endswith("." + PLATFORM_DOMAIN)


def validate_api_url(url: str) -> str:
    """Return ``url`` without a trailing slash, or raise :class:`UnsafeBaseURLError`."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeBaseURLError(
            f"API URL {url!r} is not an http(s) URL with a host; "
            f"use e.g. {DEFAULT_API_URL} or http://127.0.0.1:PORT/api/v1 for a local rehearsal"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UnsafeBaseURLError(
            f"API URL for host {host!r} must not carry user info, a query or a fragment; "
            "give only scheme, host, port and path"
        )
    if is_loopback_host(host):
        pass  # local rehearsal / tests: plain http is fine, nothing leaves the machine
    elif not is_platform_host(host):
        raise UnsafeBaseURLError(
            f"refusing API host {host!r}: the access token may only be sent to {PLATFORM_DOMAIN} "
            f"(or a loopback address for rehearsal); fix --api-url / {API_URL_ENV}"
        )
    elif parts.scheme != "https":
        raise UnsafeBaseURLError(
            f"refusing plain http to {host!r}: the token would travel unencrypted; use https://{host}"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def resolve_api_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The base URL to use: ``--api-url`` beats ``RETAKE_API_URL`` beats the default; always validated."""
    environ = os.environ if environ is None else environ
    return validate_api_url(explicit or environ.get(API_URL_ENV) or DEFAULT_API_URL)


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, lower-cased host, port) — what "the same host" means for redirects."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def skill_json_url(api_url: str) -> str:
    """``skill.json`` lives at the root of the API host: https://retake.tv/skill.json by default."""
    parts = urlsplit(api_url)
    return urlunsplit((parts.scheme, parts.netloc, "/skill.json", "", ""))


def path_segment(value: str) -> str:
    """One URL path segment from user input: ``a/b?c`` can never change which endpoint is called."""
    from urllib.parse import quote

    return quote(str(value), safe="")

"""HTTP policy for the platform: timeouts, bounded retries with jitter, no redirects, error mapping.

Why these rules:
- Every call has a timeout, so a stalled platform can never hang the go-live loops.
- Only calls that are safe to repeat are retried on 5xx / read failures. A connect failure means the request
  never left, so even a creating POST (register, stream/start, chat send) may be retried then — but never
  after the request was sent, or the agent could register twice or say the same thing twice.
- A 401 is never retried: the token is wrong and asking again only hammers the platform.
- Redirects are never followed: the Authorization header must not travel to whatever host a 3xx names.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from streamer.platform.errors import (
    RedirectRefusedError,
    ResponseFormatError,
    RetakeTimeoutError,
    TransportError,
    api_error_for,
)
from streamer.platform.urls import validate_api_url
from streamer.redact import redact_secret

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
_DETAIL_MAX = 200


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter. ``sleep`` and ``random`` are injectable for tests."""

    attempts: int = 4  # total tries, first one included
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, retry_index: int) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based): half fixed, half jitter, capped."""
        cap = min(self.max_delay, self.base_delay * (2**retry_index))
        return cap / 2 + self.random() * cap / 2


class PlatformHTTP:
    """A sync httpx client bound to one validated API base URL. Thread-safe (httpx.Client is)."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "streamer-retake-client/0.1",
    ) -> None:
        self.api_url = validate_api_url(api_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"PlatformHTTP(api_url={self.api_url!r}, timeout={self.timeout})"

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        idempotent: bool,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        form: Mapping[str, str] | None = None,
        timeout: float | None = None,
        secrets: Iterable[str] = (),
    ) -> Any:
        """Send ``method`` to ``api_url + path`` and return the decoded JSON body (None when empty)."""
        return self.call_url(
            method, self.api_url + path, endpoint=f"{method} {path}", token=token, idempotent=idempotent,
            json_body=json_body, params=params, files=files, form=form, timeout=timeout, secrets=secrets,
        )

    def call_url(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        token: str | None = None,
        idempotent: bool,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        form: Mapping[str, str] | None = None,
        timeout: float | None = None,
        secrets: Iterable[str] = (),
    ) -> Any:
        secrets = [s for s in (token, *secrets) if s]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        last_error: Exception | None = None
        for attempt in range(max(1, self.retry.attempts)):
            if attempt:
                pause = self.retry.delay(attempt - 1)
                log.warning("%s: retrying in %.2fs (attempt %d) after: %s", endpoint, pause, attempt + 1,
                            last_error)
                self.retry.sleep(pause)
            # Rebuilt each try: a multipart body stream can only be read once.
            request = self._client.build_request(
                method, url, headers=headers, json=json_body, params=clean_params, files=files, data=form,
                timeout=self.timeout if timeout is None else timeout,
            )
            try:
                response = self._client.send(request)
            except httpx.TimeoutException as exc:
                last_error = RetakeTimeoutError(
                    f"{endpoint}: no answer within {self.timeout if timeout is None else timeout:g}s "
                    f"({type(exc).__name__}) — the platform is slow or unreachable; try again or raise --timeout"
                )
                # A connect timeout means nothing was sent; any other timeout may have reached the server.
                retryable = idempotent or isinstance(exc, httpx.ConnectTimeout)
            except httpx.ConnectError as exc:
                last_error = TransportError(
                    f"{endpoint}: cannot connect to {urlsplit(url).netloc} ({_scrub(str(exc), secrets)}) — "
                    "check the network and --api-url / RETAKE_API_URL"
                )
                retryable = True
            except httpx.TransportError as exc:
                last_error = TransportError(
                    f"{endpoint}: the connection failed mid-request ({type(exc).__name__}: "
                    f"{_scrub(str(exc), secrets)}) — try again"
                )
                retryable = idempotent
            else:
                if 300 <= response.status_code < 400:
                    raise _redirect_error(endpoint, url, response)
                if response.status_code >= 400:
                    error = api_error_for(response.status_code, endpoint, _error_detail(response, secrets))
                    if response.status_code < 500 or not idempotent:
                        raise error
                    last_error, retryable = error, True
                else:
                    return _decode_json(endpoint, response, secrets)
            if not retryable:
                break
        assert last_error is not None
        raise last_error


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, redact_secret(secret))
    return text


def _redirect_error(endpoint: str, url: str, response: httpx.Response) -> RedirectRefusedError:
    location = response.headers.get("location", "")
    target = urlsplit(location)
    host = target.netloc.rpartition("@")[2] or urlsplit(url).netloc  # a relative Location stays on this host
    return RedirectRefusedError(
        f"{endpoint} was answered with a redirect (HTTP {response.status_code}) to host {host}; not followed, "
        "so the access token stays with the configured host — check that --api-url / RETAKE_API_URL is the "
        "API base URL itself",
        location_host=host,
    )


def _error_detail(response: httpx.Response, secrets: Iterable[str]) -> str:
    """The server's own words about the error, short and with any secret redacted."""
    text = response.text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "msg"):
            if isinstance(body.get(key), str):
                text = body[key]
                break
    detail = " ".join(text.split())
    if len(detail) > _DETAIL_MAX:
        detail = detail[:_DETAIL_MAX] + "…"
    return _scrub(detail, secrets)


def _decode_json(endpoint: str, response: httpx.Response, secrets: Iterable[str]) -> Any:
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        start = _scrub(" ".join(response.text[:60].split()), secrets)
        ctype = response.headers.get("content-type", "unknown type")
        raise ResponseFormatError(
            f"{endpoint} answered HTTP {response.status_code} with a body that is not JSON ({ctype}, "
            f"starts {start!r}) — --api-url / RETAKE_API_URL may point at a web page instead of the API"
        ) from None


__all__ = ["DEFAULT_TIMEOUT_S", "PlatformHTTP", "RetryPolicy"]

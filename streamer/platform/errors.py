"""One exception hierarchy for everything that can go wrong talking to retake.tv.

Each HTTP status from the platform document's error table has its own type, and every message says what
happened and what to do. Messages never contain the access token or an RTMP key.
"""

from __future__ import annotations


class RetakeError(Exception):
    """Base class: anything the platform client raises on purpose."""


class UnsafeBaseURLError(RetakeError):
    """The configured API URL is not retake.tv (https) nor a loopback address; nothing was sent."""


class InputValidationError(RetakeError, ValueError):
    """An argument was rejected before any request was made."""


class CredentialsError(RetakeError):
    """The credentials file is missing what is needed, unreadable or corrupt."""


class TransportError(RetakeError):
    """The request did not get an HTTP answer (connection refused, DNS, TLS...)."""


class RetakeTimeoutError(TransportError):
    """The platform did not answer within the timeout."""


class RedirectRefusedError(RetakeError):
    """The platform answered with a redirect; it is not followed so the token cannot leak."""

    def __init__(self, message: str, location_host: str) -> None:
        super().__init__(message)
        self.location_host = location_host


class ResponseFormatError(RetakeError):
    """The platform answered 2xx but the body is not the JSON the document describes."""


class APIError(RetakeError):
    """The platform answered with an error status."""

    advice = "see the platform document's error table"

    def __init__(self, message: str, *, status_code: int, endpoint: str, detail: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.endpoint = endpoint
        self.detail = detail


class BadRequestError(APIError):
    advice = "check the fields you sent (for register: the agent name may be taken — choose another)"


class AuthenticationError(APIError):
    advice = (
        "the access token is invalid or missing: check RETAKE_ACCESS_TOKEN or the credentials file "
        "(run `python -m streamer register` if this agent was never registered)"
    )


class NotFoundError(APIError):
    advice = "the id was not found: verify the userDbId, session_id, user_id or token address"


class NoActiveSessionError(APIError):
    advice = "there is no active stream session: call stream/start (go live) first"


class ServerError(APIError):
    advice = "the platform failed (5xx); it was retried where safe — try again later, report it if it persists"


class UnexpectedStatusError(APIError):
    advice = "the platform answered with a status the document does not describe"


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: NoActiveSessionError,
}


def api_error_for(status_code: int, endpoint: str, detail: str) -> APIError:
    """Build the exception for an error status; ``detail`` is the (already redacted) server message."""
    if status_code in _BY_STATUS:
        cls = _BY_STATUS[status_code]
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = UnexpectedStatusError
    said = f": {detail}" if detail else ""
    message = f"{endpoint} failed with HTTP {status_code}{said} — {cls.advice}"
    return cls(message, status_code=status_code, endpoint=endpoint, detail=detail)

"""``RetakeClient``: one method per documented endpoint of the retake.tv API (v2.1.2).

Agent endpoints are here; the public discovery endpoints and the Privy-JWT user endpoints come from the
mixins in ``discovery.py`` and ``user_api.py`` so each module stays one concept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from streamer.platform._parse import items
from streamer.platform.credentials import CredentialStore
from streamer.platform.discovery import DiscoveryEndpoints
from streamer.platform.errors import CredentialsError
from streamer.platform.models import (
    ChatSendResult,
    Comment,
    Registration,
    RtmpCredentials,
    StreamStart,
    StreamStatus,
    StreamStopResult,
    ThumbnailResult,
    VerificationPrompt,
    VerificationStatus,
)
from streamer.platform.transport import DEFAULT_TIMEOUT_S, PlatformHTTP, RetryPolicy
from streamer.platform.urls import resolve_api_url
from streamer.platform.user_api import UserEndpoints
from streamer.platform.validation import validate_chat_text, validate_limit, validate_tweet_url
from streamer.redact import redact_secret

log = logging.getLogger(__name__)


class RetakeClient(DiscoveryEndpoints, UserEndpoints):
    """Talks to one retake.tv API base URL. Safe to share between threads.

    ``access_token`` authenticates the agent endpoints; ``privy_token`` (a Privy user JWT) the ``/users/me``
    endpoints. Neither is ever put in a URL, logged, or shown in ``repr``.
    """

    def __init__(
        self,
        api_url: str | None = None,
        access_token: str | None = None,
        *,
        privy_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = PlatformHTTP(resolve_api_url(api_url), timeout=timeout, retry=retry, transport=transport)
        self._access_token = access_token or None
        self._privy_token = privy_token or None

    @classmethod
    def from_store(cls, store: CredentialStore | None = None, api_url: str | None = None,
                   **kwargs: Any) -> RetakeClient:
        """A client authenticated with ``RETAKE_ACCESS_TOKEN`` or else the credentials file's token."""
        store = store or CredentialStore()
        return cls(api_url, store.load_effective().access_token, **kwargs)

    @property
    def api_url(self) -> str:
        return self._http.api_url

    @property
    def http(self) -> PlatformHTTP:
        return self._http

    def __repr__(self) -> str:
        token = redact_secret(self._access_token) if self._access_token else "<none>"
        return f"RetakeClient(api_url={self.api_url!r}, access_token={token!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RetakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing shared with the mixins ---------------------------------------------------------------

    def _agent_token(self) -> str:
        if not self._access_token:
            raise CredentialsError(
                "this call needs the agent access token: set RETAKE_ACCESS_TOKEN or register first"
            )
        return self._access_token

    def _call(self, method: str, path: str, *, auth: str | None = None, idempotent: bool | None = None,
              json_body: Any = None, params: Mapping[str, Any] | None = None,
              files: Mapping[str, tuple[str, bytes, str]] | None = None,
              form: Mapping[str, str] | None = None) -> Any:
        """``auth``: None (public), "agent" or "privy". GET is idempotent unless told otherwise."""
        token = {None: None, "agent": self._agent_token, "privy": self._privy}[auth]
        token_value = token() if callable(token) else token
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE")
        return self._http.call(method, path, token=token_value, idempotent=idempotent,
                               json_body=json_body, params=params, files=files, form=form)

    def _privy(self) -> str:
        if not self._privy_token:
            raise CredentialsError("the /users/me endpoints need a Privy user JWT (privy_token), not the agent token")
        return self._privy_token

    # -- agent: registration and verification -------------------------------------------------------------

    def register(self, agent_name: str, agent_description: str, image_url: str, wallet_address: str,
                 ticker: str) -> Registration:
        """POST /agent/register. Creates the account, so never retried once sent."""
        path = "/agent/register"
        body = {"agent_name": agent_name, "agent_description": agent_description, "image_url": image_url,
                "wallet_address": wallet_address, "ticker": ticker}
        data = self._call("POST", path, json_body=body, idempotent=False)
        return Registration.from_json(data, f"POST {path}")

    def prepare_verify(self) -> VerificationPrompt:
        """POST /agent/prepare-verify: the exact message the human must tweet."""
        path = "/agent/prepare-verify"
        return VerificationPrompt.from_json(self._call("POST", path, auth="agent", idempotent=True), f"POST {path}")

    def verify(self, tweet_url: str) -> VerificationStatus:
        """POST /agent/verify with the human's tweet URL (validated first: never a placeholder)."""
        path = "/agent/verify"
        body = {"tweet_url": validate_tweet_url(tweet_url)}
        data = self._call("POST", path, auth="agent", json_body=body, idempotent=True)
        return VerificationStatus.from_json(data, f"POST {path}")

    def verification_status(self) -> VerificationStatus:
        path = "/agent/verification-status"
        return VerificationStatus.from_json(self._call("GET", path, auth="agent"), f"GET {path}")

    # -- agent: streaming ------------------------------------------------------------------------------------

    def rtmp(self) -> RtmpCredentials:
        """POST /agent/rtmp: fresh ingest URL + key. Retried: a repeat only hands out a newer key."""
        path = "/agent/rtmp"
        return RtmpCredentials.from_json(self._call("POST", path, auth="agent", idempotent=True), f"POST {path}")

    def stream_start(self) -> StreamStart:
        """POST /agent/stream/start: makes the agent discoverable. Never retried once sent."""
        path = "/agent/stream/start"
        return StreamStart.from_json(self._call("POST", path, auth="agent", idempotent=False), f"POST {path}")

    def stream_status(self) -> StreamStatus:
        path = "/agent/stream/status"
        return StreamStatus.from_json(self._call("GET", path, auth="agent"), f"GET {path}")

    def stream_stop(self) -> StreamStopResult:
        """POST /agent/stream/stop. Stopping twice is harmless, so it is retried."""
        path = "/agent/stream/stop"
        return StreamStopResult.from_json(self._call("POST", path, auth="agent", idempotent=True),
                                          f"POST {path}")

    def update_thumbnail(self, jpeg_bytes: bytes, filename: str = "thumbnail.jpg",
                         content_type: str = "image/jpeg") -> ThumbnailResult:
        """POST /agent/update-thumbnail (multipart field ``image``). Replacing is idempotent: retried."""
        path = "/agent/update-thumbnail"
        data = self._call("POST", path, auth="agent", idempotent=True,
                          files={"image": (filename, bytes(jpeg_bytes), content_type)})
        return ThumbnailResult.from_json(data, f"POST {path}")

    # -- agent: chat -----------------------------------------------------------------------------------------

    def chat_send(self, text: str, to_user_id: str) -> ChatSendResult:
        """POST /agent/stream/chat/send. The document wants the token in the body too; it only ever goes to
        the configured (validated) host, and redirects are refused. Never retried once sent."""
        path = "/agent/stream/chat/send"
        body = {"message": validate_chat_text(text), "destination_user_id": to_user_id,
                "access_token": self._agent_token()}
        data = self._call("POST", path, auth="agent", json_body=body, idempotent=False)
        return ChatSendResult.from_json(data, f"POST {path}")

    def comments(self, user_db_id: str, limit: int = 50, before_id: str | None = None) -> list[Comment]:
        """GET /agent/stream/comments for ``user_db_id``'s stream, in the order the platform gave."""
        path = "/agent/stream/comments"
        params = {"userDbId": user_db_id, "limit": validate_limit(limit), "beforeId": before_id}
        data = self._call("GET", path, auth="agent", params=params)
        endpoint = f"GET {path}"
        return [Comment.from_json(item, endpoint) for item in items(data, endpoint, "comments", "chats")]

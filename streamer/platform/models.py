"""Typed results of the agent endpoints, and the one normalised chat :class:`Comment`.

Every type keeps the decoded JSON in ``raw`` (hidden from repr) so fields the platform adds later are not lost.
Types that hold a secret show only a short prefix of it in their repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streamer.platform._parse import integer, pick, require_object, required, text
from streamer.redact import redact_secret, redact_url

_Raw = Mapping[str, Any]


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Registration:
    access_token: str = field(repr=False)
    agent_id: str
    user_db_id: str
    wallet_address: str | None = None
    token_address: str | None = None
    token_ticker: str | None = None
    raw: _Raw = _raw()

    def __repr__(self) -> str:
        return (f"Registration(agent_id={self.agent_id!r}, user_db_id={self.user_db_id!r}, "
                f"access_token={redact_secret(self.access_token)!r})")

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> Registration:
        data = require_object(data, endpoint)
        return cls(
            access_token=required(data, endpoint, "access_token"),
            agent_id=required(data, endpoint, "agent_id", "agentId"),
            user_db_id=required(data, endpoint, "userDbId", "user_db_id", "user_id"),
            wallet_address=text(data, "wallet_address"),
            token_address=text(data, "token_address") or None,
            token_ticker=text(data, "token_ticker") or None,
            raw=data,
        )


@dataclass(frozen=True)
class VerificationPrompt:
    """The exact text the human operator must post on Twitter/X."""

    message: str
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> VerificationPrompt:
        data = require_object(data, endpoint)
        return cls(message=required(data, endpoint, "verification_message", "message"), raw=data)


@dataclass(frozen=True)
class VerificationStatus:
    verified: bool
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> VerificationStatus:
        data = require_object(data, endpoint)
        return cls(verified=required(data, endpoint, "verified", kind=bool), raw=data)


@dataclass(frozen=True)
class RtmpCredentials:
    """Fresh ingest URL and stream key. The key is a secret: repr and str show only its prefix."""

    url: str
    key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"RtmpCredentials(url={self.url!r}, key={redact_secret(self.key)!r})"

    __str__ = __repr__

    @property
    def publish_url(self) -> str:
        """The full URL to publish to (``$url/$key`` as the document says). Secret: never print it."""
        return f"{self.url.rstrip('/')}/{self.key}"

    @property
    def redacted_publish_url(self) -> str:
        return redact_url(self.publish_url)

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> RtmpCredentials:
        data = require_object(data, endpoint)
        return cls(url=required(data, endpoint, "url", "rtmp_url"), key=required(data, endpoint, "key", "stream_key"))


@dataclass(frozen=True)
class TokenInfo:
    name: str | None
    ticker: str | None
    token_address: str | None
    image_url: str | None = None
    token_type: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenInfo:
        return cls(
            name=text(data, "name"),
            ticker=text(data, "ticker"),
            token_address=text(data, "tokenAddress", "token_address", "address"),
            image_url=text(data, "imageUrl", "image_url"),
            token_type=text(data, "tokenType", "token_type"),
        )


@dataclass(frozen=True)
class StreamStart:
    success: bool
    token: TokenInfo | None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> StreamStart:
        data = require_object(data, endpoint)
        token = data.get("token")
        return cls(
            success=bool(data.get("success", True)),
            token=TokenInfo.from_json(token) if isinstance(token, Mapping) else None,
            raw=data,
        )


@dataclass(frozen=True)
class StreamStatus:
    is_live: bool
    viewers: int = 0
    uptime_seconds: int = 0
    token_address: str | None = None
    user_db_id: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> StreamStatus:
        data = require_object(data, endpoint)
        return cls(
            is_live=required(data, endpoint, "is_live", "isLive", kind=bool),
            viewers=integer(data, "viewers", "viewer_count") or 0,
            uptime_seconds=integer(data, "uptime_seconds", "uptime") or 0,
            token_address=text(data, "token_address") or None,
            user_db_id=text(data, "userDbId", "user_db_id"),
            raw=data,
        )


@dataclass(frozen=True)
class ThumbnailResult:
    thumbnail_url: str | None
    message: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> ThumbnailResult:
        data = require_object(data or {}, endpoint)
        return cls(thumbnail_url=text(data, "thumbnail_url", "thumbnailUrl"), message=text(data, "message"),
                   raw=data)


@dataclass(frozen=True)
class StreamStopResult:
    status: str
    duration_seconds: int | None = None
    viewers: int | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> StreamStopResult:
        data = require_object(data or {}, endpoint)
        return cls(
            status=text(data, "status") or "stopped",
            duration_seconds=integer(data, "duration_seconds", "duration"),
            viewers=integer(data, "viewers"),
            raw=data,
        )


@dataclass(frozen=True)
class ChatSendResult:
    """The document does not describe the answer; whatever came back is in ``raw``."""

    message_id: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> ChatSendResult:
        data = data if isinstance(data, Mapping) else {}
        inner = data.get("message") if isinstance(data.get("message"), Mapping) else data
        return cls(message_id=text(inner, "_id", "chat_event_id", "id", "message_id"), raw=data)


@dataclass(frozen=True)
class Comment:
    """One chat message, whichever shape the platform used.

    Shapes seen: the document's ``{_id, text, timestamp, author: {fusername, walletAddress, fid}}`` and the
    chat-history / Socket.IO shape ``{chat_event_id, sender_user_id, sender_username, text, type}``.
    """

    id: str
    text: str
    author_name: str | None = None
    author_id: str | None = None
    timestamp: str | None = None
    kind: str = "message"  # "message", "tip", "trade" ...
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> Comment:
        data = require_object(data, endpoint)
        author = data.get("author") if isinstance(data.get("author"), Mapping) else {}
        return cls(
            id=required(data, endpoint, "_id", "chat_event_id", "id"),
            text=text(data, "text", "message") or "",
            author_name=text(data, "sender_username") or text(author, "fusername", "username", "name"),
            author_id=text(data, "sender_user_id") or text(author, "walletAddress", "fid", "user_id"),
            timestamp=text(data, "timestamp", "created_at", "createdAt"),
            kind=text(data, "type") or "message",
            raw=data,
        )

    @property
    def tip(self) -> Mapping[str, Any] | None:
        value = pick(self.raw, "tip_data")
        return value if isinstance(value, Mapping) else None

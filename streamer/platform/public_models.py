"""Typed results of the public discovery endpoints and the Privy-JWT user endpoints.

The document lists these fields only loosely ("Returns user_id, username, ticker..."), so only the one field
that identifies a record is required; the rest are optional and everything is kept in ``raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streamer.platform._parse import number, pick, require_object, required, text
from streamer.redact import redact_secret

_Raw = Mapping[str, Any]


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AgentSummary:
    """An agent in search results, the live list, the newest list or a following list."""

    user_id: str
    username: str | None = None
    ticker: str | None = None
    token_address: str | None = None
    market_cap: float | None = None
    rank: int | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> AgentSummary:
        data = require_object(data, endpoint)
        rank = number(data, "rank")
        return cls(
            user_id=required(data, endpoint, "user_id", "userDbId", "streamer_id", "id", "_id"),
            username=text(data, "username", "name", "agent_name"),
            ticker=text(data, "ticker", "token_ticker"),
            token_address=text(data, "token_address", "tokenAddress", "address"),
            market_cap=number(data, "market_cap", "current_market_cap", "marketCap"),
            rank=None if rank is None else int(rank),
            raw=data,
        )


@dataclass(frozen=True)
class UserMetadata:
    username: str | None
    bio: str | None = None
    wallet_address: str | None = None
    profile_picture_url: str | None = None
    social_links: tuple[Any, ...] = ()
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> UserMetadata:
        data = require_object(data, endpoint)
        data = data.get("user") if isinstance(data.get("user"), Mapping) else data
        links = data.get("social_links")
        return cls(
            username=text(data, "username", "name"),
            bio=text(data, "bio"),
            wallet_address=text(data, "wallet_address", "walletAddress"),
            profile_picture_url=text(data, "profile_picture_url", "pfp"),
            social_links=tuple(links) if isinstance(links, list) else (),
            raw=data,
        )


@dataclass(frozen=True)
class StreamerInfo:
    """``/users/streamer/:identifier``: the streamer plus, when live, session info."""

    streamer_id: str
    username: str | None = None
    is_live: bool | None = None
    session_id: str | None = None
    ticker: str | None = None
    token_address: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> StreamerInfo:
        data = require_object(data, endpoint)
        inner = data.get("streamer") if isinstance(data.get("streamer"), Mapping) else data
        session = pick(data, "session", "active_session")
        session = session if isinstance(session, Mapping) else {}
        live = pick(inner, "is_live", "isLive", "live")
        return cls(
            streamer_id=required(inner, endpoint, "streamer_id", "user_id", "userDbId", "id", "_id"),
            username=text(inner, "username", "name"),
            is_live=live if isinstance(live, bool) else None,
            session_id=text(session, "session_id", "id", "_id") or text(inner, "session_id"),
            ticker=text(inner, "ticker", "token_ticker"),
            token_address=text(inner, "token_address", "tokenAddress"),
            raw=data,
        )


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    streamer_id: str | None = None
    title: str | None = None
    username: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> SessionInfo:
        data = require_object(data, endpoint)
        return cls(
            session_id=required(data, endpoint, "session_id", "id", "_id"),
            streamer_id=text(data, "streamer_id", "user_id"),
            title=text(data, "title"),
            username=text(data, "username", "streamer_username"),
            raw=data,
        )


@dataclass(frozen=True)
class JoinToken:
    """A LiveKit viewer token (a credential: repr shows only its prefix)."""

    token: str = field(repr=False)
    url: str | None = None
    raw: _Raw = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"JoinToken(url={self.url!r}, token={redact_secret(self.token)!r})"

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> JoinToken:
        data = require_object(data, endpoint)
        return cls(token=required(data, endpoint, "token", "access_token", "livekit_token"),
                   url=text(data, "url", "livekit_url", "server_url"), raw=data)


@dataclass(frozen=True)
class TokenSummary:
    """A row of ``/tokens/top/`` or ``/tokens/trending/``, or of the trade volume/count rankings."""

    ticker: str | None
    name: str | None = None
    address: str | None = None
    user_id: str | None = None
    market_cap: float | None = None
    growth_24h: float | None = None
    volume: float | None = None
    trade_count: float | None = None
    rank: float | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> TokenSummary:
        data = require_object(data, endpoint)
        return cls(
            ticker=text(data, "ticker", "tokenTicker", "token_ticker"),
            name=text(data, "name", "username"),
            address=text(data, "address", "token_address", "tokenAddress"),
            user_id=text(data, "user_id"),
            market_cap=number(data, "current_market_cap", "market_cap", "marketCap"),
            growth_24h=number(data, "growth_24h"),
            volume=number(data, "volume", "volume_usd", "total_volume"),
            trade_count=number(data, "trade_count", "count", "trades"),
            rank=number(data, "rank"),
            raw=data,
        )


@dataclass(frozen=True)
class TokenStats:
    address: str
    current_price: float | None = None
    market_cap: float | None = None
    all_time_high: float | None = None
    volume: float | None = None
    earnings: float | None = None
    growth: Mapping[str, Any] = field(default_factory=dict)
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str, address: str) -> TokenStats:
        data = require_object(data, endpoint)
        growth = data.get("growth")
        return cls(
            address=text(data, "address", "token_address") or address,
            current_price=number(data, "current_price", "price"),
            market_cap=number(data, "market_cap", "current_market_cap"),
            all_time_high=number(data, "all_time_high", "ath"),
            volume=number(data, "volume", "volume_24h"),
            earnings=number(data, "earnings"),
            growth=growth if isinstance(growth, Mapping) else {},
            raw=data,
        )


@dataclass(frozen=True)
class Trade:
    token_address: str | None
    action: str | None = None
    usd_amount: float | None = None
    ticker: str | None = None
    timestamp: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> Trade:
        data = require_object(data, endpoint)
        return cls(
            token_address=text(data, "address", "token_address", "tokenAddress"),
            action=text(data, "action", "type", "side"),
            usd_amount=number(data, "usdAmount", "usd_amount", "amount_usd"),
            ticker=text(data, "tokenTicker", "ticker", "token_ticker"),
            timestamp=text(data, "timestamp", "created_at", "time"),
            raw=data,
        )


@dataclass(frozen=True)
class Tipper:
    username: str | None
    user_id: str | None = None
    total: float | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> Tipper:
        data = require_object(data, endpoint)
        return cls(username=text(data, "username", "sender_username", "name"),
                   user_id=text(data, "user_id", "sender_user_id"),
                   total=number(data, "total", "amount", "total_amount"), raw=data)


@dataclass(frozen=True)
class UserProfile:
    """``/users/me`` (Privy JWT)."""

    user_id: str | None
    username: str | None = None
    bio: str | None = None
    raw: _Raw = _raw()

    @classmethod
    def from_json(cls, data: Any, endpoint: str) -> UserProfile:
        data = require_object(data or {}, endpoint)
        data = data.get("user") if isinstance(data.get("user"), Mapping) else data
        return cls(user_id=text(data, "user_id", "id", "_id", "userDbId"), username=text(data, "username"),
                   bio=text(data, "bio"), raw=data)

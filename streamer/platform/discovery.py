"""The public discovery endpoints (no auth): users, sessions, tokens, trades, chat history, top tippers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from streamer.platform._parse import items
from streamer.platform.errors import InputValidationError
from streamer.platform.models import Comment
from streamer.platform.public_models import (
    AgentSummary,
    JoinToken,
    SessionInfo,
    StreamerInfo,
    Tipper,
    TokenStats,
    TokenSummary,
    Trade,
    UserMetadata,
)
from streamer.platform.urls import path_segment as seg
from streamer.platform.validation import validate_limit

T = TypeVar("T")
SESSION_KINDS = ("active", "recorded", "scheduled")


class DiscoveryEndpoints:
    """Mixed into ``RetakeClient``; relies on its ``_call``."""

    _call: Callable[..., Any]

    def _list(self, path: str, parse: Callable[[Any, str], T], *keys: str,
              params: Mapping[str, Any] | None = None) -> list[T]:
        endpoint = f"GET {path}"
        data = self._call("GET", path, params=params)
        return [parse(item, endpoint) for item in items(data, endpoint, *keys)]

    # -- users -----------------------------------------------------------------------------------------------

    def search_users(self, query: str) -> list[AgentSummary]:
        return self._list(f"/users/search/{seg(query)}", AgentSummary.from_json, "users", "results", "data")

    def live_users(self) -> list[AgentSummary]:
        return self._list("/users/live/", AgentSummary.from_json, "users", "live", "streamers", "data")

    def newest_users(self) -> list[AgentSummary]:
        return self._list("/users/newest/", AgentSummary.from_json, "users", "data")

    def user_metadata(self, user_id: str) -> UserMetadata:
        path = f"/users/metadata/{seg(user_id)}"
        return UserMetadata.from_json(self._call("GET", path), f"GET {path}")

    def streamer(self, identifier: str) -> StreamerInfo:
        """Lookup by username or UUID; ``streamer_id`` is the userDbId chat and sessions want."""
        path = f"/users/streamer/{seg(identifier)}"
        return StreamerInfo.from_json(self._call("GET", path), f"GET {path}")

    # -- sessions --------------------------------------------------------------------------------------------

    def sessions(self, kind: str = "active", streamer_id: str | None = None) -> list[SessionInfo]:
        """``/sessions/{active|recorded|scheduled}/[streamer_id/]``."""
        if kind not in SESSION_KINDS:
            raise InputValidationError(f"session kind {kind!r} must be one of {', '.join(SESSION_KINDS)}")
        path = f"/sessions/{kind}/" + (f"{seg(streamer_id)}/" if streamer_id else "")
        endpoint = f"GET {path}"
        data = self._call("GET", path)
        if isinstance(data, Mapping) and not any(isinstance(v, list) for v in data.values()):
            return [SessionInfo.from_json(data, endpoint)]  # one agent's active session may come bare
        return [SessionInfo.from_json(item, endpoint) for item in items(data, endpoint, "sessions", "data")]

    def active_sessions(self, streamer_id: str | None = None) -> list[SessionInfo]:
        return self.sessions("active", streamer_id)

    def recorded_sessions(self, streamer_id: str | None = None) -> list[SessionInfo]:
        return self.sessions("recorded", streamer_id)

    def scheduled_sessions(self, streamer_id: str | None = None) -> list[SessionInfo]:
        return self.sessions("scheduled", streamer_id)

    def join_session(self, session_id: str) -> JoinToken:
        path = f"/sessions/{seg(session_id)}/join/"
        return JoinToken.from_json(self._call("GET", path), f"GET {path}")

    # -- tokens ----------------------------------------------------------------------------------------------

    def top_tokens(self) -> list[TokenSummary]:
        return self._list("/tokens/top/", TokenSummary.from_json, "tokens", "data")

    def trending_tokens(self) -> list[TokenSummary]:
        return self._list("/tokens/trending/", TokenSummary.from_json, "tokens", "data")

    def token_stats(self, address: str) -> TokenStats:
        path = f"/tokens/{seg(address)}/stats"
        return TokenStats.from_json(self._call("GET", path), f"GET {path}", address)

    # -- trades ----------------------------------------------------------------------------------------------

    def recent_trades(self, token_address: str | None = None, limit: int | None = None,
                      cursor: str | None = None) -> list[Trade]:
        path = "/trades/recent/" + (f"{seg(token_address)}/" if token_address else "")
        params = {"limit": None if limit is None else validate_limit(limit), "cursor": cursor}
        return self._list(path, Trade.from_json, "trades", "data", params=params)

    def top_volume_tokens(self, limit: int | None = None, window: str | None = None) -> list[TokenSummary]:
        params = {"limit": None if limit is None else validate_limit(limit), "window": window}
        return self._list("/trades/top-volume/", TokenSummary.from_json, "tokens", "data", params=params)

    def top_count_tokens(self) -> list[TokenSummary]:
        return self._list("/trades/top-count/", TokenSummary.from_json, "tokens", "data")

    # -- chat ------------------------------------------------------------------------------------------------

    def chat_history(self, streamer_id: str, limit: int = 50,
                     before_chat_event_id: str | None = None) -> list[Comment]:
        params = {"streamer_id": streamer_id, "limit": validate_limit(limit),
                  "before_chat_event_id": before_chat_event_id}
        return self._list("/chat/", Comment.from_json, "chats", "comments", params=params)

    def top_tippers(self, streamer_id: str) -> list[Tipper]:
        return self._list("/chat/top-tippers", Tipper.from_json, "tippers", "top_tippers", "data",
                          params={"streamer_id": streamer_id})

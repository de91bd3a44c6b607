"""The Privy-JWT user endpoints (``/users/me...`` and session management), for operators with such a token.

They authenticate with the Privy user JWT, never the agent access token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streamer.platform._parse import items
from streamer.platform.public_models import AgentSummary, SessionInfo, UserProfile
from streamer.platform.urls import path_segment as seg


class UserEndpoints:
    """Mixed into ``RetakeClient``; relies on its ``_call``."""

    _call: Callable[..., Any]

    def _me(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, path, auth="privy", **kwargs)

    # -- profile ----------------------------------------------------------------------------------------------

    def me(self) -> UserProfile:
        return UserProfile.from_json(self._me("GET", "/users/me"), "GET /users/me")

    def update_bio(self, bio: str) -> UserProfile:
        return UserProfile.from_json(self._me("PATCH", "/users/me/bio", json_body={"bio": bio}, idempotent=True),
                                     "PATCH /users/me/bio")

    def update_username(self, username: str) -> UserProfile:
        data = self._me("PATCH", "/users/me/username", json_body={"username": username}, idempotent=True)
        return UserProfile.from_json(data, "PATCH /users/me/username")

    def update_token_name(self, token_name: str) -> UserProfile:
        data = self._me("PATCH", "/users/me/tokenName", json_body={"token_name": token_name}, idempotent=True)
        return UserProfile.from_json(data, "PATCH /users/me/tokenName")

    def update_pfp(self, image: bytes, filename: str = "pfp.png", content_type: str = "image/png") -> UserProfile:
        data = self._me("PATCH", "/users/me/pfp", files={"image": (filename, image, content_type)},
                        idempotent=True)
        return UserProfile.from_json(data, "PATCH /users/me/pfp")

    def update_banner(self, image: bytes, url: str, filename: str = "banner.png",
                      content_type: str = "image/png") -> UserProfile:
        data = self._me("PATCH", "/users/me/banner", files={"image": (filename, image, content_type)},
                        form={"url": url}, idempotent=True)
        return UserProfile.from_json(data, "PATCH /users/me/banner")

    # -- following --------------------------------------------------------------------------------------------

    def following(self) -> list[AgentSummary]:
        endpoint = "GET /users/me/following"
        data = self._me("GET", "/users/me/following")
        return [AgentSummary.from_json(i, endpoint) for i in items(data, endpoint, "following", "users", "data")]

    def is_following(self, target_username: str) -> bool:
        path = f"/users/me/following/{seg(target_username)}"
        data = self._me("GET", path)
        if isinstance(data, dict):
            return bool(data.get("following", data.get("is_following", False)))
        return bool(data)

    def follow(self, target_id: str) -> None:
        self._me("PUT", f"/users/me/following/{seg(target_id)}")

    def unfollow(self, target_id: str) -> None:
        self._me("DELETE", f"/users/me/following/{seg(target_id)}")

    # -- sessions ---------------------------------------------------------------------------------------------

    def start_session(self, title: str, category: str | None = None,
                      tags: Sequence[str] = ()) -> SessionInfo:
        """POST /sessions/start — creates a session, so never retried once sent."""
        body = {"title": title, "category": category, "tags": list(tags)}
        data = self._me("POST", "/sessions/start", json_body=body, idempotent=False)
        return SessionInfo.from_json(data, "POST /sessions/start")

    def end_session(self, session_id: str) -> None:
        self._me("POST", f"/sessions/{seg(session_id)}/end", idempotent=True)

    def update_session(self, session_id: str, **metadata: Any) -> None:
        self._me("PUT", f"/sessions/{seg(session_id)}", json_body=metadata)

    def delete_session(self, session_id: str) -> None:
        self._me("DELETE", f"/sessions/{seg(session_id)}")

    def muted_users(self, session_id: str) -> list[AgentSummary]:
        endpoint = f"GET /sessions/{session_id}/muted-users"
        data = self._me("GET", f"/sessions/{seg(session_id)}/muted-users")
        return [AgentSummary.from_json(i, endpoint) for i in items(data, endpoint, "users", "muted_users", "data")]

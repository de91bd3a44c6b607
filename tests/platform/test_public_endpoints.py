"""Every public discovery endpoint and every Privy-JWT user endpoint against the fake platform."""

from __future__ import annotations

import pytest

from streamer.platform import AuthenticationError, CredentialsError, RetakeClient


@pytest.fixture
def public(fake):
    fake.public_agents[:] = [
        {"user_id": "u-a", "username": "alpha", "ticker": "ALP", "token_address": "TokA", "market_cap": 10.0,
         "live": True, "recorded": True, "scheduled": True, "growth_24h": 3.5},
        {"user_id": "u-b", "username": "beta", "ticker": "BET", "token_address": "TokB", "market_cap": 20.0},
    ]
    fake.chats["u-a"] = []
    fake.trades[:] = [{"address": "TokA", "action": "sell", "usdAmount": "7.5", "tokenTicker": "ALP"},
                      {"address": "TokB", "action": "buy", "usdAmount": 1, "tokenTicker": "BET"}]
    return fake


def test_users_endpoints(client, public):
    assert [a.username for a in client.search_users("alp")] == ["alpha"]
    assert public.requests[-1].authorization is None  # public calls carry no token
    live = client.live_users()
    assert [(a.user_id, a.ticker, a.token_address, a.market_cap) for a in live] == [("u-a", "ALP", "TokA", 10.0)]
    assert [a.username for a in client.newest_users()] == ["beta", "alpha"]
    meta = client.user_metadata("u-a")
    assert meta.username == "alpha" and meta.profile_picture_url
    info = client.streamer("alpha")
    assert (info.streamer_id, info.is_live, info.session_id) == ("u-a", True, "sess_u-a")


def test_search_query_is_one_path_segment(client, public):
    client.search_users("a/b?c")
    assert public.requests[-1].path == "/api/v1/users/search/a%2Fb%3Fc"


def test_sessions_endpoints(client, public):
    assert [s.session_id for s in client.active_sessions()] == ["active_u-a"]
    assert [s.streamer_id for s in client.recorded_sessions("u-a")] == ["u-a"]
    assert [s.title for s in client.scheduled_sessions()] == ["untitled"]
    join = client.join_session("active_u-a")
    assert join.url == "wss://livekit.fake" and join.token not in repr(join)


def test_token_and_trade_endpoints(client, public):
    assert [(t.ticker, t.rank) for t in client.top_tokens()] == [("BET", 1.0), ("ALP", 2.0)]
    assert [t.growth_24h for t in client.trending_tokens()][0] == 3.5
    stats = client.token_stats("TokA")
    assert stats.address == "TokA" and stats.market_cap == 10.0 and stats.growth["24h"] == 10.0
    trades = client.recent_trades()
    assert [(t.ticker, t.usd_amount, t.action) for t in trades] == [("ALP", 7.5, "sell"), ("BET", 1.0, "buy")]
    assert [t.ticker for t in client.recent_trades("TokB", limit=5)] == ["BET"]
    assert public.requests[-1].query == {"limit": ["5"]}
    assert [t.ticker for t in client.top_volume_tokens(limit=10, window="24h")] == ["ALP", "BET"]
    assert public.requests[-1].query == {"limit": ["10"], "window": ["24h"]}
    assert len(client.top_count_tokens()) == 2


def test_chat_endpoints(client, public):
    public.add_comment("u-a", "gm", username="fan", kind="tip")
    history = client.chat_history("u-a", limit=10)
    assert [(c.text, c.author_name, c.kind) for c in history] == [("gm", "fan", "tip")]
    assert client.top_tippers("u-a")[0].total == 42.0


def test_privy_endpoints_use_the_privy_token_only(fake, public, agent):
    fake.privy_tokens.add("privy_jwt_secret")
    with RetakeClient(fake.base_url, agent.access_token, privy_token="privy_jwt_secret") as client:
        assert client.me().username == "operator"
        assert client.update_bio("new bio").user_id == "privy_user"
        client.update_username("op2")
        client.update_token_name("Tok")
        client.update_pfp(b"\x89PNG")
        client.update_banner(b"\x89PNG", "https://e.com/b")
        assert [a.username for a in client.following()] == ["alpha"]
        assert client.is_following("alpha") is True
        client.follow("u-b")
        client.unfollow("u-b")
        assert client.start_session("my show", "tech", ["ai"]).session_id == "sess_new"
        client.update_session("sess_new", title="renamed")
        client.end_session("sess_new")
        client.delete_session("sess_new")
        assert client.muted_users("sess_new")[0].user_id == "troll"
        assert "privy_jwt_secret" not in repr(client)
    privy_requests = [r for r in fake.requests if r.api_path.startswith(("/users/me", "/sessions/"))]
    assert len(privy_requests) == 15
    assert all(r.authorization == "Bearer privy_jwt_secret" for r in privy_requests)
    banner = fake.requests_to("/users/me/banner")[0]
    assert b'name="url"' in banner.body and b"https://e.com/b" in banner.body


def test_privy_endpoints_need_a_privy_token(client, fake):
    with pytest.raises(CredentialsError, match="Privy"):
        client.me()
    assert fake.requests == []
    fake.privy_tokens.add("good")
    with RetakeClient(fake.base_url, privy_token="bad") as other:
        with pytest.raises(AuthenticationError):
            other.following()

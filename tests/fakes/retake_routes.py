"""What the fake retake.tv does for each documented endpoint (see ``retake_server.FakeRetake``)."""

from __future__ import annotations

import email.parser
import email.policy
import secrets
import time
from typing import Any, Callable

from tests.fakes.retake_server import Canned, FakeAgent, FakeRetake, RecordedRequest

UNAUTHORIZED = Canned(401, {"error": "Invalid or missing access_token"})
NO_SESSION = Canned(409, {"error": "No active session"})


def _agent(fake: FakeRetake, req: RecordedRequest) -> FakeAgent | None:
    auth = req.authorization or ""
    return fake.agents.get(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None


def _json(req: RecordedRequest) -> dict[str, Any]:
    try:
        data = req.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def authed(action: Callable[..., Canned]) -> Callable[..., Canned]:
    def wrapper(fake: FakeRetake, req: RecordedRequest, *groups: str) -> Canned:
        agent = _agent(fake, req)
        return UNAUTHORIZED if agent is None else action(fake, req, agent, *groups)

    return wrapper


def privy(action: Callable[..., Canned]) -> Callable[..., Canned]:
    def wrapper(fake: FakeRetake, req: RecordedRequest, *groups: str) -> Canned:
        auth = req.authorization or ""
        if not auth.startswith("Bearer ") or auth[7:] not in fake.privy_tokens:
            return Canned(401, {"error": "Invalid Privy token"})
        return action(fake, req, *groups)

    return wrapper


# -- agent ------------------------------------------------------------------------------------------------------

def register(fake: FakeRetake, req: RecordedRequest) -> Canned:
    body = _json(req)
    needed = ("agent_name", "agent_description", "image_url", "wallet_address", "ticker")
    missing = [k for k in needed if not body.get(k)]
    if missing:
        return Canned(400, {"error": f"missing {', '.join(missing)}"})
    if any(a.name == body["agent_name"] for a in fake.agents.values()):
        return Canned(400, {"error": "Agent name already taken"})
    agent = fake.add_agent(body["agent_name"], wallet_address=body["wallet_address"], ticker=body["ticker"],
                           description=body["agent_description"], image_url=body["image_url"])
    return Canned(200, {"access_token": agent.access_token, "agent_id": agent.agent_id,
                        "userDbId": agent.user_db_id, "wallet_address": agent.wallet_address,
                        "token_address": "", "token_ticker": ""})


@authed
def prepare_verify(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    agent.verification_message = (f"Claiming my Livestreaming Agent on @retakedottv. "
                                  f"Code: {secrets.token_hex(4).upper()}")
    return Canned(200, {"verification_message": agent.verification_message})


@authed
def verify(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    url = _json(req).get("tweet_url", "")
    if agent.verification_message is None:
        return Canned(400, {"error": "No verification message yet"})
    if "/status/" not in url:
        return Canned(400, {"error": "Invalid tweet URL"})
    if agent.verification_message not in fake.tweets.get(url, ""):
        return Canned(400, {"error": "Tweet doesn't contain the code"})
    agent.verified = True
    return Canned(200, {"verified": True})


@authed
def verification_status(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    return Canned(200, {"verified": agent.verified})


@authed
def rtmp(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    agent.rtmp_key = f"sk_{secrets.token_hex(12)}"  # a fresh key every call, as the document says
    return Canned(200, {"url": fake.rtmp_url_for(agent, agent.rtmp_key), "key": agent.rtmp_key})


@authed
def stream_start(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    agent.session_active = True
    agent.session_started_at = time.monotonic()
    if not agent.token_address:
        agent.token_address = "Tok" + secrets.token_hex(20)
    return Canned(200, {"success": True, "token": {
        "name": agent.name, "ticker": agent.ticker, "imageUrl": agent.image_url,
        "tokenAddress": agent.token_address, "tokenType": "dbc"}})


@authed
def stream_status(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    live = fake.is_live(agent)
    uptime = int(time.monotonic() - agent.session_started_at) if live else 0
    return Canned(200, {"is_live": live, "viewers": agent.viewers, "uptime_seconds": uptime,
                        "token_address": agent.token_address, "userDbId": agent.user_db_id})


@authed
def stream_stop(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    if not agent.session_active:
        return NO_SESSION
    agent.session_active = False
    duration = int(time.monotonic() - agent.session_started_at)
    return Canned(200, {"status": "stopped", "duration_seconds": duration, "viewers": agent.viewers})


@authed
def update_thumbnail(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    ctype = req.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return Canned(400, {"error": "multipart/form-data with field image required"})
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + req.body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "image":
            agent.thumbnails.append((part.get_filename() or "", part.get_content_type(),
                                     part.get_payload(decode=True)))
            return Canned(200, {"message": "Thumbnail updated",
                                "thumbnail_url": f"https://cdn.fake/thumbs/{len(agent.thumbnails)}.jpg"})
    return Canned(400, {"error": "field image required"})


@authed
def chat_send(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    body = _json(req)
    if not body.get("message") or not body.get("destination_user_id"):
        return Canned(400, {"error": "message and destination_user_id required"})
    if body["destination_user_id"] not in fake.chats:
        return Canned(404, {"error": "destination user not found"})
    comment_id = fake.add_comment(body["destination_user_id"], body["message"], username=agent.name,
                                  user_id=agent.user_db_id)
    return Canned(200, {"success": True, "message": {"_id": comment_id, "text": body["message"]}})


def _shape(fake: FakeRetake, c: dict[str, Any], streamer: str) -> dict[str, Any]:
    if fake.comment_shape == "chat_event":
        return {"chat_event_id": c["id"], "sender_user_id": c["user_id"], "sender_username": c["username"],
                "text": c["text"], "type": c["type"], "timestamp": c["timestamp"]}
    return {"_id": c["id"], "streamId": streamer, "text": c["text"], "timestamp": c["timestamp"],
            "author": {"walletAddress": c["user_id"], "fusername": c["username"], "fid": 12345,
                       "favatar": "https://cdn.fake/a.png"}}


def _page(chat: list[dict[str, Any]], limit: int, before: str | None) -> list[dict[str, Any]]:
    if before is not None:
        ids = [c["id"] for c in chat]
        chat = chat[: ids.index(before)] if before in ids else []
    return chat[-limit:]


@authed
def comments(fake: FakeRetake, req: RecordedRequest, agent: FakeAgent) -> Canned:
    user = (req.query.get("userDbId") or [""])[0]
    limit = int((req.query.get("limit") or ["50"])[0])
    if not user or not 1 <= limit <= 100:
        return Canned(400, {"error": "userDbId required, limit 1..100"})
    if user not in fake.chats:
        return Canned(404, {"error": "userDbId not found"})
    page = [_shape(fake, c, user) for c in _page(fake.chats[user], limit, (req.query.get("beforeId") or [None])[0])]
    return Canned(200, page if fake.comments_bare_list else {"comments": page})


# -- public discovery -------------------------------------------------------------------------------------------

def _find_public(fake: FakeRetake, ident: str) -> dict[str, Any] | None:
    return next((a for a in fake.public_agents if ident in (a["user_id"], a["username"])), None)


def users_search(fake: FakeRetake, req: RecordedRequest, query: str) -> Canned:
    from urllib.parse import unquote

    q = unquote(query).lower()
    return Canned(200, {"users": [a for a in fake.public_agents if q in a["username"].lower()]})


def users_live(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, [a for a in fake.public_agents if a.get("live")])


def users_newest(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, {"users": list(reversed(fake.public_agents))})


def users_metadata(fake: FakeRetake, req: RecordedRequest, user_id: str) -> Canned:
    a = _find_public(fake, user_id)
    if a is None:
        return Canned(404, {"error": "user not found"})
    return Canned(200, {"username": a["username"], "bio": a.get("bio", ""), "wallet_address": "W" * 32,
                        "social_links": [], "profile_picture_url": "https://cdn.fake/p.png"})


def users_streamer(fake: FakeRetake, req: RecordedRequest, ident: str) -> Canned:
    a = _find_public(fake, ident)
    if a is None:
        return Canned(404, {"error": "streamer not found"})
    session = {"session_id": f"sess_{a['user_id']}", "title": a.get("title", "")} if a.get("live") else None
    return Canned(200, {"streamer_id": a["user_id"], "username": a["username"], "is_live": bool(a.get("live")),
                        "ticker": a["ticker"], "token_address": a["token_address"], "session": session})


def sessions(fake: FakeRetake, req: RecordedRequest, kind: str, streamer: str | None = None) -> Canned:
    wanted = [a for a in fake.public_agents
              if (a.get("live") if kind == "active" else a.get(kind)) and streamer in (None, a["user_id"])]
    return Canned(200, [{"session_id": f"{kind}_{a['user_id']}", "streamer_id": a["user_id"],
                         "title": a.get("title", "untitled"), "username": a["username"]} for a in wanted])


def session_join(fake: FakeRetake, req: RecordedRequest, session_id: str) -> Canned:
    return Canned(200, {"token": "lk_viewer_" + secrets.token_hex(8), "url": "wss://livekit.fake"})


def tokens_top(fake: FakeRetake, req: RecordedRequest) -> Canned:
    ranked = sorted(fake.public_agents, key=lambda a: -a["market_cap"])
    return Canned(200, [{"user_id": a["user_id"], "name": a["username"], "ticker": a["ticker"],
                         "address": a["token_address"], "current_market_cap": a["market_cap"], "rank": i + 1}
                        for i, a in enumerate(ranked)])


def tokens_trending(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, {"tokens": [{"username": a["username"], "ticker": a["ticker"],
                                    "growth_24h": a.get("growth_24h", 0.0), "market_cap": a["market_cap"]}
                                   for a in fake.public_agents]})


def token_stats(fake: FakeRetake, req: RecordedRequest, address: str) -> Canned:
    a = next((a for a in fake.public_agents if a["token_address"] == address), None)
    if a is None:
        return Canned(404, {"error": "token not found"})
    return Canned(200, {"current_price": 0.0012, "market_cap": a["market_cap"], "all_time_high": 0.002,
                        "growth": {"1h": 1.5, "6h": -2.0, "24h": 10.0}, "volume": 5000, "earnings": 12.5})


def trades_recent(fake: FakeRetake, req: RecordedRequest, address: str | None = None) -> Canned:
    rows = [t for t in fake.trades if address in (None, t["address"])]
    limit = int((req.query.get("limit") or ["100"])[0])
    return Canned(200, {"trades": rows[:limit]})


def trades_top(fake: FakeRetake, req: RecordedRequest, kind: str) -> Canned:
    return Canned(200, [{"ticker": a["ticker"], "address": a["token_address"], "volume": a["market_cap"] / 10,
                         "trade_count": 3} for a in fake.public_agents])


def chat_history(fake: FakeRetake, req: RecordedRequest) -> Canned:
    streamer = (req.query.get("streamer_id") or [""])[0]
    if streamer not in fake.chats:
        return Canned(404, {"error": "streamer not found"})
    limit = int((req.query.get("limit") or ["50"])[0])
    before = (req.query.get("before_chat_event_id") or [None])[0]
    rows = _page(fake.chats[streamer], limit, before)
    return Canned(200, {"chats": [{"chat_event_id": c["id"], "sender_user_id": c["user_id"],
                                   "sender_username": c["username"], "text": c["text"], "type": c["type"],
                                   "tip_data": None, "trade_data": None} for c in rows]})


def top_tippers(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, {"tippers": [{"username": "whale", "user_id": "u_whale", "total": 42.0}]})


# -- Privy user endpoints ---------------------------------------------------------------------------------------

@privy
def me(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, {"user_id": "privy_user", "username": "operator", "bio": "hi"})


@privy
def me_patch(fake: FakeRetake, req: RecordedRequest, what: str) -> Canned:
    return Canned(200, {"user_id": "privy_user", "username": "operator", "updated": what})


@privy
def following(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, {"following": [{"user_id": a["user_id"], "username": a["username"]}
                                      for a in fake.public_agents[:1]]})


@privy
def following_one(fake: FakeRetake, req: RecordedRequest, target: str) -> Canned:
    if req.method == "GET":
        return Canned(200, {"following": bool(fake.public_agents) and target == fake.public_agents[0]["username"]})
    return Canned(200, {"success": True})


@privy
def session_start(fake: FakeRetake, req: RecordedRequest) -> Canned:
    return Canned(200, {"session_id": "sess_new", "title": _json(req).get("title")})


@privy
def session_ok(fake: FakeRetake, req: RecordedRequest, session_id: str, *_: str) -> Canned:
    return Canned(200, {"success": True})


@privy
def muted_users(fake: FakeRetake, req: RecordedRequest, session_id: str) -> Canned:
    return Canned(200, {"users": [{"user_id": "troll", "username": "troll"}]})


_SEG = r"([^/]+)"
ROUTES: list[tuple[str, str, Callable[..., Canned]]] = [
    ("POST", "/agent/register", register),
    ("POST", "/agent/prepare-verify", prepare_verify),
    ("POST", "/agent/verify", verify),
    ("GET", "/agent/verification-status", verification_status),
    ("POST", "/agent/rtmp", rtmp),
    ("POST", "/agent/stream/start", stream_start),
    ("GET", "/agent/stream/status", stream_status),
    ("POST", "/agent/stream/stop", stream_stop),
    ("POST", "/agent/update-thumbnail", update_thumbnail),
    ("POST", "/agent/stream/chat/send", chat_send),
    ("GET", "/agent/stream/comments", comments),
    ("GET", f"/users/search/{_SEG}", users_search),
    ("GET", "/users/live/", users_live),
    ("GET", "/users/newest/", users_newest),
    ("GET", f"/users/metadata/{_SEG}", users_metadata),
    ("GET", f"/users/streamer/{_SEG}", users_streamer),
    ("GET", "/users/me", me),
    ("PATCH", "/users/me/(bio|username|pfp|banner|tokenName)", me_patch),
    ("GET", "/users/me/following", following),
    ("GET", f"/users/me/following/{_SEG}", following_one),
    ("PUT", f"/users/me/following/{_SEG}", following_one),
    ("DELETE", f"/users/me/following/{_SEG}", following_one),
    ("GET", "/sessions/(active|recorded|scheduled)/", sessions),
    ("GET", f"/sessions/(active|recorded|scheduled)/{_SEG}/", sessions),
    ("GET", f"/sessions/{_SEG}/join/", session_join),
    ("POST", "/sessions/start", session_start),
    ("POST", f"/sessions/{_SEG}/(end)", session_ok),
    ("PUT", f"/sessions/{_SEG}", session_ok),
    ("DELETE", f"/sessions/{_SEG}", session_ok),
    ("GET", f"/sessions/{_SEG}/muted-users", muted_users),
    ("GET", "/tokens/top/", tokens_top),
    ("GET", "/tokens/trending/", tokens_trending),
    ("GET", f"/tokens/{_SEG}/stats", token_stats),
    ("GET", "/trades/recent/", trades_recent),
    ("GET", f"/trades/recent/{_SEG}/", trades_recent),
    ("GET", "/trades/(top-volume|top-count)/", trades_top),
    ("GET", "/chat/", chat_history),
    ("GET", "/chat/top-tippers", top_tippers),
]

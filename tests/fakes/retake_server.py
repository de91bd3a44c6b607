"""A fake retake.tv on loopback: a real ``ThreadingHTTPServer`` speaking the API document's endpoints.

Stateful (agents, tokens, RTMP keys, sessions, comments) so a test can run whole flows, and scriptable per
test: canned responses (any status / body / headers / delay) queued for one endpoint take precedence over
the built-in behaviour — use them for 500 bursts, slow answers, redirects and non-JSON bodies.
Every request is recorded with its headers and body.

The go-live issue can make ``is_live`` depend on a real RTMP publisher by setting
``agent.publisher_connected`` (or overriding :meth:`FakeRetake.is_live`).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/api/v1"


@dataclass
class Canned:
    """One scripted answer. ``body``: dict/list → JSON; str/bytes → sent as is."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str  # as sent, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    client_host: str
    at: float = field(default_factory=time.time)  # wall clock when it arrived
    response: Canned | None = None  # what the fake answered (set once decided)

    @property
    def api_path(self) -> str:
        return self.path[len(API_PREFIX):] if self.path.startswith(API_PREFIX) else self.path

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def raw_text(self) -> str:
        """Request line, headers and body as one string — for scanning for leaked secrets."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        query = "&".join(f"{k}={v}" for k, vs in self.query.items() for v in vs)
        return f"{self.method} {self.path}?{query}\n{head}\n\n{self.body.decode('utf-8', 'replace')}"


@dataclass
class FakeAgent:
    name: str
    access_token: str
    agent_id: str
    user_db_id: str
    wallet_address: str = ""
    ticker: str = ""
    description: str = ""
    image_url: str = ""
    verified: bool = False
    verification_message: str | None = None
    rtmp_key: str | None = None
    session_active: bool = False
    session_started_at: float = 0.0
    publisher_connected: bool = False  # the go-live fake will drive this from a real RTMP ingest
    token_address: str = ""
    viewers: int = 0
    thumbnails: list[tuple[str, str, bytes]] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeRetake

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here; don't spray tracebacks


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _dispatch(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class FakeRetake:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.lock = threading.RLock()
        self.agents: dict[str, FakeAgent] = {}  # by access token
        self.privy_tokens: set[str] = set()
        self.rtmp_url = "rtmp://127.0.0.1:1935/live"
        self.skill_version = "2.1.2"
        self.tweets: dict[str, str] = {}  # tweet URL -> text "posted" by the human
        self.chats: dict[str, list[dict[str, Any]]] = {}  # by streamer userDbId, oldest first
        self.comment_shape = "document"  # or "chat_event"
        self.comments_bare_list = False
        self.public_agents: list[dict[str, Any]] = []
        self.trades: list[dict[str, Any]] = []
        self.requests: list[RecordedRequest] = []
        self._scripted: dict[tuple[str, str], deque[Canned]] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> FakeRetake:
        self._server = _Server((self.host, 0), _Handler)
        self._server.fake = self
        # A short poll interval keeps stop() (and so every test's teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-retake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeRetake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    # -- scripting --------------------------------------------------------------------------------------------

    def script(self, method: str, api_path: str, *responses: Canned) -> None:
        """Queue answers for ``method api_path`` (path relative to /api/v1, or ``/skill.json``)."""
        with self.lock:
            self._scripted.setdefault((method.upper(), api_path), deque()).extend(responses)

    def fail(self, method: str, api_path: str, count: int, status: int = 500) -> None:
        self.script(method, api_path, *[Canned(status, {"error": "Server error"}) for _ in range(count)])

    def redirect(self, method: str, api_path: str, location: str, status: int = 302) -> None:
        self.script(method, api_path, Canned(status, b"", headers={"Location": location}))

    def add_agent(self, name: str = "TestAgent", **overrides: Any) -> FakeAgent:
        with self.lock:
            self._counter += 1
            agent = FakeAgent(
                name=name,
                access_token=overrides.pop("access_token", f"rtk_{secrets.token_hex(16)}"),
                agent_id=f"agent_{self._counter}",
                user_db_id=overrides.pop("user_db_id", f"user_{self._counter:04d}"),
                **overrides,
            )
            self.agents[agent.access_token] = agent
            self.chats.setdefault(agent.user_db_id, [])
            return agent

    def add_comment(self, streamer_user_db_id: str, text: str, username: str = "viewer1",
                    user_id: str = "viewer_uid", kind: str = "message") -> str:
        with self.lock:
            self._counter += 1
            comment_id = f"comment_{self._counter}"
            self.chats.setdefault(streamer_user_db_id, []).append(
                {"id": comment_id, "text": text, "username": username, "user_id": user_id, "type": kind,
                 "timestamp": f"2025-02-01T14:{self._counter % 60:02d}:00Z"})
            return comment_id

    def is_live(self, agent: FakeAgent) -> bool:
        return agent.session_active and agent.publisher_connected

    def rtmp_url_for(self, agent: FakeAgent, key: str) -> str:
        """The ingest URL handed out with a fresh ``key`` (the go-live fake starts a real ingest here)."""
        return self.rtmp_url

    def requests_to(self, api_path: str, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.api_path == api_path and (method is None or r.method == method)]

    # -- HTTP plumbing ----------------------------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        record = RecordedRequest(handler.command, parts.path, parse_qs(parts.query),
                                 {k.lower(): v for k, v in handler.headers.items()}, body,
                                 handler.client_address[0])
        with self.lock:
            self.requests.append(record)
            queue = self._scripted.get((record.method, record.api_path))
            canned = queue.popleft() if queue else None
        if canned is None:
            canned = self._route(record)
        record.response = canned
        if canned.delay:
            self._stopping.wait(canned.delay)
        self._send(handler, canned)

    def _send(self, handler: _Handler, canned: Canned) -> None:
        body = canned.body
        ctype = canned.content_type
        if isinstance(body, (dict, list)):
            payload, ctype = json.dumps(body).encode(), ctype or "application/json"
        elif isinstance(body, str):
            payload, ctype = body.encode(), ctype or "text/html; charset=utf-8"
        else:
            payload = body or b""
        try:
            handler.send_response(canned.status)
            if ctype:
                handler.send_header("Content-Type", ctype)
            for key, value in canned.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def _route(self, req: RecordedRequest) -> Canned:
        if req.path == "/skill.json":
            return Canned(200, {"name": "retake-tv-agent", "version": self.skill_version})
        from tests.fakes.retake_routes import ROUTES  # the endpoint behaviour lives there

        for method, pattern, action in ROUTES:
            match = re.fullmatch(pattern, req.api_path)
            if match and method == req.method:
                with self.lock:
                    return action(self, req, *match.groups())
        return Canned(404, {"error": f"no route {req.method} {req.path}"})

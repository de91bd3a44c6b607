"""Fixtures for the go-live tests: the go-live fake platform (real HTTP + a real RTMP ingest per key),
a verified agent with a credentials file in a tmp XDG dir, and a show running in a thread."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from streamer.live import LiveShow
from streamer.live_config import LiveConfig
from streamer.platform import Credentials, CredentialStore, RetryPolicy
from tests.fakes.live_platform import LiveFakeRetake
from tests.fakes.retake_server import FakeAgent

W, H = 1280, 720
TOP, BOTTOM = (20, 60, 160), (30, 140, 40)


class ShowSource:
    """A two-tone frame with a white bar that moves every frame; records the comments the show delivers."""

    width, height = W, H

    def __init__(self) -> None:
        self.frame = np.zeros((H, W, 3), np.uint8)
        self.frame[: H // 2] = TOP
        self.frame[H // 2 :] = BOTTOM
        self.comments: list[object] = []
        self._x = 0

    def render(self, t: float) -> list[tuple[int, int, int, int]]:
        old = self._x
        self.frame[600:620, old : old + 40] = BOTTOM
        self._x = (old + 8) % (W - 40)
        self.frame[600:620, self._x : self._x + 40] = 255
        return [(0, 600, W, 20)] if old else [(0, 0, W, H)]

    def deliver_comment(self, comment: object) -> None:
        self.comments.append(comment)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RETAKE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("RETAKE_API_URL", raising=False)
    return tmp_path / "config"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[LiveFakeRetake]:
    server = LiveFakeRetake(tmp_path / "ingest")
    (tmp_path / "ingest").mkdir()
    with server:
        yield server


@pytest.fixture
def agent(fake: LiveFakeRetake) -> FakeAgent:
    return fake.add_agent("LiveAgent", ticker="LIVE", verified=True,
                          wallet_address="So11111111111111111111111111111111111111112")


@pytest.fixture
def store(isolated_env: Path, agent: FakeAgent) -> CredentialStore:
    store = CredentialStore(isolated_env / "retake" / "credentials.json")
    store.save(Credentials(access_token=agent.access_token, agent_name=agent.name, agent_id=agent.agent_id,
                           user_db_id=agent.user_db_id, wallet_address=agent.wallet_address, ticker=agent.ticker))
    return store


FAST = dict(live_poll_interval=0.5, comment_interval=0.3, status_interval=1.0, thumbnail_interval=60.0,
            reconnect_backoff=0.2, request_timeout=5.0, health_interval=1.0)


@dataclass
class RunningShow:
    show: LiveShow
    source: ShowSource
    out: io.StringIO
    thread: threading.Thread
    result: list[int] = field(default_factory=list)

    def stop(self, timeout: float = 20.0) -> int:
        self.show.stop_event.set()
        return self.join(timeout)

    def join(self, timeout: float = 20.0) -> int:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the show did not end"
        return self.result[0]


@pytest.fixture
def start_show(fake: LiveFakeRetake, store: CredentialStore) -> Iterator[Callable[..., RunningShow]]:
    shows: list[RunningShow] = []

    def start(**overrides: object) -> RunningShow:
        config = LiveConfig(api_url=fake.base_url, **{**FAST, **overrides})
        source = ShowSource()
        out = io.StringIO()
        show = LiveShow(source, config, store=store, out=out,
                        retry=RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2))
        running = RunningShow(show, source, out, threading.Thread(target=lambda: None))
        running.thread = threading.Thread(target=lambda: running.result.append(show.run()), daemon=True)
        running.thread.start()
        shows.append(running)
        return running

    yield start
    for running in shows:
        if running.thread.is_alive():
            running.show.stop_event.set()
            running.thread.join(20)

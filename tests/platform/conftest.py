from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from streamer.platform import RetakeClient, RetryPolicy
from tests.fakes.retake_server import FakeAgent, FakeRetake


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Never touch the real home: config and home point into the test's tmp dir, no token/URL from outside."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RETAKE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("RETAKE_API_URL", raising=False)
    return tmp_path / "config"


@pytest.fixture
def fake() -> Iterator[FakeRetake]:
    with FakeRetake() as server:
        yield server


@pytest.fixture
def agent(fake: FakeRetake) -> FakeAgent:
    return fake.add_agent("TestAgent", ticker="TST", wallet_address="So11111111111111111111111111111111111111112")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def fast_retry(sleeps: list[float]) -> RetryPolicy:
    """Real backoff arithmetic, but the waits are recorded instead of slept."""
    return RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0, sleep=sleeps.append)


@pytest.fixture
def client(fake: FakeRetake, agent: FakeAgent, fast_retry: RetryPolicy) -> Iterator[RetakeClient]:
    with RetakeClient(fake.base_url, agent.access_token, retry=fast_retry, timeout=5.0) as c:
        yield c


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(interval)

"""Run the real ``python -m streamer SCENE.py`` go-live command as a subprocess against the fake platform.

Shared by the command tests and ``benchmarks/go_live_timing.py``. The child gets its own XDG config dir
(holding the credentials file) and never sees the caller's token.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import streamer
from streamer.platform import Credentials, CredentialStore
from tests.fakes.retake_server import FakeAgent

ROOT = Path(streamer.__file__).resolve().parent.parent


def write_credentials(config_home: Path, agent: FakeAgent) -> CredentialStore:
    store = CredentialStore(config_home / "retake" / "credentials.json")
    store.save(Credentials(access_token=agent.access_token, agent_name=agent.name, agent_id=agent.agent_id,
                           user_db_id=agent.user_db_id, wallet_address=agent.wallet_address, ticker=agent.ticker))
    return store


class GoLiveCommand:
    """The command running; ``stdout``/``stderr`` collected line by line with arrival times."""

    def __init__(self, api_url: str, config_home: Path, *extra: str, scene: str = "scenes/terminal.py") -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("RETAKE_ACCESS_TOKEN", "RETAKE_API_URL")}
        env.update(XDG_CONFIG_HOME=str(config_home), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.started_at = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamer", str(ROOT / scene), "--api-url", api_url, *extra],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout_lines: list[tuple[float, str]] = []
        self.stderr_lines: list[tuple[float, str]] = []
        self._readers = [threading.Thread(target=self._read, args=(self.process.stdout, self.stdout_lines),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.process.stderr, self.stderr_lines),
                                          daemon=True)]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, lines: list[tuple[float, str]]) -> None:  # noqa: ANN001
        for line in stream:
            lines.append((time.time(), line))

    @property
    def stdout(self) -> str:
        return "".join(line for _, line in list(self.stdout_lines))

    @property
    def stderr(self) -> str:
        return "".join(line for _, line in list(self.stderr_lines))

    def line_time(self, needle: str) -> float | None:
        return next((t for t, line in list(self.stdout_lines) if needle in line), None)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

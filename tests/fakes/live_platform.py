"""The go-live fake: ``FakeRetake`` whose ``/agent/rtmp`` starts a real RTMP ingest for each fresh key.

Each ``POST /agent/rtmp`` stops the previous ingest (the old key is dead, as on the platform) and starts a new
``RtmpIngest`` recording to ``ingest_dir/ingest-N.flv`` for the new key. ``is_live`` is true only while the
session is active and the *current* key's ingest has a connected publisher — the platform's behaviour the
go-live loop depends on.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.fakes.retake_server import FakeAgent, FakeRetake
from tests.ingest import RtmpIngest


class LiveFakeRetake(FakeRetake):
    def __init__(self, ingest_dir: Path, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.ingest_dir = Path(ingest_dir)
        self.ingests: list[RtmpIngest] = []  # every ingest ever started, in order; the last is current
        self.keys: list[str] = []  # every key handed out
        self.first_live_at: float | None = None  # wall clock of the first status answer saying is_live
        self._ingest_lock = threading.Lock()

    @property
    def current_ingest(self) -> RtmpIngest | None:
        return self.ingests[-1] if self.ingests else None

    def rtmp_url_for(self, agent: FakeAgent, key: str) -> str:
        with self._ingest_lock:
            previous = self.current_ingest
            if previous is not None:
                previous.drop_publisher()  # the old key stops working
            ingest = RtmpIngest(self.ingest_dir / f"ingest-{len(self.ingests)}.flv", key=key)
            ingest.wait_listening()
            self.ingests.append(ingest)
            self.keys.append(key)
        return ingest.url.rsplit("/", 1)[0]

    def is_live(self, agent: FakeAgent) -> bool:
        ingest = self.current_ingest
        live = agent.session_active and ingest is not None and ingest.key == agent.rtmp_key and ingest.publishing
        if live and self.first_live_at is None:
            self.first_live_at = time.time()
        return live

    def stop(self) -> None:
        super().stop()
        for ingest in self.ingests:
            ingest.stop(timeout=5.0) if ingest.left.is_set() else ingest.close()

    def secrets(self) -> list[str]:
        """Everything that must never show up in the show's output."""
        return [*self.keys, *self.agents.keys()]

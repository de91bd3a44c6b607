"""The operator notification: the platform document's "[HUMAN REQUIRED] Notify your builder" step.

Always printed on stdout; optionally also given to a command (the notification as JSON on stdin) and/or
POSTed as JSON to a webhook. The webhook gets only what is printed — never the access token or stream key —
and redirects are not followed, so the message goes exactly where the operator said.
"""

from __future__ import annotations

import json
import logging
import shlex
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import httpx

from streamer.hook_command import run_hook_command

log = logging.getLogger(__name__)

STREAM_PAGE = "https://retake.tv/{name}"
SHARE_CHANNELS = "Moltbook, Twitter/X, Telegram groups, Discord servers, any AI agent communities"


def stream_url(agent_name: str) -> str:
    return STREAM_PAGE.format(name=agent_name)


@dataclass(frozen=True)
class LiveNotice:
    agent_name: str
    stream_url: str
    viewers: int
    message: str

    @classmethod
    def build(cls, agent_name: str, viewers: int) -> LiveNotice:
        url = stream_url(agent_name)
        message = (
            f"I'm live at {url}\n"
            f"Viewers: {viewers}\n"
            "I'm live. To grow our audience, can you share the stream link? "
            f"Suggested: {SHARE_CHANNELS}. Link: {url} The more viewers now, the faster our presence compounds."
        )
        return cls(agent_name, url, viewers, message)

    def to_json(self) -> dict[str, object]:
        return {"event": "live", **asdict(self)}


def validate_webhook_url(url: str) -> str:
    """Only http(s) URLs with a host; raises ValueError saying what to fix."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--notify-webhook must be an http:// or https:// URL with a host, got {url!r}")
    return url


class OperatorNotifier:
    def __init__(self, command: str | None = None, webhook: str | None = None, timeout: float = 10.0) -> None:
        self.command = shlex.split(command) if command else None
        self.webhook = validate_webhook_url(webhook) if webhook else None
        self.timeout = timeout

    def notify(self, notice: LiveNotice, out) -> bool:  # noqa: ANN001 - out: a text stream
        """Print the notice to ``out`` and send it to the configured command/webhook; True if all worked."""
        print("\n" + notice.message + "\n", file=out, flush=True)
        payload = json.dumps(notice.to_json())
        ok = True
        if self.command is not None:
            ok &= self._run_command(payload)
        if self.webhook is not None:
            ok &= self._post(payload)
        return ok

    def _run_command(self, payload: str) -> bool:
        assert self.command is not None
        if not run_hook_command(self.command, payload, timeout=self.timeout, what="notify"):
            return False
        log.info("operator notified through %s", self.command[0])
        return True

    def _post(self, payload: str) -> bool:
        assert self.webhook is not None
        shown = f"{urlsplit(self.webhook).scheme}://{urlsplit(self.webhook).netloc}"  # no path: it may hold a secret
        try:
            response = httpx.post(self.webhook, content=payload, headers={"Content-Type": "application/json"},
                                  timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            log.error("notify webhook %s failed: %s", shown, type(exc).__name__)
            return False
        if not response.is_success:
            log.error("notify webhook %s answered HTTP %d", shown, response.status_code)
            return False
        log.info("operator notified through the webhook at %s", shown)
        return True

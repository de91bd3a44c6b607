"""Go live on retake.tv: the platform document's sequence in one process, its loops, recovery and a clean stop.

This is the only module where ``streamer.platform`` and ``streamer.media`` meet. The frame thread belongs to
the pipeline; HTTP calls happen here (main thread: the sequence and the supervisor) and in the loops' own
threads, so a slow or failing platform never delays a frame.

    credentials → verified? → skill version → fresh key → stream/start → pipeline → poll until is_live
    → first thumbnail → opening chat → loops (comments 3 s, thumbnail 3 min, status 30 s) → notify operator
    → supervise (reconnect with fresh keys on a drop) → stream/stop → final stats
"""

from __future__ import annotations

import argparse
import logging
import math
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from streamer.comments import CommentCursor, CommentHooks
from streamer.live_config import LiveConfig
from streamer.live_loops import PeriodicTask
from streamer.live_session import LiveSession
from streamer.media.pipeline import FrameSource, Pipeline
from streamer.media.settings import EncoderSettings
from streamer.notify import LiveNotice, OperatorNotifier, stream_url
from streamer.platform import (
    CredentialsError,
    CredentialStore,
    Credentials,
    RetakeClient,
    RetakeError,
    RetryPolicy,
    check_skill_version,
)
from streamer.reconnect import OutputReconnector

log = logging.getLogger(__name__)

REGISTER_HELP = (
    "register this agent once (the token is saved to {path}):\n"
    "    python -m streamer register --name NAME --description TEXT --image-url URL --wallet SOLANA_ADDRESS "
    "--ticker TICKER\n"
    "or set RETAKE_ACCESS_TOKEN if you already have a token"
)
VERIFY_HELP = (
    "this agent is not verified yet, and the platform requires it before streaming. Run\n"
    "    python -m streamer verify\n"
    "to get the message your human operator must tweet, then\n"
    "    python -m streamer verify --tweet-url https://x.com/<username>/status/<id>\n"
    "and start again"
)


class GoLiveError(Exception):
    """The show cannot go (on); the message says what happened and what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def go_live(module: object, options: argparse.Namespace) -> int:
    """``python -m streamer SCENE.py`` without ``--output``: the scene goes live until told to stop."""
    from streamer.run_cli import encoder_settings, install_stop_signals
    from streamer.show import SceneSource

    try:
        config = LiveConfig.from_options(options)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        source = SceneSource(module, options)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a scene's setup() failing is its author's bug: go nowhere
        log.error("scene setup failed: %s", exc, exc_info=True)
        return 2
    if not options.verbose:
        # One INFO line per request (a comment poll every 3 s) would bury what matters in the log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()
    install_stop_signals(stop)
    try:
        return LiveShow(source, config, settings=encoder_settings(options), stop=stop).run()
    finally:
        source.close()


class LiveShow:
    """One go-live run. ``run()`` blocks until the show ends and returns the exit status."""

    def __init__(self, source: FrameSource, config: LiveConfig, *, settings: EncoderSettings | None = None,
                 stop: threading.Event | None = None, store: CredentialStore | None = None,
                 retry: RetryPolicy | None = None, out: TextIO | None = None) -> None:
        self.source = source
        self.config = config
        self.settings = settings or EncoderSettings()
        self.stop_event = stop or threading.Event()
        self.store = store or CredentialStore()
        self.retry = retry
        self.out = out or sys.stdout
        self.pipeline: Pipeline | None = None
        self.session: LiveSession | None = None
        # starting → live → reconnecting → confirming (until the platform sees it) → live …; → stopping
        self.state = "starting"
        self.reconnector: OutputReconnector | None = None
        self.viewers = 0
        self.platform_uptime = 0
        self.live_since: float | None = None
        self.time_to_live: float | None = None
        self._started = time.monotonic()
        self._halt = threading.Event()  # ends the loops
        self._trouble: queue.Queue[str] = queue.Queue()
        self._not_live_streak = 0
        self._confirm_since = 0.0
        self._loops: list[PeriodicTask] = []
        self._thumbnail_retry_soon = False
        self._hooks: CommentHooks | None = None

    # --- the sequence ---------------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            credentials = self._load_credentials()
            client = RetakeClient(self.config.api_url, credentials.access_token,
                                  timeout=self.config.request_timeout, retry=self.retry)
        except GoLiveError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except RetakeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        with client:
            return self._run_with(client, credentials)

    def _load_credentials(self) -> Credentials:
        try:
            return self.store.load_effective()
        except CredentialsError as exc:
            if Path(self.store.path).exists():  # unreadable or corrupt: registering again is not the cure
                raise GoLiveError(str(exc), exit_code=2) from None
            raise GoLiveError(f"{exc}\n{REGISTER_HELP.format(path=self.store.path)}", exit_code=2) from None

    def _run_with(self, client: RetakeClient, credentials: Credentials) -> int:
        session = self.session = LiveSession(client, self.store)
        started_session = False
        code, reason = 0, "stopped"
        try:
            self._check_account(client)
            hooks = self._hooks = CommentHooks(self.config.comment_command, self.config.comments_jsonl,
                                               self.config.comment_timeout)
            keys = session.fresh_keys()
            session.start()
            started_session = True
            self.pipeline = Pipeline(self.source, settings=self.settings, health_interval=math.inf)
            self.reconnector = OutputReconnector(self.pipeline, session, self.config, self.stop_event, self._say)
            self._say(f"connecting to {keys.redacted_publish_url}")
            self.pipeline.start(keys.publish_url, ca_file=self.config.ca_file, insecure_tls=self.config.insecure_tls)
            if not self._wait_until_live(client):
                return 0  # stopped by the operator before going live; `finally` stops the session
            user_db_id = credentials.user_db_id or self._user_db_id_from_status(client)
            self._first_thumbnail(client)
            self._opening_chat(client, user_db_id)
            cursor = CommentCursor(own_user_ids=(user_db_id, credentials.wallet_address),
                                   own_names=(credentials.agent_name,))
            hooks.start()
            self._start_loops(client, cursor, hooks, user_db_id)
            self._notify_operator(credentials, user_db_id)
            code, reason = self._supervise()
        except GoLiveError as exc:
            code, reason = exc.exit_code, str(exc)
            print(f"error: {exc}", file=sys.stderr)
        except RetakeError as exc:
            code, reason = 1, str(exc)
            print(f"error: {exc}", file=sys.stderr)
        except OSError as exc:
            code, reason = 2, f"cannot use {exc.filename}: {exc.strerror}"
            print(f"error: {reason}", file=sys.stderr)
        finally:
            self._finish(started_session, reason)
        return code

    def _check_account(self, client: RetakeClient) -> None:
        if not client.verification_status().verified:
            raise GoLiveError(VERIFY_HELP, exit_code=2)
        try:
            check = check_skill_version(client.http, self.store)
            if check.warning:
                print(f"warning: {check.warning}", file=sys.stderr)
        except RetakeError as exc:  # a missing skill.json must not keep a verified agent off air
            log.warning("skill version check failed (continuing): %s", exc)

    def _wait_until_live(self, client: RetakeClient) -> bool:
        """Poll stream/status every ``live_poll_interval`` s until is_live; False if stopped meanwhile."""
        assert self.pipeline is not None and self.session is not None
        deadline = time.monotonic() + self.config.live_timeout
        # Step 6: the publish is connected before the platform is asked; polling earlier only costs a poll
        # interval (a "not live" answer while the RTMP handshake is still under way).
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            if self.pipeline.wait_connected(0.1) or not self.pipeline.stats.output_alive:
                break  # connected, or failed (the loop below reconnects)
        while not self.stop_event.is_set():
            for trouble in self._output_trouble():
                if not self._recover(trouble):
                    raise GoLiveError(f"could not publish to the ingest: {trouble}")
            try:
                status = self.session.call("stream/status", client.stream_status)
                self._record_status(status.viewers, status.uptime_seconds)
                if status.is_live:
                    self.state = "live"
                    self.live_since = time.monotonic()
                    self.time_to_live = self.live_since - self._started
                    self._say(f"LIVE after {self.time_to_live:.1f} s")
                    return True
            except RetakeError as exc:
                log.warning("stream/status failed while waiting to go live: %s", exc)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GoLiveError(
                    f"the platform did not report the stream live within {self.config.live_timeout:g} s although "
                    "the output is publishing — the ingest may be rejecting the stream; check the network and try "
                    "again (the session was stopped)")
            self.stop_event.wait(min(self.config.live_poll_interval, remaining))
        return False

    def _user_db_id_from_status(self, client: RetakeClient) -> str:
        assert self.session is not None
        user_db_id = self.session.call("stream/status", client.stream_status).user_db_id
        if not user_db_id:
            raise GoLiveError("the credentials have no userDbId and the platform did not say it either — add "
                              f"\"userDbId\" to {self.store.path}", exit_code=2)
        return user_db_id

    def _first_thumbnail(self, client: RetakeClient) -> None:
        """Mandatory after is_live. A failure is reported and the thumbnail loop retries soon; the show goes on."""
        try:
            self._upload_thumbnail(client)
            self._thumbnail_retry_soon = False
            log.info("initial thumbnail uploaded")
        except RetakeError as exc:
            self._thumbnail_retry_soon = True
            self._say(f"warning: the initial thumbnail could not be uploaded ({exc}); retrying in the background")

    def _upload_thumbnail(self, client: RetakeClient) -> None:
        assert self.pipeline is not None and self.session is not None
        jpeg = self.pipeline.thumbnail_jpeg()
        self.session.call("update-thumbnail", lambda: client.update_thumbnail(jpeg))

    def _opening_chat(self, client: RetakeClient, user_db_id: str) -> None:
        assert self.session is not None
        if not self.config.opening_message:
            return
        try:
            self.session.call("chat/send", lambda: client.chat_send(self.config.opening_message, user_db_id))
        except RetakeError as exc:
            log.warning("the opening chat message could not be sent: %s", exc)

    def _notify_operator(self, credentials: Credentials, user_db_id: str) -> None:
        name = credentials.agent_name or user_db_id
        if not credentials.agent_name:
            log.warning("the credentials file has no agent_name; the stream URL below uses the userDbId")
        notifier = OperatorNotifier(self.config.notify_command, self.config.notify_webhook)
        notifier.notify(LiveNotice.build(name, self.viewers), self.out)

    # --- loops ----------------------------------------------------------------------------------------------

    def _start_loops(self, client: RetakeClient, cursor: CommentCursor, hooks: CommentHooks,
                     user_db_id: str) -> None:
        assert self.session is not None
        session = self.session

        def poll_comments() -> None:
            page = session.call("comments", lambda: client.comments(user_db_id, limit=50))
            for comment in cursor.accept(page):
                log.info("comment from %s: %s", comment.author_name, comment.text[:200])
                self.source_deliver(comment)
                hooks.submit(comment)

        def refresh_thumbnail() -> None:
            self._upload_thumbnail(client)

        def poll_status() -> float | None:
            status = session.call("stream/status", client.stream_status)
            self._record_status(status.viewers, status.uptime_seconds)
            return self._judge_liveness(status.is_live)

        cfg = self.config
        thumb_first = min(10.0, cfg.thumbnail_interval) if self._thumbnail_retry_soon else cfg.thumbnail_interval
        self._loops = [
            PeriodicTask("comments", cfg.comment_interval, poll_comments, self._halt),
            PeriodicTask("thumbnail", cfg.thumbnail_interval, refresh_thumbnail, self._halt, first_delay=thumb_first),
            PeriodicTask("status", cfg.status_interval, poll_status, self._halt, first_delay=cfg.status_interval),
        ]
        for loop in self._loops:
            loop.start()

    def source_deliver(self, comment: object) -> None:
        deliver: Callable[[object], None] | None = getattr(self.source, "deliver_comment", None)
        if deliver is not None:
            deliver(comment)

    def _record_status(self, viewers: int, uptime: int) -> None:
        self.viewers, self.platform_uptime = viewers, uptime

    def _judge_liveness(self, is_live: bool) -> float | None:
        """Status loop: two "not live" answers in a row while live, or no "live" within ``live_timeout`` of a
        reconnect (the platform needs a moment to see a new publish), → reconnect with a fresh session."""
        if is_live:
            self._not_live_streak = 0
            if self.state == "confirming":
                self.state = "live"
                log.info("the platform sees the stream live again")
            return None
        if self.state == "confirming":
            if time.monotonic() - self._confirm_since < self.config.live_timeout:
                return self.config.live_poll_interval
            self._platform_may_have_ended_session()
            self._trouble.put(f"the platform did not see the stream live within {self.config.live_timeout:g} s "
                              "of reconnecting")
            return None
        if self.state != "live":
            return None
        self._not_live_streak += 1
        if self._not_live_streak >= 2:
            self._not_live_streak = 0
            self._platform_may_have_ended_session()
            self._trouble.put("the platform reported the stream not live twice in a row")
            return None
        log.warning("the platform says the stream is not live; checking again in %.0f s", self.config.live_poll_interval)
        return self.config.live_poll_interval  # confirm quickly instead of waiting a whole status interval

    def _platform_may_have_ended_session(self) -> None:
        if self.reconnector is not None:
            self.reconnector.session_may_have_ended = True

    # --- supervision and recovery ---------------------------------------------------------------------------

    def _supervise(self) -> tuple[int, str]:
        cfg = self.config
        assert self.live_since is not None
        next_health = time.monotonic() + cfg.health_interval
        while True:
            if self.stop_event.is_set():
                return 0, "stop requested"
            if cfg.duration is not None and time.monotonic() - self.live_since >= cfg.duration:
                return 0, f"--duration {cfg.duration:g} s reached"
            if cfg.stop_file and Path(cfg.stop_file).exists():
                return 0, f"stop file {cfg.stop_file} appeared"
            troubles = self._output_trouble(wait=0.1)
            try:
                troubles.append(self._trouble.get_nowait())
            except queue.Empty:
                pass
            if troubles and not self._recover(troubles[0]):
                return 1, f"gave up after {cfg.max_reconnects} failed reconnect attempts ({troubles[0]})"
            if time.monotonic() >= next_health:
                log.info("health: %s", self.health_line())
                next_health = time.monotonic() + cfg.health_interval

    def _output_trouble(self, wait: float = 0.0) -> list[str]:
        assert self.reconnector is not None
        return self.reconnector.output_trouble(wait)

    def _recover(self, trouble: str) -> bool:
        """Reconnect; once it works, wait for the platform to see the new publish before judging it again."""
        assert self.reconnector is not None
        was, self.state = self.state, "reconnecting"
        if not self.reconnector.reconnect(trouble):
            return False
        if self.stop_event.is_set():
            return True
        self.state = "confirming" if was in ("live", "confirming") else was
        self._confirm_since = time.monotonic()
        self._not_live_streak = 0
        while not self._trouble.empty():  # raised about the output we just replaced
            self._trouble.get_nowait()
        for loop in self._loops:
            if loop.name == "status":
                loop.poke()  # ask the platform now, not at the end of a 30 s wait
        return True

    # --- the end --------------------------------------------------------------------------------------------

    def _finish(self, started_session: bool, reason: str) -> None:
        self.state = "stopping"
        self._halt.set()
        for loop in self._loops:
            loop.poke()
        for loop in self._loops:
            loop.join(self.config.request_timeout + 1.0)
        if self._hooks is not None:
            self._hooks.close()
        result = self.session.stop() if (started_session and self.session is not None) else None
        stats = self.pipeline.stop() if self.pipeline is not None else None
        live_for = time.monotonic() - self.live_since if self.live_since is not None else 0.0
        parts = [f"stream ended ({reason})", f"live {live_for:.1f} s"]
        if result is not None:
            parts.append(f"platform duration {result.duration_seconds if result.duration_seconds is not None else '?'} s, "
                         f"viewers {result.viewers if result.viewers is not None else self.viewers}")
        else:
            parts.append(f"viewers {self.viewers}")
        if stats is not None:
            parts.append(f"frames rendered {stats.frames_rendered}, sent {stats.frames_sent}, "
                         f"skipped {stats.frames_skipped}")
        parts.append(f"reconnects {self.reconnects}")
        self._say(" | ".join(parts))

    @property
    def reconnects(self) -> int:
        return self.reconnector.reconnects if self.reconnector is not None else 0

    def health_line(self) -> str:
        assert self.pipeline is not None
        return (f"{self.state} | viewers {self.viewers} | platform uptime {self.platform_uptime} s | "
                f"reconnects {self.reconnects} | {self.pipeline.health_line()}")

    def _say(self, text: str) -> None:
        """Operator-facing lines go to stdout (the log on stderr has the details)."""
        print(text, file=self.out, flush=True)


__all__ = ["GoLiveError", "LiveConfig", "LiveShow", "go_live", "stream_url"]

"""Viewer comments while live: which ones are new, and handing them to the scene and to the agent.

The platform's comments endpoint returns the newest page of the chat every time, so "new" is ours to decide:

- the first poll only sets the cursor: a (re)started show never replays the backlog;
- afterwards only messages we have not seen are passed on, oldest first, each exactly once (a bounded set
  of seen ids, so hours of chat cannot grow memory);
- the agent's own messages (its user id or its name) are skipped, or it would answer itself.

The agent hears about comments through ``CommentHooks``: a command run with the comment as JSON on stdin
(in a worker thread, with a timeout) and/or a JSON-lines file appended and flushed per comment.
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import shlex
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from streamer.hook_command import run_hook_command
from streamer.platform import Comment

log = logging.getLogger(__name__)

SEEN_IDS_KEPT = 2000  # far more than one page (max 100): an id can only come back while still on the page
HOOK_QUEUE_SIZE = 200


@dataclass(frozen=True)
class ViewerComment:
    """A chat message as scenes and agent hooks see it (``comment.author_name``, ``comment.text``).

    Same field names as the platform's ``Comment``, so a scene's ``on_comment`` reads either the same way.
    """

    id: str
    author_name: str
    text: str
    author_id: str | None = None
    timestamp: str | None = None
    kind: str = "message"

    @classmethod
    def from_platform(cls, comment: Comment) -> ViewerComment:
        return cls(id=comment.id, author_name=comment.author_name or "viewer", text=comment.text,
                   author_id=comment.author_id, timestamp=comment.timestamp, kind=comment.kind)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


class CommentCursor:
    """Decides which comments of each poll are new. Not thread-safe: one poller owns it."""

    def __init__(self, own_user_ids: Iterable[str] = (), own_names: Iterable[str] = (),
                 max_seen: int = SEEN_IDS_KEPT) -> None:
        self._own_ids = {i for i in own_user_ids if i}
        self._own_names = {n.casefold() for n in own_names if n}
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._max_seen = max_seen
        self.primed = False
        self.skipped_own = 0

    def accept(self, page: Sequence[Comment]) -> list[ViewerComment]:
        """The comments of ``page`` not handled before and not our own, oldest first."""
        # The platform lists newest first or oldest first depending on the endpoint; order by position of
        # appearance is not reliable, so keep the page order but put the oldest first if timestamps say so.
        ordered = _oldest_first(page)
        if not self.primed:
            for comment in ordered:
                self._remember(comment.id)
            self.primed = True
            log.info("comment cursor set at %d existing message(s); only newer ones will be handled", len(ordered))
            return []
        fresh = []
        for comment in ordered:
            if comment.id in self._seen:
                continue
            self._remember(comment.id)
            if self._is_own(comment):
                self.skipped_own += 1
                continue
            fresh.append(ViewerComment.from_platform(comment))
        return fresh

    def _is_own(self, comment: Comment) -> bool:
        return (comment.author_id in self._own_ids
                or (comment.author_name or "").casefold() in self._own_names)

    def _remember(self, comment_id: str) -> None:
        self._seen[comment_id] = None
        while len(self._seen) > self._max_seen:
            self._seen.popitem(last=False)


def _oldest_first(page: Sequence[Comment]) -> list[Comment]:
    stamps = [c.timestamp for c in page]
    if len(page) > 1 and all(stamps) and stamps[0] > stamps[-1]:  # ISO-8601 strings sort by time
        return list(reversed(page))
    return list(page)


class CommentHooks:
    """Hands each new comment to the agent: ``command`` (JSON on stdin) and/or ``jsonl_path`` (appended).

    Runs on its own worker thread behind a bounded queue, so a slow agent command never delays the
    comment poll (let alone a frame); under a flood the oldest waiting comment is dropped and counted.
    """

    def __init__(self, command: str | None = None, jsonl_path: str | Path | None = None,
                 command_timeout: float = 10.0) -> None:
        self.command = shlex.split(command) if command else None
        self.jsonl_path = Path(jsonl_path) if jsonl_path else None
        self.command_timeout = command_timeout
        self.handled = 0
        self.failed = 0
        self.dropped = 0
        self._queue: queue.Queue[ViewerComment | None] = queue.Queue(maxsize=HOOK_QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        if self.jsonl_path is not None:
            # Fail before going live, not at the first comment.
            self.jsonl_path.parent.mkdir(parents=True, exist_ok=True)
            self.jsonl_path.touch()

    @property
    def active(self) -> bool:
        return self.command is not None or self.jsonl_path is not None

    def start(self) -> None:
        if self.active and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="comment-hooks", daemon=True)
            self._thread.start()

    def submit(self, comment: ViewerComment) -> None:
        if self._thread is None:
            return
        while True:
            try:
                self._queue.put_nowait(comment)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                    log.warning("agent hook is behind; dropped the oldest waiting comment")
                except queue.Empty:
                    pass

    def close(self, timeout: float = 5.0) -> None:
        """Let queued comments be handled (within ``timeout``), then stop the worker."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)

    def _run(self) -> None:
        while (comment := self._queue.get()) is not None:
            ok = True
            if self.jsonl_path is not None:
                ok &= self._append(comment)
            if self.command is not None:
                ok &= self._run_command(comment)
            self.handled += ok
            self.failed += not ok

    def _append(self, comment: ViewerComment) -> bool:
        try:
            with open(self.jsonl_path, "a", encoding="utf-8") as handle:  # type: ignore[arg-type]
                handle.write(comment.to_json() + "\n")
                handle.flush()
            return True
        except OSError as exc:
            log.error("cannot append comment to %s: %s", self.jsonl_path, exc)
            return False

    def _run_command(self, comment: ViewerComment) -> bool:
        assert self.command is not None
        return run_hook_command(self.command, comment.to_json(), timeout=self.command_timeout, what="comment")


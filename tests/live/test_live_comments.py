"""Viewer comments while live: cursor, once-only, own messages, no replay after a restart, agent hooks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from streamer.comments import CommentCursor
from streamer.platform import Comment
from tests.ingest import wait_until


def _c(i: int, author: str = "viewer", author_id: str = "uid", ts: str | None = None) -> Comment:
    return Comment(id=f"c{i}", text=f"text {i}", author_name=author, author_id=author_id,
                   timestamp=ts or f"2025-02-01T14:{i:02d}:00Z")


def test_cursor_first_poll_only_primes_then_each_new_comment_once_and_own_skipped():
    cursor = CommentCursor(own_user_ids=["me_id"], own_names=["MyAgent"], max_seen=50)
    assert cursor.accept([_c(1), _c(2)]) == []  # backlog: never replayed
    fresh = cursor.accept([_c(1), _c(2), _c(3), _c(4, author="myagent"), _c(5, author_id="me_id")])
    assert [c.id for c in fresh] == ["c3"] and fresh[0].author_name == "viewer" and fresh[0].text == "text 3"
    assert cursor.accept([_c(2), _c(3), _c(6)])[0].id == "c6"
    assert cursor.accept([_c(3), _c(6)]) == []
    assert cursor.skipped_own == 2


def test_cursor_orders_newest_first_pages_oldest_first_and_bounds_memory():
    cursor = CommentCursor(max_seen=10)
    cursor.accept([])
    page = [_c(i) for i in range(30, 20, -1)]  # newest first
    assert [c.id for c in cursor.accept(page)] == [f"c{i}" for i in range(21, 31)]
    cursor.accept([_c(i) for i in range(31, 60)])
    assert len(cursor._seen) == 10


HOOK = """
import json, sys
comment = json.loads(sys.stdin.read())
with open(sys.argv[1], "a") as out:
    out.write(comment["id"] + " " + comment["author_name"] + "\\n")
"""


def test_comments_reach_scene_and_agent_once_own_skipped_no_replay_after_restart(fake, agent, start_show,
                                                                               tmp_path: Path):
    me = agent.user_db_id
    fake.add_comment(me, "old backlog message", username="early")
    hook = tmp_path / "hook.py"
    hook.write_text(HOOK)
    seen_by_command = tmp_path / "seen.txt"
    jsonl = tmp_path / "comments.jsonl"
    running = start_show(comments_jsonl=str(jsonl),
                         comment_command=f"{sys.executable} {hook} {seen_by_command}")
    polls = lambda: len(fake.requests_to("/agent/stream/comments"))  # noqa: E731
    assert wait_until(lambda: polls() >= 1, 30), running.out.getvalue()
    first = fake.add_comment(me, "hi there", username="alice", user_id="alice_wallet")
    fake.add_comment(me, "talking to myself", username=agent.name, user_id=me)
    second = fake.add_comment(me, "second", username="bob", user_id="bob_wallet")
    n = polls()
    assert wait_until(lambda: polls() >= n + 3 and len(jsonl.read_text().splitlines()) >= 2, 15)
    assert [c.id for c in running.source.comments] == [first, second]
    assert [c.author_name for c in running.source.comments] == ["alice", "bob"]
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(r["id"], r["author_name"], r["text"]) for r in rows] == [(first, "alice", "hi there"), (second, "bob", "second")]
    assert wait_until(lambda: seen_by_command.exists() and len(seen_by_command.read_text().split("\n")) >= 3, 10)
    assert seen_by_command.read_text().split() == [first, "alice", second, "bob"]
    assert running.stop() == 0

    # The process "crashed" (the platform still shows us live) and starts again: fresh key, no replay.
    agent.session_active = True
    keys_before = list(fake.keys)
    again = start_show(comments_jsonl=str(jsonl))
    n = polls()
    assert wait_until(lambda: polls() >= n + 1 and again.show.state == "live", 30), again.out.getvalue()
    third = fake.add_comment(me, "after restart", username="carol", user_id="carol_wallet")
    assert wait_until(lambda: len(again.source.comments) >= 1, 10)
    n = polls()
    assert wait_until(lambda: polls() >= n + 2, 10)
    assert [c.id for c in again.source.comments] == [third]
    assert [json.loads(line)["id"] for line in jsonl.read_text().splitlines()] == [first, second, third]
    assert fake.keys[-1] not in keys_before
    assert again.stop() == 0

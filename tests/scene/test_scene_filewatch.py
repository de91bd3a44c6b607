"""The log follower wakes on inotify events (not on a timer) and still polls where inotify is missing.

With inotify the safety interval is set to 30 s here: anything that arrives within a few seconds was
noticed through inotify, not by the timer.  The same scenarios run with ``use_inotify=False`` and short
poll intervals to show the polling fallback still follows appends, truncation, rotation and late files.
"""

import os
import threading

import pytest

from streamer.scene import LogFollower
from streamer.scene.filewatch import FileChangeWaiter

MODES = {
    "inotify": dict(use_inotify=True, poll_interval=0.01, watch_interval=30.0, idle_after=0.01),
    "polling": dict(use_inotify=False, poll_interval=0.01, max_poll_interval=0.05, idle_after=0.05),
}


@pytest.fixture(params=sorted(MODES))
def follower_factory(request, tmp_path):
    made = []

    def make(path):
        f = LogFollower(path, from_start=True, **MODES[request.param]).start()
        made.append(f)
        return f

    make.mode = request.param
    yield make
    for f in made:
        f.stop()


def append(path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def settle(follower, wait_until, mode: str) -> None:
    """Wait until the follower is open and (with inotify) asleep on the watch."""
    wait_until(lambda: follower.is_following, what="the follower to open the log")
    if mode == "inotify":
        wait_until(lambda: follower.uses_inotify, what="inotify to be in use")
        wait_until(lambda: follower.polls >= 1, what="the follower to wait for changes")


def read_until(follower, wait_until, needle: bytes, timeout: float = 3.0) -> bytes:
    got = bytearray()

    def arrived():
        got.extend(follower.read(1 << 16))
        return needle in got

    wait_until(arrived, timeout=timeout, what=f"{needle!r} to arrive")
    return bytes(got)


def test_appended_lines_arrive(follower_factory, tmp_path, wait_until):
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    f = follower_factory(log)
    settle(f, wait_until, follower_factory.mode)
    for i in range(3):
        append(log, b"line %d\n" % i)
        read_until(f, wait_until, b"line %d\n" % i)


def test_truncation_is_noticed(follower_factory, tmp_path, wait_until):
    log = tmp_path / "t.log"
    log.write_bytes(b"first contents, long enough to be longer than what follows\n")
    f = follower_factory(log)
    settle(f, wait_until, follower_factory.mode)
    read_until(f, wait_until, b"first contents")
    log.write_bytes(b"short\n")
    assert b"short\n" in read_until(f, wait_until, b"short\n")
    assert f.truncated == 1


def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(follower_factory, tmp_path, wait_until):
    log = tmp_path / "r.log"
    log.write_bytes(b"")
    f = follower_factory(log)
    settle(f, wait_until, follower_factory.mode)
    os.rename(log, tmp_path / "r.log.1")
    # The writer still has the old file open: its last words must not be lost.
    append(tmp_path / "r.log.1", b"old file, after the rename\n")
    read_until(f, wait_until, b"old file, after the rename\n")
    log.write_bytes(b"new file line\n")
    read_until(f, wait_until, b"new file line\n")
    assert f.reopened == 1


def test_a_file_that_appears_later(follower_factory, tmp_path, wait_until):
    log = tmp_path / "late.log"
    f = follower_factory(log)
    read_until(f, wait_until, b"waiting for")
    if follower_factory.mode == "inotify":
        wait_until(lambda: f.uses_inotify and f.polls >= 1, what="the follower to wait on the directory")
    log.write_bytes(b"hello from the late file\n")
    read_until(f, wait_until, b"hello from the late file\n")


def test_inotify_is_used_by_default_and_stop_does_not_wait_for_the_timer(tmp_path, wait_until):
    log = tmp_path / "s.log"
    log.write_bytes(b"")
    f = LogFollower(log, watch_interval=30.0).start()
    thread = f._thread
    wait_until(lambda: f.uses_inotify and f.polls >= 1, what="the follower to sleep on inotify")
    f.stop(timeout=2.0)
    assert not thread.is_alive()


def test_waiter_ignores_other_files_in_the_directory(tmp_path):
    log = tmp_path / "mine.log"
    log.write_bytes(b"")
    waiter = FileChangeWaiter(log)
    try:
        assert waiter.active
        (tmp_path / "other.log").write_bytes(b"not mine\n")
        assert waiter.wait(0.1) is False  # the other file's events were read and set aside
        assert waiter.events_seen == 0
        append(log, b"mine\n")
        assert waiter.wait(5.0) is True
        assert waiter.events_seen == 1
    finally:
        waiter.close()


def test_waiter_wake_interrupts_a_long_wait(tmp_path):
    waiter = FileChangeWaiter(tmp_path / "x.log")
    result = []
    try:
        thread = threading.Thread(target=lambda: result.append(waiter.wait(30.0)))
        thread.start()
        waiter.wake()
        thread.join(5.0)
        assert not thread.is_alive() and result == [True]
    finally:
        waiter.close()


def test_waiter_without_inotify_is_a_timed_wait(tmp_path):
    waiter = FileChangeWaiter(tmp_path / "x.log", use_inotify=False)
    try:
        assert not waiter.active
        append(tmp_path / "x.log", b"unseen\n")
        assert waiter.wait(0.05) is False
    finally:
        waiter.close()


def test_a_quiet_log_watched_by_inotify_still_wakes_every_watch_interval(tmp_path, wait_until):
    # The safety net for writes inotify never reports (network file systems): the follower re-reads
    # the file at least once per watch_interval even when no event comes.
    log = tmp_path / "s.log"
    log.write_bytes(b"")
    f = LogFollower(log, watch_interval=0.02).start()
    try:
        wait_until(lambda: f.uses_inotify and f.polls >= 10, what="ten safety-net wake-ups of a quiet log")
    finally:
        f.stop()


def test_watch_interval_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="watch_interval"):
        LogFollower(tmp_path / "s.log", watch_interval=0)


def test_the_directory_reports_writes_again_once_the_watched_inode_is_gone(tmp_path):
    """While the open file's inode is watched, the directory watch leaves out MODIFY (an append then
    decodes as one event, not two); once that inode is gone, the directory's MODIFY must report writes
    to whatever file now has the name."""
    log = tmp_path / "mine.log"
    log.write_bytes(b"")
    waiter = FileChangeWaiter(log)
    try:
        waiter.watch_open_file()
        append(log, b"one\n")
        assert waiter.wait(5.0) is True
        log.unlink()  # nobody holds it open: the inode goes, and its watch with it
        assert waiter.wait(5.0) is True
        log.write_bytes(b"")  # a new file under the name, not (yet) watched by inode
        assert waiter.wait(5.0) is True
        while waiter.wait(0.05):
            pass
        with open(log, "ab") as writer:  # kept open: only MODIFY reports this write, not CLOSE_WRITE
            writer.write(b"two\n")
            writer.flush()
            assert waiter.wait(5.0) is True, "a write to the unwatched new file went unnoticed"
    finally:
        waiter.close()

"""The terminal scene following a real log file, frame by frame, as the frame loop would drive it."""

import argparse
import os
import time
from pathlib import Path

import pytest

from streamer.scene import LogFollower, Stage
from streamer.scene.loader import load_scene

SCENE = Path(__file__).resolve().parents[2] / "scenes" / "terminal.py"


class Frames:
    """Drives update() + render() like the frame loop and records the work each frame did."""

    def __init__(self, log_path: Path) -> None:
        self.scene = load_scene(SCENE)
        self.stage = Stage(1280, 720)
        self.scene.setup(self.stage, argparse.Namespace(log=str(log_path)))
        self.term = self.stage.state.term
        self.follower = self.stage.state.follower
        self.budget = self.scene.module.BYTES_PER_FRAME
        self.max_fed = 0
        self.max_buffered = 0
        self.t = 0.0

    def step(self) -> None:
        before = self.term.bytes_fed
        self.scene.update(self.stage, self.t)
        self.stage.render()
        self.t += 1 / 30
        self.max_fed = max(self.max_fed, self.term.bytes_fed - before)
        self.max_buffered = max(self.max_buffered, self.follower.buffered)

    def shows(self, text: str) -> bool:
        self.step()
        return any(text in line for line in self.term.display())

    def bottom_shows(self, text: str) -> bool:
        self.step()
        return text in self.term.display()[-1]

    def close(self) -> None:
        self.scene.teardown(self.stage)


@pytest.fixture
def log(tmp_path):
    return tmp_path / "stream.log"


@pytest.fixture
def frames(log, wait_until):
    log.write_bytes(b"")
    f = Frames(log)
    # A follower that opens a file already holding data starts near its end (like tail), so
    # let it open the empty file before the test writes.
    wait_until(lambda: f.follower.is_following, what="the follower to open the log")
    yield f
    f.close()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def test_a_logged_line_appears_green_on_the_bottom_row(frames, log, wait_until):
    append(log, b"deploy finished OK\n")
    wait_until(lambda: frames.bottom_shows("deploy finished OK"), what="the line on the bottom row")
    bottom = frames.stage.frame[704:720]
    green = (bottom[..., 1] > 200) & (bottom[..., 0] < 80) & (bottom[..., 2] < 80)
    assert green.sum() > 100


def test_ansi_red_in_the_log_renders_red(frames, log, wait_until):
    append(log, b"\x1b[31mERROR\x1b[0m something broke\n")
    wait_until(lambda: frames.bottom_shows("ERROR something broke"), what="the error line")
    cells = frames.stage.frame[704:720, 0:40]
    assert ((cells[..., 0] > 150) & (cells[..., 1] < 60)).sum() > 20


def test_file_that_appears_later(log, wait_until):
    f = Frames(log)  # no file yet
    try:
        wait_until(lambda: f.shows("waiting for"), what="the waiting note")
        assert not f.follower.is_following
        log.write_bytes(b"now it exists\n")
        wait_until(lambda: f.bottom_shows("now it exists"), what="the first line of the new file")
    finally:
        f.close()


def test_truncation_restarts_from_the_top(frames, log, wait_until):
    append(log, b"".join(b"before %d\n" % i for i in range(200)))
    wait_until(lambda: frames.bottom_shows("before 199"), what="the first batch")
    log.write_bytes(b"after truncation\n")  # truncates, then writes less than before
    wait_until(lambda: frames.bottom_shows("after truncation"), what="the line written after truncation")
    assert frames.follower.truncated == 1
    assert any("truncated" in line for line in frames.term.display())


def test_rotation_follows_the_new_file(frames, log, wait_until):
    append(log, b"old file line\n")
    wait_until(lambda: frames.bottom_shows("old file line"), what="the old file's line")
    os.rename(log, log.with_suffix(".log.1"))
    log.write_bytes(b"new file line\n")
    wait_until(lambda: frames.bottom_shows("new file line"), what="the new file's line")
    assert frames.follower.reopened == 1
    append(log, b"and more\n")
    wait_until(lambda: frames.bottom_shows("and more"), what="a line appended after rotation")


def test_invalid_utf8_in_the_log(frames, log, wait_until):
    append(log, b"caf\xe9 \xff\xfe\xfd done\n")
    wait_until(lambda: frames.bottom_shows("done"), what="the line with invalid UTF-8")
    assert "\ufffd" in frames.term.display()[-1]


def test_a_10mb_line_is_cut_and_never_floods_a_frame(frames, log, wait_until):
    append(log, b"A" * (10 * 1024 * 1024) + b"\nafter the huge line\n")
    wait_until(lambda: frames.bottom_shows("after the huge line"), timeout=20, what="the line after 10 MB")
    assert frames.max_fed <= frames.budget + 256  # per-frame work is bounded (+ one short note)
    assert frames.max_buffered <= frames.follower.max_buffered
    assert frames.follower.lines_cut == 1
    shown = "".join(frames.term.display())
    assert "line cut" in shown and "10.0 MB" in shown
    assert shown.count("A") <= frames.follower.max_line_bytes


def test_a_50k_line_burst_skips_ahead_to_the_newest(frames, log, wait_until):
    append(log, b"".join(b"burst line %05d ........................................\n" % i for i in range(50_000)))
    wait_until(lambda: frames.bottom_shows("burst line 49999"), timeout=20, what="the last line of the burst")
    assert frames.max_fed <= frames.budget + 256
    assert frames.max_buffered <= frames.follower.max_buffered
    assert frames.follower.lines_skipped > 0
    assert frames.term.bytes_fed < 50_000 * 60 // 4  # most of the burst was skipped, not interpreted


def test_follower_alone_bounds_memory_and_reports_skips(log, wait_until):
    log.write_bytes(b"")
    with LogFollower(log, max_buffered=4096, keep_bytes=1024, from_start=True) as f:
        wait_until(lambda: f.is_following, what="the follower to open the log")
        append(log, b"".join(b"%06d\n" % i for i in range(10_000)))
        wait_until(lambda: f.bytes_read >= 70_000, what="the reader to reach the end")
        assert f.buffered <= 4096
        data = f.read(1 << 20)
        assert b"skipped" in data and data.endswith(b"009999\n")
        assert f.read(100) == b""


def test_comments_show_as_chat_lines_without_escape_sequences(frames, log, wait_until):
    append(log, b"log line\n")
    wait_until(lambda: frames.bottom_shows("log line"), what="the log line")
    frames.scene.on_comment(frames.stage, argparse.Namespace(author_name="bob", text="hi\x1b[2J there\nfriend"))
    frames.step()
    lines = frames.term.display()
    assert lines[-1].startswith("[chat] bob: hi[2J there friend")
    assert lines[-2].startswith("log line")  # the screen was not cleared by the viewer's text
    cells = frames.stage.frame[704:720, 0:48]
    assert ((cells[..., 2] > 150) & (cells[..., 1] > 150) & (cells[..., 0] < 60)).sum() > 20  # cyan


def test_existing_history_starts_near_the_end_like_tail(log, wait_until):
    log.write_bytes(b"".join(b"old line %05d\n" % i for i in range(20_000)))
    f = Frames(log)
    try:
        wait_until(lambda: f.bottom_shows("old line 19999"), what="the newest existing line")
        assert f.term.bytes_fed <= f.follower.keep_bytes + 256  # not the whole 300 KB history
        assert f.max_fed <= f.budget + 256
    finally:
        f.close()


def test_a_quiet_log_is_polled_less_often_and_new_lines_still_arrive(log, wait_until):
    log.write_bytes(b"")
    # Polling (no inotify): the back-off is how a poller keeps a quiet log cheap.
    follower = LogFollower(log, poll_interval=0.01, max_poll_interval=0.1, idle_after=0.05,
                           use_inotify=False).start()
    try:
        wait_until(lambda: follower.is_following, what="the follower to open the log")
        # Quiet: the interval grows to max_poll_interval.  Count the polls over a window of ~50 base
        # intervals; at the base rate there would be about 50, backed off at most ~6.
        wait_until(lambda: follower.polls >= 8, what="some idle polls")
        start_polls, start = follower.polls, time.monotonic()
        wait_until(lambda: time.monotonic() - start >= 0.5, what="half a second")
        assert follower.polls - start_polls < 25
        with open(log, "ab") as f:
            f.write(b"after the quiet\n")
        wait_until(lambda: follower.buffered, timeout=2, what="the new line")
        assert follower.read() == b"after the quiet\n"
    finally:
        follower.stop()
    with pytest.raises(ValueError, match="poll_interval"):
        LogFollower(log, poll_interval=0.5, max_poll_interval=0.1)

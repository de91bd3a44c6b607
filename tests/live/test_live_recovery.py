"""Recovery without going dark: a dropped publish, a session the platform ended, 5xx bursts, 409, giving up."""

from __future__ import annotations

import threading
import time

import av

from tests.fakes.retake_server import Canned
from tests.ingest import wait_until


class FrameWatch:
    """Samples the pipeline's frames_rendered in a thread; the longest time the counter stood still."""

    def __init__(self, show) -> None:
        self.show = show
        self.longest_stall = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_value, last_change = -1, time.monotonic()
        while not self._stop.wait(0.05):
            value = self.show.pipeline.stats.frames_rendered
            now = time.monotonic()
            if value != last_value:
                last_value, last_change = value, now
            self.longest_stall = max(self.longest_stall, now - last_change)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.longest_stall


def live(running) -> bool:
    return running.show.state == "live"


def test_ingest_dropping_the_publisher_gets_a_new_key_and_resumes_within_10s_frames_never_stall(fake, agent,
                                                                                               start_show):
    # A long status interval: after reconnecting the show must ask the platform at once, not in 30 s.
    running = start_show(status_interval=30.0)
    assert wait_until(lambda: live(running), 30), running.out.getvalue()
    first = fake.current_ingest
    assert wait_until(lambda: first.publishing, 10)
    watch = FrameWatch(running.show)
    starts = len(fake.requests_to("/agent/stream/start"))
    dropped_at = time.monotonic()
    first.drop_publisher()
    assert wait_until(lambda: len(fake.ingests) == 2 and fake.current_ingest.publishing, 10), running.out.getvalue()
    resumed_after = time.monotonic() - dropped_at
    assert resumed_after < 10
    assert fake.keys[1] != fake.keys[0]
    assert wait_until(lambda: running.show.reconnects == 1 and live(running), 10)
    # The session was still active: a publish drop needs a fresh key, not a new session.
    assert len(fake.requests_to("/agent/stream/start")) == starts
    # Stream keeps flowing into the new ingest while the frame counter never stood still for long.
    second = fake.current_ingest
    sent = running.show.pipeline.stats.frames_sent
    assert wait_until(lambda: running.show.pipeline.stats.frames_sent >= sent + 60, 10)
    longest = watch.stop()
    assert longest < 0.5, f"frames_rendered stood still for {longest:.2f} s"
    assert running.stop() == 0
    assert wait_until(second.left.is_set, 10)
    second.stop()
    with av.open(str(second.recording_path)) as container:
        frames = list(container.decode(video=0))
    assert frames[0].key_frame  # the new publish starts with a keyframe
    assert len(frames) >= 60
    assert "reconnected in" in running.out.getvalue()


def test_platform_saying_not_live_twice_restarts_the_session_with_a_fresh_key(fake, agent, start_show):
    running = start_show(status_interval=0.5, live_poll_interval=0.3)
    assert wait_until(lambda: live(running), 30), running.out.getvalue()
    starts = len(fake.requests_to("/agent/stream/start"))
    agent.session_active = False  # the platform ended our session on its side
    assert wait_until(lambda: running.show.reconnects == 1 and agent.session_active, 15), running.out.getvalue()
    assert len(fake.requests_to("/agent/stream/start")) == starts + 1
    assert len(fake.keys) == 2
    # The platform sees the new publish; no further reconnect follows while it is live.
    assert wait_until(lambda: live(running), 15), running.out.getvalue()
    polls = len(fake.requests_to("/agent/stream/status"))
    assert wait_until(lambda: len(fake.requests_to("/agent/stream/status")) >= polls + 3, 10)
    assert len(fake.keys) == 2 and running.show.reconnects == 1
    assert "not live twice in a row" in running.out.getvalue()
    assert running.stop() == 0


def test_500_bursts_and_409_are_survived(fake, agent, start_show):
    running = start_show(thumbnail_interval=0.5)
    # Live, and the comment cursor set by a first successful poll.
    assert wait_until(lambda: any(r.response is not None and r.response.status == 200 for r in fake.requests_to("/agent/stream/comments")),
                      30), running.out.getvalue()
    fake.fail("GET", "/agent/stream/comments", 8)
    fake.fail("GET", "/agent/stream/status", 8)
    fake.fail("POST", "/agent/update-thumbnail", 8)
    assert wait_until(lambda: not fake._scripted[("GET", "/agent/stream/comments")], 20)
    # After the burst everything works again: comments still flow, thumbnails still arrive.
    comment = fake.add_comment(agent.user_db_id, "still there?", username="dave", user_id="dave_wallet")
    assert wait_until(lambda: [c.id for c in running.source.comments] == [comment], 15)
    thumbs = len(agent.thumbnails)
    assert wait_until(lambda: len(agent.thumbnails) > thumbs, 15)

    # 409 on a comments poll: a session is started and the poll retried once.
    starts = len(fake.requests_to("/agent/stream/start"))
    fake.script("GET", "/agent/stream/comments", Canned(409, {"error": "No active session"}))
    other = fake.add_comment(agent.user_db_id, "after 409", username="erin", user_id="erin_wallet")
    assert wait_until(lambda: len(running.source.comments) == 2, 15)
    assert running.source.comments[1].id == other
    assert len(fake.requests_to("/agent/stream/start")) == starts + 1
    assert live(running)
    assert running.stop() == 0


def test_gives_up_after_max_reconnects_with_a_clear_reason_and_stops_the_stream(fake, agent, start_show):
    running = start_show(max_reconnects=2)
    assert wait_until(lambda: live(running), 30), running.out.getvalue()
    fake.fail("POST", "/agent/rtmp", 50)
    fake.current_ingest.drop_publisher()
    assert running.join(30) == 1
    out = running.out.getvalue()
    assert "giving up: 2 reconnect attempts failed" in out
    assert "gave up after 2 failed reconnect attempts" in out.strip().splitlines()[-1]
    assert fake.requests_to("/agent/stream/stop") and not agent.session_active

"""Going live: the operator notification and its hooks, the is_live deadline, the stop file, bad options."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from streamer.live_config import LiveConfig
from tests.fakes.retake_server import Canned
from tests.ingest import wait_until

NOTIFY_HOOK = """
import sys
open(sys.argv[1], "w").write(sys.stdin.read())
"""


def test_operator_notification_goes_to_stdout_command_and_webhook_without_secrets(fake, agent, start_show,
                                                                                 tmp_path: Path):
    hook = tmp_path / "notify.py"
    hook.write_text(NOTIFY_HOOK)
    received = tmp_path / "notice.json"
    fake.script("POST", "/hook/operator", Canned(200, {"ok": True}))
    agent.viewers = 7
    running = start_show(notify_command=f"{sys.executable} {hook} {received}",
                         notify_webhook=fake.origin + "/hook/operator")
    assert wait_until(lambda: fake.requests_to("/hook/operator") and received.exists(), 30), running.out.getvalue()
    assert running.stop() == 0

    by_command = json.loads(received.read_text())
    by_webhook = fake.requests_to("/hook/operator")[0]
    assert by_webhook.headers["content-type"] == "application/json"
    assert by_webhook.authorization is None
    for notice in (by_command, by_webhook.json()):
        assert notice["event"] == "live" and notice["stream_url"] == "https://retake.tv/LiveAgent"
        assert notice["viewers"] == 7 and "share the stream link" in notice["message"]
    assert "Viewers: 7" in running.out.getvalue()
    for secret in fake.secrets():
        assert secret not in by_webhook.raw_text() and secret not in received.read_text()


def test_not_live_within_the_deadline_fails_clearly_and_stops_the_session(fake, agent, start_show, monkeypatch):
    monkeypatch.setattr(type(fake), "is_live", lambda self, agent: False)
    running = start_show(live_timeout=1.5, live_poll_interval=0.3)
    assert running.join(30) == 1
    assert "did not report the stream live within 1.5 s" in running.out.getvalue().splitlines()[-1]
    assert fake.requests_to("/agent/stream/stop") and not agent.session_active
    assert not fake.requests_to("/agent/update-thumbnail")  # never before is_live


def test_stop_file_ends_the_show_cleanly(fake, agent, start_show, tmp_path: Path):
    stop_file = tmp_path / "stop-now"
    running = start_show(stop_file=str(stop_file))
    assert wait_until(lambda: running.show.state == "live", 30), running.out.getvalue()
    stop_file.touch()
    assert running.join(20) == 0
    assert f"stop file {stop_file} appeared" in running.out.getvalue()
    assert not agent.session_active


def test_duration_counts_time_on_air(fake, agent, start_show):
    running = start_show(duration=1.0)
    assert running.join(30) == 0
    assert "--duration 1 s reached" in running.out.getvalue()


@pytest.mark.parametrize("bad, message", [
    (dict(notify_webhook="file:///etc/passwd"), "http:// or https://"),
    (dict(max_reconnects=0), "at least 1"),
    (dict(duration=-1.0), "must be positive"),
])
def test_bad_options_are_refused_before_anything_happens(bad, message):
    with pytest.raises(ValueError, match=message):
        LiveConfig(**bad)


def test_an_existing_stop_file_is_refused(tmp_path: Path):
    (tmp_path / "stop").touch()
    with pytest.raises(ValueError, match="already exists"):
        LiveConfig(stop_file=str(tmp_path / "stop"))


def test_a_failed_first_thumbnail_is_reported_retried_and_the_stream_goes_on(fake, agent, start_show):
    fake.fail("POST", "/agent/update-thumbnail", 6)  # two whole upload attempts (3 tries each)
    running = start_show(thumbnail_interval=0.5)
    assert wait_until(lambda: len(agent.thumbnails) >= 1, 30), running.out.getvalue()
    assert "initial thumbnail could not be uploaded" in running.out.getvalue()
    assert running.show.state == "live" and running.show.pipeline.stats.output_alive
    assert running.stop() == 0


def test_a_changed_skill_document_is_warned_about(fake, agent, start_show, capsys):
    fake.skill_version = "2.2.0"
    running = start_show(duration=0.5)
    assert running.join(30) == 0
    assert "skill.json version changed from 2.1.2" in capsys.readouterr().err

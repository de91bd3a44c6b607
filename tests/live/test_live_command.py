"""The real command, ``python -m streamer scenes/terminal.py`` with no --output, as a subprocess: it goes live
on the fake platform, and Ctrl-C or SIGTERM ends it with stream/stop and a playable recording."""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path

import av
import pytest
from PIL import Image

from tests.ingest import wait_until
from tests.live.command import GoLiveCommand, write_credentials

FAST_OPTIONS = ["--live-poll-interval", "0.5", "--comment-interval", "0.3", "--status-interval", "1",
                "--health-interval", "1"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_command_goes_live_and_a_signal_ends_it_with_stream_stop_and_a_playable_recording(
        fake, agent, tmp_path: Path, signum: int):
    config_home = tmp_path / "child-config"
    write_credentials(config_home, agent)
    jsonl = tmp_path / "comments.jsonl"
    command = GoLiveCommand(fake.base_url, config_home, *FAST_OPTIONS, "--comments-jsonl", str(jsonl))
    try:
        assert wait_until(lambda: "LIVE after" in command.stdout and "share the stream link" in command.stdout,
                          45), command.stdout + command.stderr
        polls = len(fake.requests_to("/agent/stream/comments"))
        assert wait_until(lambda: len(fake.requests_to("/agent/stream/comments")) > polls, 10), command.stderr
        comment = fake.add_comment(agent.user_db_id, "hello from chat", username="zoe", user_id="zoe_wallet")
        assert wait_until(lambda: jsonl.exists() and comment in jsonl.read_text(), 10), command.stderr
        # The health line carries the platform's view next to the pipeline's counters.
        assert wait_until(lambda: "health: live | viewers 0" in command.stderr, 10), command.stderr
        command.signal(signum)
        assert command.wait(30) == 0, command.stderr
    finally:
        command.kill()

    assert fake.requests_to("/agent/stream/stop") and not agent.session_active, command.stderr
    final = command.stdout.strip().splitlines()[-1]
    # (Not "reconnects 0": on a starved machine the test ingest itself may drop the first publish; the show
    # then reconnects, which is fine here.)
    assert final.startswith("stream ended (stop requested)") and "reconnects " in final, command.stdout
    assert json.loads(jsonl.read_text().splitlines()[0])["author_name"] == "zoe"

    # The thumbnail is the terminal scene's real frame as a JPEG.
    image = Image.open(io.BytesIO(agent.thumbnails[0][2]))
    assert image.format == "JPEG" and image.size == (1280, 720)

    ingest = fake.current_ingest
    assert wait_until(ingest.left.is_set, 10), ingest.stop(1)
    ingest.stop()
    with av.open(str(ingest.recording_path)) as container:
        assert {s.type for s in container.streams} == {"video", "audio"}
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 30

    everything = command.stdout + command.stderr
    for secret in fake.secrets():
        assert secret not in everything


def test_command_without_credentials_says_how_to_register(fake, tmp_path: Path):
    command = GoLiveCommand(fake.base_url, tmp_path / "empty-config")
    assert command.wait(30) == 2
    assert "python -m streamer register --name" in command.stderr
    assert not fake.requests


def test_command_with_a_corrupt_credentials_file_names_it_and_leaves_it_alone(fake, tmp_path: Path):
    credentials = tmp_path / "cfg" / "retake" / "credentials.json"
    credentials.parent.mkdir(parents=True)
    credentials.write_text('{"access_token": "rtk_half')
    command = GoLiveCommand(fake.base_url, tmp_path / "cfg")
    assert command.wait(30) == 2
    assert str(credentials) in command.stderr and "not valid JSON" in command.stderr
    assert "register --name" not in command.stderr  # registering again is not the cure
    assert credentials.read_text() == '{"access_token": "rtk_half'
    assert not fake.requests


def test_command_of_an_unverified_agent_says_how_to_verify_and_never_streams(fake, tmp_path: Path):
    agent = fake.add_agent("Unverified", verified=False)
    write_credentials(tmp_path / "cfg", agent)
    command = GoLiveCommand(fake.base_url, tmp_path / "cfg")
    assert command.wait(30) == 2
    assert "python -m streamer verify" in command.stderr and "not verified" in command.stderr
    assert not fake.requests_to("/agent/rtmp") and not fake.requests_to("/agent/stream/start")

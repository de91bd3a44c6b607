"""The go-live sequence end to end, in-process, against the fake platform and a real RTMP ingest."""

from __future__ import annotations

import io
import logging

import av
from PIL import Image

from tests.fakes.live_platform import LiveFakeRetake
from tests.fakes.retake_server import FakeAgent
from tests.ingest import wait_until
from tests.live.conftest import BOTTOM, TOP

SEQUENCE = [
    ("GET", "/agent/verification-status"),
    ("GET", "/skill.json"),
    ("POST", "/agent/rtmp"),
    ("POST", "/agent/stream/start"),
    ("GET", "/agent/stream/status"),
    ("POST", "/agent/update-thumbnail"),
    ("POST", "/agent/stream/chat/send"),
    ("GET", "/agent/stream/comments"),
    ("POST", "/agent/stream/stop"),
]


def first_index(fake: LiveFakeRetake, method: str, path: str, pred=lambda r: True) -> int:
    for i, r in enumerate(fake.requests):
        if r.method == method and r.api_path == path and pred(r):
            return i
    raise AssertionError(f"no {method} {path} matching")


def said_live(r) -> bool:
    return r.response is not None and isinstance(r.response.body, dict) and r.response.body.get("is_live") is True


def test_full_sequence_in_order_with_thumbnail_after_live_and_clean_stop(fake, agent: FakeAgent, start_show, caplog,
                                                                         store):
    caplog.set_level(logging.DEBUG)
    running = start_show(opening_message="hello chat")
    assert wait_until(lambda: len(fake.requests_to("/agent/stream/comments")) >= 2, 30), running.out.getvalue()
    assert running.stop() == 0

    # The documented order: every step's first request comes after the previous step's.
    firsts = [first_index(fake, m, p) for m, p in SEQUENCE[:4]]
    live_at = first_index(fake, "GET", "/agent/stream/status", said_live)
    firsts += [live_at] + [first_index(fake, m, p) for m, p in SEQUENCE[5:]]
    assert firsts == sorted(firsts), list(zip(SEQUENCE, firsts))
    # No thumbnail at all before the platform said is_live.
    assert all(r.api_path != "/agent/update-thumbnail" for r in fake.requests[:live_at])

    # The thumbnail is a JPEG of the real frame (two-tone background, 1280x720).
    _, ctype, jpeg = agent.thumbnails[0]
    assert ctype == "image/jpeg"
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG" and image.size == (1280, 720)
    assert all(abs(a - b) < 12 for a, b in zip(image.getpixel((20, 20)), TOP))
    assert all(abs(a - b) < 12 for a, b in zip(image.getpixel((20, 700)), BOTTOM))

    # Opening chat went to our own stream; stop ended the session.
    chat = fake.requests_to("/agent/stream/chat/send")[0].json()
    assert chat["message"] == "hello chat" and chat["destination_user_id"] == agent.user_db_id
    assert not agent.session_active
    # The token address the platform assigned on this first stream was saved with the credentials.
    assert store.load().token_address == agent.token_address != ""

    # The operator saw the stream URL, viewers and a share message, then the final stats.
    out = running.out.getvalue()
    assert "https://retake.tv/LiveAgent" in out and "Viewers: 0" in out and "share the stream link" in out
    assert "LIVE after" in out
    final = out.strip().splitlines()[-1]
    assert "stream ended (stop requested)" in final and "frames rendered" in final and "reconnects " in final

    # The publish reached the ingest and the recording is playable.
    ingest = fake.current_ingest
    assert wait_until(ingest.left.is_set, 10)
    ingest.stop()
    with av.open(str(ingest.recording_path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 30

    # Neither the key nor the token appears in anything the show printed or logged.
    text = out + caplog.text
    for secret in fake.secrets():
        assert secret not in text

"""Every agent endpoint against the loopback fake platform: typed results and what went over the wire."""

from __future__ import annotations

import pytest

from streamer.platform import (
    NoActiveSessionError,
    RetakeClient,
    RtmpCredentials,
    StreamStart,
)

WALLET = "So11111111111111111111111111111111111111112"


def test_register_sends_document_fields_without_auth(fake, fast_retry):
    with RetakeClient(fake.base_url, retry=fast_retry) as client:
        reg = client.register("NewAgent", "does things", "https://example.com/a.png", WALLET, "NEW")
    sent = fake.requests_to("/agent/register")[0]
    assert sent.json() == {"agent_name": "NewAgent", "agent_description": "does things",
                           "image_url": "https://example.com/a.png", "wallet_address": WALLET, "ticker": "NEW"}
    assert sent.authorization is None
    stored = next(a for a in fake.agents.values() if a.name == "NewAgent")
    assert reg.access_token == stored.access_token and reg.user_db_id == stored.user_db_id
    assert reg.agent_id == stored.agent_id and reg.token_address is None
    assert stored.access_token not in repr(reg)


def test_verification_flow(client, fake, agent):
    assert client.verification_status().verified is False
    prompt = client.prepare_verify()
    assert prompt.message == agent.verification_message and "@retakedottv" in prompt.message
    url = "https://x.com/operator/status/1234567890"
    fake.tweets[url] = f"hello {prompt.message}"
    assert client.verify(url).verified is True
    assert fake.requests_to("/agent/verify")[0].json() == {"tweet_url": url}
    assert client.verification_status().verified is True
    for request in fake.requests:
        assert request.authorization == f"Bearer {agent.access_token}"


def test_rtmp_returns_fresh_keys_hidden_in_repr(client, agent):
    first = client.rtmp()
    assert isinstance(first, RtmpCredentials) and first.key == agent.rtmp_key
    second = client.rtmp()
    assert second.key != first.key  # never reuse old keys
    assert second.publish_url == f"rtmp://127.0.0.1:1935/live/{second.key}"
    for shown in (repr(second), str(second), second.redacted_publish_url):
        assert second.key not in shown and second.key[:4] in shown


def test_stream_start_status_stop(client, fake, agent):
    start = client.stream_start()
    assert isinstance(start, StreamStart) and start.success
    assert start.token is not None and start.token.token_address == agent.token_address
    assert start.token.ticker == "TST"
    status = client.stream_status()
    assert status.is_live is False and status.user_db_id == agent.user_db_id  # no publisher yet
    agent.publisher_connected = True
    agent.viewers = 7
    status = client.stream_status()
    assert status.is_live is True and status.viewers == 7 and status.token_address == agent.token_address
    stopped = client.stream_stop()
    assert stopped.status == "stopped" and stopped.viewers == 7 and stopped.duration_seconds is not None


def test_stop_without_session_is_no_active_session(client):
    with pytest.raises(NoActiveSessionError) as err:
        client.stream_stop()
    assert err.value.status_code == 409
    assert "stream/start" in str(err.value)  # says what to do


def test_update_thumbnail_multipart(client, agent):
    jpeg = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"
    result = client.update_thumbnail(jpeg)
    assert result.thumbnail_url == "https://cdn.fake/thumbs/1.jpg"
    assert agent.thumbnails == [("thumbnail.jpg", "image/jpeg", jpeg)]
    client.update_thumbnail(b"\x89PNG...", filename="t.png", content_type="image/png")
    assert agent.thumbnails[1][:2] == ("t.png", "image/png")


def test_chat_send_then_comments(client, fake, agent):
    result = client.chat_send("I'm live. What should we explore today?", agent.user_db_id)
    assert result.message_id is not None
    body = fake.requests_to("/agent/stream/chat/send")[0].json()
    assert body == {"message": "I'm live. What should we explore today?",
                    "destination_user_id": agent.user_db_id, "access_token": agent.access_token}
    comments = client.comments(agent.user_db_id, limit=10)
    assert [c.text for c in comments] == ["I'm live. What should we explore today?"]
    assert comments[0].id == result.message_id and comments[0].author_name == "TestAgent"
    sent = fake.requests_to("/agent/stream/comments")[0]
    assert sent.query == {"userDbId": [agent.user_db_id], "limit": ["10"]}  # no beforeId when not given
    assert agent.access_token not in sent.path and not any(agent.access_token in v for vs in sent.query.values()
                                                           for v in vs)

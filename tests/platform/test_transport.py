"""Retries, timeouts, redirects and error mapping, against real loopback servers."""

from __future__ import annotations

import socket

import pytest

from streamer.platform import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RedirectRefusedError,
    ResponseFormatError,
    RetakeClient,
    RetakeTimeoutError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from tests.fakes.retake_server import Canned, FakeRetake


def test_500_burst_then_success_is_retried_with_bounded_backoff(client, fake, sleeps):
    fake.fail("GET", "/agent/stream/status", count=3)
    assert client.stream_status().is_live is False
    assert len(fake.requests_to("/agent/stream/status")) == 4
    # equal jitter: each wait lies in [cap/2, cap] with cap = base * 2**n, capped at max_delay
    assert len(sleeps) == 3
    for n, pause in enumerate(sleeps):
        cap = min(4.0, 0.5 * 2**n)
        assert cap / 2 <= pause <= cap


def test_500_burst_longer_than_the_budget_raises_server_error(client, fake):
    fake.fail("GET", "/agent/verification-status", count=10)
    with pytest.raises(ServerError) as err:
        client.verification_status()
    assert err.value.status_code == 500 and "retried" in str(err.value)
    assert len(fake.requests_to("/agent/verification-status")) == 4  # bounded


def test_backoff_is_capped_and_jittered():
    policy = RetryPolicy(base_delay=1.0, max_delay=3.0, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(5)] == [1.0, 2.0, 3.0, 3.0, 3.0]
    low = RetryPolicy(base_delay=1.0, max_delay=3.0, random=lambda: 0.0)
    assert [low.delay(n) for n in range(3)] == [0.5, 1.0, 1.5]


@pytest.mark.parametrize("method,path,call", [
    ("POST", "/agent/stream/start", lambda c, a: c.stream_start()),
    ("POST", "/agent/stream/chat/send", lambda c, a: c.chat_send("hi", a.user_db_id)),
    ("POST", "/agent/register", lambda c, a: c.register("X", "d", "https://e.com/a.png",
                                                        "So11111111111111111111111111111111111111112", "X")),
])
def test_creating_posts_are_not_retried_after_a_5xx(client, fake, agent, method, path, call):
    fake.fail(method, path, count=1)
    with pytest.raises(ServerError):
        call(client, agent)
    assert len(fake.requests_to(path)) == 1


def test_401_is_never_retried(fake, fast_retry, sleeps):
    with RetakeClient(fake.base_url, "rtk_wrong_token_123456", retry=fast_retry) as client:
        with pytest.raises(AuthenticationError) as err:
            client.stream_status()
    assert len(fake.requests_to("/agent/stream/status")) == 1 and sleeps == []
    message = str(err.value)
    assert "401" in message and "RETAKE_ACCESS_TOKEN" in message
    assert "rtk_wrong_token_123456" not in message


def test_400_and_404_map_to_their_types(client, fake):
    fake.script("POST", "/agent/register", Canned(400, {"error": "Agent name already taken"}))
    with pytest.raises(BadRequestError, match="Agent name already taken.*choose another"):
        client.register("Taken", "d", "https://e.com/a.png", "So11111111111111111111111111111111111111112", "T")
    with pytest.raises(NotFoundError, match="404"):
        client.comments("no_such_user")


def test_slow_response_hits_the_timeout(fake, agent):
    fake.script("GET", "/agent/stream/status", Canned(200, {"is_live": True}, delay=3.0))
    with RetakeClient(fake.base_url, agent.access_token, timeout=0.2, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(RetakeTimeoutError, match="no answer within 0.2s"):
            client.stream_status()


def test_slow_idempotent_call_is_retried_after_a_timeout(fake, agent, sleeps):
    fake.script("GET", "/agent/stream/status", Canned(200, {"is_live": True}, delay=3.0))
    retry = RetryPolicy(attempts=2, sleep=sleeps.append)
    with RetakeClient(fake.base_url, agent.access_token, timeout=0.2, retry=retry) as client:
        assert client.stream_status().is_live is False  # second try got the normal answer
    assert len(sleeps) == 1


def test_slow_creating_post_is_not_resent_after_a_timeout(fake, agent):
    fake.script("POST", "/agent/stream/start", Canned(200, {"success": True}, delay=3.0))
    with RetakeClient(fake.base_url, agent.access_token, timeout=0.2) as client:
        with pytest.raises(RetakeTimeoutError):
            client.stream_start()
    assert len(fake.requests_to("/agent/stream/start")) == 1


def test_connection_refused_is_retried_then_reported(sleeps):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    retry = RetryPolicy(attempts=3, sleep=sleeps.append)
    with RetakeClient(f"http://127.0.0.1:{port}/api/v1", "rtk_secret_abcdef", retry=retry) as client:
        with pytest.raises(TransportError, match=f"cannot connect to 127.0.0.1:{port}") as err:
            client.stream_start()  # even a creating POST: the request never left
    assert len(sleeps) == 2 and "rtk_secret_abcdef" not in str(err.value)


def test_redirect_to_another_loopback_host_is_not_followed(client, fake, agent):
    with FakeRetake(host="127.0.0.2") as other:
        fake.redirect("GET", "/agent/stream/status", f"{other.base_url}/agent/stream/status")
        fake.redirect("POST", "/agent/stream/chat/send", f"{other.base_url}/agent/stream/chat/send", status=307)
        with pytest.raises(RedirectRefusedError) as err:
            client.stream_status()
        assert err.value.location_host == f"127.0.0.2:{other.port}"
        assert "127.0.0.2" in str(err.value) and agent.access_token not in str(err.value)
        with pytest.raises(RedirectRefusedError):
            client.chat_send("hello", agent.user_db_id)
        assert other.requests == []  # the token never reached the other host


def test_redirect_refused_even_to_the_same_host(client, fake):
    fake.redirect("GET", "/users/live/", "/api/v1/users/live")
    with pytest.raises(RedirectRefusedError, match=f"127.0.0.1:{fake.port}"):
        client.live_users()


def test_non_json_body_is_a_clear_error(client, fake, agent):
    fake.script("GET", "/agent/stream/status", Canned(200, "<html><body>Welcome to retake</body></html>"))
    with pytest.raises(ResponseFormatError, match="not JSON.*text/html.*--api-url"):
        client.stream_status()


def test_non_json_error_body_is_summarised_and_5xx_retried(client, fake):
    fake.script("GET", "/tokens/top/", *[Canned(502, "<html>\n  Bad   gateway\n</html>")] * 4)
    with pytest.raises(ServerError, match="HTTP 502: <html> Bad gateway </html>"):
        client.top_tokens()
    fake.script("GET", "/tokens/top/", Canned(503, "down"), Canned(200, []))
    assert client.top_tokens() == []


def test_missing_required_field_is_named(client, fake):
    fake.script("POST", "/agent/rtmp", Canned(200, {"url": "rtmps://x/live"}))
    with pytest.raises(ResponseFormatError, match="'key'"):
        client.rtmp()


def test_error_detail_echoing_the_token_is_redacted(client, fake, agent):
    fake.script("GET", "/agent/stream/status", Canned(400, {"error": f"bad token {agent.access_token}"}))
    with pytest.raises(BadRequestError) as err:
        client.stream_status()
    assert agent.access_token not in str(err.value) and agent.access_token[:4] in str(err.value)


def test_multipart_upload_is_resent_whole_after_a_5xx(client, fake, agent, sleeps):
    fake.fail("POST", "/agent/update-thumbnail", count=2)
    jpeg = b"\xff\xd8" + bytes(range(256)) * 40 + b"\xff\xd9"
    assert client.update_thumbnail(jpeg).thumbnail_url
    assert agent.thumbnails == [("thumbnail.jpg", "image/jpeg", jpeg)] and len(sleeps) == 2


def test_no_secret_in_any_log_record(client, fake, agent, caplog):
    """Debug logging of every library involved (httpx, httpcore, ours) through retries and failures."""
    import logging

    with caplog.at_level(logging.DEBUG):
        fake.fail("POST", "/agent/rtmp", count=2)
        keys = client.rtmp()
        fake.script("GET", "/agent/stream/status", Canned(401, {"error": f"token {agent.access_token} bad"}))
        with pytest.raises(AuthenticationError):
            client.stream_status()
        client.chat_send("hello", agent.user_db_id)
        fake.script("GET", "/agent/stream/comments", Canned(200, f"<html>{agent.access_token}</html>"))
        with pytest.raises(ResponseFormatError) as err:
            client.comments(agent.user_db_id)
    assert agent.access_token not in str(err.value)
    assert caplog.records, "expected the libraries to log something at DEBUG"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "retrying" in logged
    assert agent.access_token not in logged and keys.key not in logged

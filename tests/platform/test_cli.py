"""The real commands, in-process and as a `python -m streamer` subprocess, with every output scanned for secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import streamer
from streamer import platform_cli
from streamer.platform import CredentialStore

WALLET = "So11111111111111111111111111111111111111112"
ALL_COMMANDS = ["register", "verify", "status", "stop", "chat", "chat send", "comments", "live", "search",
                "streamer", "tokens", "token", "trades", "chat-history", "sessions"]


class Runner:
    """Runs platform_cli.main in-process, keeps every byte printed so the secret scan sees all of it."""

    def __init__(self, capsys, fake) -> None:
        self.capsys, self.fake, self.transcript = capsys, fake, []

    def __call__(self, *argv: str, api: bool = True) -> tuple[int, str, str]:
        args = list(argv) + (["--api-url", self.fake.base_url] if api else [])
        code = platform_cli.main(args)
        out, err = self.capsys.readouterr()
        self.transcript.append(out + err)
        return code, out, err


@pytest.fixture
def run(capsys, fake):
    return Runner(capsys, fake)


@pytest.fixture
def registered(run, fake):
    code, out, err = run("register", "--name", "CliAgent", "--description", "tests things", "--image-url",
                         "https://example.com/a.png", "--wallet", WALLET, "--ticker", "CLI")
    assert code == 0, err
    return next(a for a in fake.agents.values() if a.name == "CliAgent")


def _public_data(fake):
    fake.public_agents[:] = [
        {"user_id": "u-alpha", "username": "alpha", "ticker": "ALP", "token_address": "TokA", "market_cap": 5000.0,
         "live": True, "title": "alpha live", "recorded": True},
        {"user_id": "u-beta", "username": "beta", "ticker": "BET", "token_address": "TokB", "market_cap": 9000.0,
         "scheduled": True},
    ]
    fake.chats["u-alpha"] = []
    fake.add_comment("u-alpha", "first!", username="fan")
    fake.trades[:] = [{"address": "TokA", "action": "buy", "usdAmount": 12.5, "tokenTicker": "ALP",
                       "timestamp": "2025-02-01T00:00:00Z"}]


def test_register_saves_credentials_and_prints_no_token(run, registered, isolated_env):
    path = isolated_env / "retake" / "credentials.json"
    data = json.loads(path.read_text())
    assert data["access_token"] == registered.access_token and data["userDbId"] == registered.user_db_id
    assert data["agent_name"] == "CliAgent" and data["ticker"] == "CLI" and data["wallet_address"] == WALLET
    assert "CliAgent" in run.transcript[-1] and str(path) in run.transcript[-1]
    assert registered.access_token not in "".join(run.transcript)


def test_register_refuses_to_replace_an_existing_agent(run, registered, fake):
    code, _, err = run("register", "--name", "Other", "--description", "d", "--image-url",
                       "https://example.com/a.png", "--wallet", WALLET, "--ticker", "OTH")
    assert code == 1 and "already registered as CliAgent" in err
    assert fake.requests_to("/agent/register") and len(fake.requests_to("/agent/register")) == 1


@pytest.mark.parametrize("flag,value,expect", [
    ("--ticker", "", "ticker"), ("--ticker", "ELEVENCHARS", "ticker"), ("--ticker", "A B", "ticker"),
    ("--wallet", "not-base58!", "base58"), ("--wallet", "1111", "32"),
    ("--wallet", "3yZe7d" + "1" * 10, "32"),
    ("--image-url", "ftp://example.com/a.png", "image URL"), ("--image-url", "example.com/a.png", "image URL"),
    ("--name", "", "agent name"), ("--name", "has space", "agent name"), ("--description", "  ", "description"),
])
def test_register_validates_every_input_before_calling(run, fake, flag, value, expect):
    args = {"--name": "Valid", "--description": "d", "--image-url": "https://e.com/a.png", "--wallet": WALLET,
            "--ticker": "OK"}
    args[flag] = value
    code, out, err = run("register", *[x for kv in args.items() for x in kv])
    assert code == 2 and err.startswith("error: ") and expect in err and err.count("\n") == 1
    assert fake.requests == []  # nothing was sent
    assert not CredentialStore().path.exists()


@pytest.mark.parametrize("url", [
    "https://example.com/user/status/1234567890", "https://x.com/user", "https://x.com/user/status/abc",
    "ftp://x.com/user/status/1234567890", "https://x.com.evil.com/u/status/1234567890",
    "https://twitter.com/username/status/123...", "not a url",
])
def test_verify_rejects_non_status_urls_before_calling(run, registered, fake, url):
    before = len(fake.requests)
    code, _, err = run("verify", "--tweet-url", url)
    assert code == 2 and "not a Twitter/X status URL" in err
    assert len(fake.requests) == before


def test_verify_flow_via_commands(run, registered, fake):
    code, out, _ = run("verify")
    assert code == 0 and registered.verification_message in out and "--tweet-url" in out
    url = "https://twitter.com/operator/status/1234567890"
    fake.tweets[url] = registered.verification_message
    assert run("verify", "--status", "--json")[1] and json.loads(run.transcript[-1]) == {"verified": False}
    code, out, _ = run("verify", "--tweet-url", url)
    assert code == 0 and "Verified" in out
    code, out, _ = run("verify", "--status")
    assert code == 0 and "verified  yes" in out


def test_verify_with_wrong_tweet_is_a_one_line_failure(run, registered, fake):
    run("verify")
    url = "https://x.com/operator/status/1234567890"
    fake.tweets[url] = "something else"
    code, _, err = run("verify", "--tweet-url", url)
    assert code == 1 and "code" in err and err.count("\n") == 1


def test_account_commands_and_secret_scan(run, registered, fake, isolated_env):
    """status, chat send, comments, stop — then scan ALL output for the token and the RTMP key."""
    from streamer.platform import RetakeClient

    with RetakeClient(fake.base_url, registered.access_token) as client:
        rtmp = client.rtmp()
        client.stream_start()
    registered.publisher_connected = True
    code, out, err = run("status")
    assert code == 0 and "live" in out and "yes" in out and "2.1.2" in out and err == ""
    fake.skill_version = "2.2.0"
    code, out, err = run("status", "--json")
    assert code == 0 and json.loads(out)["is_live"] is True and "changed from 2.1.2 to 2.2.0" in err
    code, out, _ = run("chat", "send", "hello viewers")
    assert code == 0
    assert fake.chats[registered.user_db_id][-1]["text"] == "hello viewers"
    fake.add_comment(registered.user_db_id, "nice stream", username="fan1")
    code, out, _ = run("comments", "--limit", "5")
    assert code == 0 and "nice stream" in out and "fan1" in out and "hello viewers" in out
    code, out, _ = run("comments", "--json")
    assert [c["text"] for c in json.loads(out)] == ["hello viewers", "nice stream"]
    code, out, _ = run("stop")
    assert code == 0 and "stopped" in out
    code, _, err = run("stop")
    assert code == 1 and "stream/start" in err and err.count("\n") == 1
    everything = "".join(run.transcript)
    for secret in (registered.access_token, rtmp.key, registered.rtmp_key):
        assert secret not in everything
    assert registered.access_token[len("rtk_"):len("rtk_") + 8] not in everything  # not even a long prefix


def test_chat_send_to_another_streamer_by_name(run, registered, fake):
    _public_data(fake)
    code, out, _ = run("chat", "send", "hi alpha", "--to", "alpha")
    assert code == 0 and "u-alpha" in out
    assert fake.requests_to("/agent/stream/chat/send")[0].json()["destination_user_id"] == "u-alpha"


def test_discovery_commands(run, fake):
    _public_data(fake)
    code, out, _ = run("live")
    assert code == 0 and "alpha" in out and "beta" not in out and "USERNAME" in out
    assert run("search", "bet")[0] == 0 and "beta" in run.transcript[-1]
    code, out, _ = run("streamer", "alpha")
    assert code == 0 and "u-alpha" in out and "sess_u-alpha" in out
    code, out, _ = run("tokens", "top", "--json")
    assert [t["ticker"] for t in json.loads(out)] == ["BET", "ALP"]
    code, out, _ = run("tokens", "trending")
    assert code == 0 and "24H GROWTH" in out and "ALP" in out
    code, out, _ = run("token", "TokA")
    assert code == 0 and "5,000.00" in out and "24h" in out
    code, out, _ = run("trades", "--token", "TokA")
    assert code == 0 and "buy" in out and "12.50" in out
    assert fake.requests_to("/trades/recent/TokA/")
    code, out, _ = run("chat-history", "alpha")
    assert code == 0 and "first!" in out and "fan" in out
    code, out, _ = run("sessions", "active")
    assert code == 0 and "active_u-alpha" in out
    code, out, _ = run("sessions", "scheduled", "beta", "--json")
    assert [s["session_id"] for s in json.loads(out)] == ["scheduled_u-beta"]
    assert fake.requests_to("/sessions/scheduled/u-beta/")
    code, _, err = run("streamer", "nobody")
    assert code == 1 and "404" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_help_on_every_command(run, command):
    code, out, _ = run(*command.split(), "--help", api=False)
    assert code == 0 and "usage: python -m streamer" in out and "--help" in out


def test_usage_error_exits_2(run):
    assert run("tokens", "sideways", api=False)[0] == 2


def test_foreign_api_url_is_refused_before_any_request(run, monkeypatch, fake):
    code, _, err = run("live", "--api-url", "https://retake.tv.evil.example/api/v1", api=False)
    assert code == 2 and "refusing API host" in err
    monkeypatch.setenv("RETAKE_API_URL", "http://retake.tv/api/v1")
    code, _, err = run("live", api=False)
    assert code == 2 and "plain http" in err
    monkeypatch.setenv("RETAKE_API_URL", fake.base_url)  # the env var is honoured
    assert run("live", api=False)[0] == 0 and fake.requests_to("/users/live/")


def test_subprocess_python_m_streamer(fake, isolated_env, tmp_path):
    """The real entry point in a child process: env token beats the file, nothing secret printed."""
    agent = fake.add_agent("SubAgent")
    store = CredentialStore(isolated_env / "retake" / "credentials.json")
    from streamer.platform import Credentials

    store.save(Credentials(access_token="rtk_stale_file_token_0000", agent_name="SubAgent",
                           user_db_id=agent.user_db_id))
    fake.add_comment(agent.user_db_id, "from the subprocess test", username="viewerX")
    package_root = str(Path(streamer.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": package_root, "XDG_CONFIG_HOME": str(isolated_env),
           "HOME": str(tmp_path / "home"), "RETAKE_ACCESS_TOKEN": agent.access_token,
           "RETAKE_API_URL": fake.base_url}
    done = subprocess.run([sys.executable, "-m", "streamer", "comments", "--limit", "3"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "from the subprocess test" in done.stdout
    assert fake.requests_to("/agent/stream/comments")[0].authorization == f"Bearer {agent.access_token}"
    failed = subprocess.run([sys.executable, "-m", "streamer", "status"],
                            env={**env, "RETAKE_ACCESS_TOKEN": "rtk_wrong_but_secret_1234"},
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert failed.returncode == 1 and failed.stderr.startswith("error: ") and "401" in failed.stderr
    for text in (done.stdout, done.stderr, failed.stdout, failed.stderr):
        for secret in (agent.access_token, "rtk_wrong_but_secret_1234", "rtk_stale_file_token_0000"):
            assert secret not in text


def test_register_with_a_corrupt_or_unwritable_store_creates_no_account(run, fake, isolated_env):
    store = CredentialStore()
    store.directory.mkdir(parents=True)
    store.path.write_text("{not json")
    argv = ["register", "--name", "Valid", "--description", "d", "--image-url", "https://e.com/a.png",
            "--wallet", WALLET, "--ticker", "OK"]
    code, _, err = run(*argv)
    assert code == 1 and str(store.path) in err and "not valid JSON" in err
    assert store.path.read_text() == "{not json" and fake.requests == []
    store.path.unlink()
    store.directory.rmdir()
    isolated_env.mkdir(exist_ok=True)
    (isolated_env / "retake").write_text("a file where the directory should be")
    code, _, err = run(*argv)
    assert code == 1 and "cannot create" in err and fake.requests == []

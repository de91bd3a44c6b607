"""Base-URL host policy and operator-input validation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from streamer.platform import DEFAULT_API_URL, RetakeClient, UnsafeBaseURLError, resolve_api_url, validate_api_url
from streamer.platform.errors import InputValidationError
from streamer.platform.urls import skill_json_url
from streamer.platform.validation import base58_decode, validate_tweet_url, validate_wallet


@pytest.mark.parametrize("url", [
    "https://retake.tv/api/v1", "https://api.retake.tv/api/v1/", "http://127.0.0.1:8080/api/v1",
    "http://127.0.0.2:1/api/v1", "http://localhost:9/api/v1", "http://[::1]:9/api/v1",
])
def test_allowed_base_urls(url):
    assert validate_api_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url,why", [
    ("https://evil.example/api/v1", "refusing API host"),
    ("https://retake.tv.evil.example/api/v1", "refusing API host"),
    ("https://notretake.tv/api/v1", "refusing API host"),
    ("http://retake.tv/api/v1", "plain http"),
    ("ftp://retake.tv/api/v1", "not an http"),
    ("https://user:pw@retake.tv/api/v1", "user info"),
    ("https://retake.tv/api/v1?x=1", "query"),
    ("retake.tv/api/v1", "not an http"),
    ("http://10.0.0.1/api/v1", "refusing API host"),
])
def test_refused_base_urls(url, why):
    with pytest.raises(UnsafeBaseURLError, match=why):
        validate_api_url(url)
    with pytest.raises(UnsafeBaseURLError):
        RetakeClient(url, "rtk_token")  # refused at construction: no request can be sent


def test_resolution_order():
    assert resolve_api_url(None, {}) == DEFAULT_API_URL
    assert resolve_api_url(None, {"RETAKE_API_URL": "http://127.0.0.1:5/api/v1"}) == "http://127.0.0.1:5/api/v1"
    assert resolve_api_url("http://localhost:6/api/v1",
                           {"RETAKE_API_URL": "http://127.0.0.1:5/api/v1"}) == "http://localhost:6/api/v1"


def test_skill_json_lives_at_the_host_root():
    assert skill_json_url(DEFAULT_API_URL) == "https://retake.tv/skill.json"
    assert skill_json_url("http://127.0.0.1:8/api/v1") == "http://127.0.0.1:8/skill.json"


def test_base58_wallet():
    assert base58_decode("1") == b"\x00"
    assert len(base58_decode("So11111111111111111111111111111111111111112")) == 32
    assert validate_wallet(" So11111111111111111111111111111111111111112 ") == \
        "So11111111111111111111111111111111111111112"
    with pytest.raises(InputValidationError, match="33 bytes"):
        validate_wallet("z" * 45)


@pytest.mark.parametrize("url", [
    "https://x.com/user_1/status/1234567890", "https://twitter.com/u/status/1234567890/",
    "http://mobile.twitter.com/u/status/1234567890", "https://x.com/i/web/status/1234567890",
])
def test_accepted_tweet_urls(url):
    assert validate_tweet_url(url) == url


def test_platform_package_never_imports_media_or_scene():
    code = ("import sys, streamer.platform, streamer.platform_cli;"
            "bad=[m for m in sys.modules if m.startswith(('streamer.media','streamer.scene'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    import streamer, pathlib
    root = str(pathlib.Path(streamer.__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr

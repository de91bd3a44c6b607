"""skill.json version check: from the platform host only, cached beside the credentials, no redirects."""

from __future__ import annotations

import json
import logging

import pytest

from streamer.platform import CredentialStore, RedirectRefusedError, check_skill_version
from tests.fakes.retake_server import FakeRetake


def test_first_check_compares_with_the_documented_version(client, fake, isolated_env):
    store = CredentialStore()
    result = check_skill_version(client.http, store)
    assert (result.current, result.cached, result.changed) == ("2.1.2", None, False)
    assert json.loads((isolated_env / "retake" / "skill-version.json").read_text())["version"] == "2.1.2"
    sent = fake.requests_to("/skill.json")[0]
    assert sent.path == "/skill.json" and sent.authorization is None  # host root, no token


def test_a_changed_version_warns(client, fake, caplog):
    store = CredentialStore()
    check_skill_version(client.http, store)
    fake.skill_version = "2.2.0"
    with caplog.at_level(logging.WARNING, logger="streamer.platform.skill_check"):
        result = check_skill_version(client.http, store)
    assert result.changed and result.cached == "2.1.2" and "2.1.2 to 2.2.0" in result.warning
    assert "re-read skill.md" in caplog.text
    assert not check_skill_version(client.http, store).changed  # now cached


def test_redirect_to_another_host_is_not_followed(client, fake):
    with FakeRetake(host="127.0.0.2") as other:
        fake.redirect("GET", "/skill.json", f"{other.origin}/skill.json")
        with pytest.raises(RedirectRefusedError, match="127.0.0.2"):
            check_skill_version(client.http, CredentialStore())
        assert other.requests == []

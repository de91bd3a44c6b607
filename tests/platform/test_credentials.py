"""Credentials file: location, permissions, atomic writes, corrupt files, env precedence."""

from __future__ import annotations

import json
import os
import stat

import pytest

from streamer.platform import (
    Credentials,
    CredentialsError,
    CredentialStore,
    RetakeClient,
    default_credentials_path,
    save_stream_start_token,
)

CREDS = Credentials(access_token="rtk_file_token_abcdef", agent_name="A", agent_id="agent_1",
                    user_db_id="user_1", wallet_address="W", ticker="TCK")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_path_honours_xdg_config_home(isolated_env, tmp_path):
    assert CredentialStore().path == isolated_env / "retake" / "credentials.json"
    assert default_credentials_path({"XDG_CONFIG_HOME": "relative/ignored"}).parts[-3:] == (
        ".config", "retake", "credentials.json")


def test_save_uses_document_field_names_and_strict_modes(isolated_env):
    old = os.umask(0)  # the modes must not depend on a friendly umask
    try:
        store = CredentialStore()
        store.save(CREDS)
    finally:
        os.umask(old)
    assert _mode(store.path) == 0o600 and _mode(store.directory) == 0o700
    assert json.loads(store.path.read_text()) == {
        "access_token": "rtk_file_token_abcdef", "agent_name": "A", "agent_id": "agent_1", "userDbId": "user_1",
        "wallet_address": "W", "ticker": "TCK", "token_address": "", "token_ticker": ""}
    assert store.load() == CREDS


def test_existing_loose_directory_is_tightened(isolated_env):
    directory = isolated_env / "retake"
    directory.mkdir(parents=True, mode=0o755)
    os.chmod(directory, 0o755)
    CredentialStore().save(CREDS)
    assert _mode(directory) == 0o700


def test_write_is_atomic_a_crash_keeps_the_old_file(isolated_env, monkeypatch):
    store = CredentialStore()
    store.save(CREDS)
    before = store.path.read_bytes()

    def crash(src, dst):
        raise OSError("disk died mid-rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.update(ticker="NEW")
    monkeypatch.undo()
    assert store.path.read_bytes() == before  # the old file, whole
    assert sorted(p.name for p in store.directory.iterdir()) == ["credentials.json"]  # no temp left behind


def test_corrupt_file_is_reported_and_never_overwritten(isolated_env):
    store = CredentialStore()
    store.directory.mkdir(parents=True)
    store.path.write_text('{"access_token": "rtk_half')
    with pytest.raises(CredentialsError, match=f"{store.path}.*not valid JSON"):
        store.load()
    with pytest.raises(CredentialsError, match="left untouched"):
        store.save(CREDS)
    with pytest.raises(CredentialsError):
        store.load_effective()
    assert store.path.read_text() == '{"access_token": "rtk_half'
    store.path.write_text("[1, 2]")
    with pytest.raises(CredentialsError, match="JSON object"):
        store.load()


def test_unreadable_file_names_the_file(isolated_env):
    store = CredentialStore()
    store.path.mkdir(parents=True)  # unreadable as a file even for root (tests may run as root)
    with pytest.raises(CredentialsError, match=f"cannot read credentials file {store.path}"):
        store.load()
    with pytest.raises(CredentialsError):
        store.save(CREDS)
    assert store.path.is_dir()


def test_env_token_beats_the_file(isolated_env, monkeypatch):
    store = CredentialStore()
    store.save(CREDS)
    assert store.load_effective().access_token == "rtk_file_token_abcdef"
    monkeypatch.setenv("RETAKE_ACCESS_TOKEN", "rtk_env_token_123456")
    effective = CredentialStore().load_effective()
    assert effective.access_token == "rtk_env_token_123456" and effective.user_db_id == "user_1"


def test_env_token_alone_is_enough(isolated_env, monkeypatch):
    monkeypatch.setenv("RETAKE_ACCESS_TOKEN", "rtk_env_only_123456")
    assert CredentialStore().load_effective().access_token == "rtk_env_only_123456"


def test_missing_credentials_say_what_to_do(isolated_env):
    with pytest.raises(CredentialsError, match="register"):
        CredentialStore().load_effective()


def test_client_from_store_sends_the_env_token(fake, isolated_env, monkeypatch):
    agent = fake.add_agent("EnvAgent")
    CredentialStore().save(CREDS)  # the file's token is wrong for this fake
    monkeypatch.setenv("RETAKE_ACCESS_TOKEN", agent.access_token)
    with RetakeClient.from_store(api_url=fake.base_url) as client:
        client.verification_status()
    assert fake.requests[-1].authorization == f"Bearer {agent.access_token}"


def test_reprs_hide_the_token():
    assert "rtk_file_token_abcdef" not in repr(CREDS) and "rtk_" in repr(CREDS)
    assert "rtk_file_token_abcdef" not in repr(RetakeClient("http://127.0.0.1:1/api/v1", "rtk_file_token_abcdef"))


def test_unknown_fields_survive_a_rewrite(isolated_env):
    store = CredentialStore()
    store.directory.mkdir(parents=True)
    store.path.write_text(json.dumps({**CREDS.to_json(), "future_field": 7}))
    store.update(ticker="NEW")
    assert json.loads(store.path.read_text())["future_field"] == 7


def test_stream_start_token_is_saved(client, fake, agent, isolated_env):
    store = CredentialStore()
    store.save(Credentials(access_token=agent.access_token, agent_name=agent.name, user_db_id=agent.user_db_id,
                           ticker="TST"))
    start = client.stream_start()
    save_stream_start_token(store, start.token.token_address, start.token.ticker)
    saved = json.loads(store.path.read_text())
    assert saved["token_address"] == agent.token_address and saved["token_ticker"] == "TST"
    assert _mode(store.path) == 0o600

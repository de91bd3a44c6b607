"""The agent's credentials file: ``$XDG_CONFIG_HOME/retake/credentials.json``.

Written atomically (temp file in the same directory, fsync, rename) so a crash leaves either the old file or
the new one, never half of one. The directory is 0700 and the file 0600 because it holds the access token.
A corrupt file is reported (naming the file) and never silently overwritten: it may hold the only copy of
a token the platform will not issue again.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from streamer.platform.errors import CredentialsError
from streamer.redact import redact_secret

TOKEN_ENV = "RETAKE_ACCESS_TOKEN"
DIR_MODE = 0o700
FILE_MODE = 0o600

# Our attribute name -> the document's JSON field name.
_JSON_NAMES = {"user_db_id": "userDbId"}


@dataclass(frozen=True)
class Credentials:
    """The document's credentials fields. ``repr`` never shows the token."""

    access_token: str = field(default="", repr=False)
    agent_name: str = ""
    agent_id: str = ""
    user_db_id: str = ""
    wallet_address: str = ""
    ticker: str = ""
    token_address: str = ""
    token_ticker: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"Credentials(agent_name={self.agent_name!r}, user_db_id={self.user_db_id!r}, "
                f"access_token={redact_secret(self.access_token)!r})")

    def to_json(self) -> dict[str, Any]:
        data = dict(self.extra)  # keep fields a newer platform version added
        for name, value in asdict(self).items():
            if name != "extra":
                data[_JSON_NAMES.get(name, name)] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Credentials:
        known = {f.name: _JSON_NAMES.get(f.name, f.name) for f in fields(cls) if f.name != "extra"}
        values = {name: str(data.get(key) or "") for name, key in known.items()}
        extra = {k: v for k, v in data.items() if k not in known.values()}
        return cls(**values, extra=extra)


def default_credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/retake/credentials.json``, XDG's default being ``~/.config``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or ""
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "retake" / "credentials.json"


class CredentialStore:
    """Reads and writes one credentials file; knows the env-var precedence for the token."""

    def __init__(self, path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self.path = Path(path) if path is not None else default_credentials_path(self._environ)

    def __repr__(self) -> str:
        return f"CredentialStore(path={str(self.path)!r})"

    @property
    def directory(self) -> Path:
        return self.path.parent

    def load(self) -> Credentials | None:
        """The stored credentials, None when there is no file; :class:`CredentialsError` when it is bad."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialsError(
                f"cannot read credentials file {self.path}: {exc.strerror} — fix its permissions"
            ) from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise CredentialsError(
                f"credentials file {self.path} is not valid JSON (line {exc.lineno}) — repair it by hand or "
                "move it away; it was left untouched"
            ) from None
        if not isinstance(data, dict):
            raise CredentialsError(
                f"credentials file {self.path} should hold a JSON object — repair it or move it away; "
                "it was left untouched"
            )
        return Credentials.from_json(data)

    def load_effective(self) -> Credentials:
        """Stored credentials with ``RETAKE_ACCESS_TOKEN`` (if set) taking precedence over the file's token."""
        env_token = self._environ.get(TOKEN_ENV, "").strip()
        if env_token:
            stored = self.load()  # a corrupt file is still reported: it may be the only copy of the ids
            return replace(stored or Credentials(), access_token=env_token)
        stored = self.load()
        if stored is None:
            raise CredentialsError(
                f"no credentials: {self.path} does not exist and {TOKEN_ENV} is not set — "
                "run `python -m streamer register` first"
            )
        if not stored.access_token:
            raise CredentialsError(
                f"credentials file {self.path} has no access_token — set {TOKEN_ENV} or register again"
            )
        return stored

    def save(self, credentials: Credentials) -> None:
        """Atomically replace the file. Refuses to overwrite a file that cannot be read as credentials."""
        if self.path.exists():
            self.load()  # raises CredentialsError for a corrupt file instead of destroying it
        self._write_json(self.path, credentials.to_json())

    def update(self, **changes: str) -> Credentials:
        """Load, change some fields, save atomically; returns the new credentials."""
        current = self.load()
        if current is None:
            raise CredentialsError(f"cannot update {self.path}: it does not exist — register first")
        updated = replace(current, **changes)
        self._write_json(self.path, updated.to_json())
        return updated

    # Small state beside the credentials (the cached skill version lives here too).
    def read_sidecar(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.directory / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_sidecar(self, name: str, data: Mapping[str, Any]) -> None:
        self._write_json(self.directory / name, data)

    def ensure_writable(self) -> None:
        """Create the 0700 directory now and check it is writable, so a token the platform hands out once
        (register) can always be saved afterwards."""
        try:
            self._ensure_directory()
        except OSError as exc:
            raise CredentialsError(
                f"cannot create {self.directory}: {exc.strerror} — fix it before registering"
            ) from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise CredentialsError(f"{self.directory} is not writable — fix its permissions before registering")
        if self.path.exists():
            self.load()

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask and ignored for an existing directory: set it explicitly.
        os.chmod(self.directory, DIR_MODE)

    def _write_json(self, path: Path, data: Mapping[str, Any]) -> None:
        self._ensure_directory()
        payload = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
        # mkstemp creates the file 0600 before anything is written into it.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)


def save_stream_start_token(store: CredentialStore, token_address: str | None,
                            token_ticker: str | None) -> Credentials | None:
    """After ``stream/start``: keep the token address and ticker the platform assigned (first stream).

    Does nothing (returns None) when the platform sent no address, or there is no credentials file (an
    env-only setup); otherwise returns the saved credentials.
    """
    if not token_address:
        return None
    current = store.load()
    if current is None:
        return None
    changes = {"token_address": token_address}
    if token_ticker:
        changes["token_ticker"] = token_ticker
    if all(getattr(current, k) == v for k, v in changes.items()):
        return current
    return store.update(**changes)
